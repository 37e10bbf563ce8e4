/**
 * The notebooks' code type-checks against the current library: every notebook's code cells, joined
 * in order (they share one scope in the kernel), are written beside the notebook and `deno check`ed.
 * Catches API drift without running the notebooks (tests/notebooks_test.ts runs them).
 */
import { assertEquals } from "./assert.ts";

const DIR = new URL("../notebooks/", import.meta.url).pathname;
const notebooks = [...Deno.readDirSync(DIR)].map((e) => e.name).filter((n) => n.endsWith(".ipynb")).sort();

for (const name of notebooks) {
  Deno.test(`notebooks/${name} type-checks`, async () => {
    const nb = JSON.parse(await Deno.readTextFile(`${DIR}${name}`));
    const code = nb.cells
      .filter((c: { cell_type: string }) => c.cell_type === "code")
      .map((c: { source: string[] | string }, i: number) =>
        `// ---- cell ${i + 1}\n${Array.isArray(c.source) ? c.source.join("") : c.source}`
      )
      .join("\n\n");
    const file = `${DIR}.typecheck-${name.replace(/\.ipynb$/, "")}.ts`;
    await Deno.writeTextFile(file, `${code}\nexport {};\n`);
    try {
      const out = await new Deno.Command(Deno.execPath(), { args: ["check", "--quiet", file], stderr: "piped" }).output();
      const errors = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, `deno check of ${name}'s code cells failed:\n${errors}`);
    } finally {
      await Deno.remove(file);
    }
  });
}
