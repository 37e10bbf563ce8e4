/**
 * The notebooks' code type-checks against the current library: every notebook's code cells, joined
 * in order (they share one scope in the kernel), are written beside the notebook and `deno check`ed.
 * Catches API drift without running the notebooks (tests/notebooks_test.ts runs them).
 */
import { assert, assertEquals } from "./assert.ts";

const DIR = new URL("../notebooks/", import.meta.url).pathname;
const notebooks = [...Deno.readDirSync(DIR)].map((e) => e.name).filter((n) => n.endsWith(".ipynb")).sort();

// One `deno check` over every notebook's file (the library graph is type-checked once, not once per
// notebook); a failure names the notebooks whose cells have errors.
Deno.test("every notebook's code cells type-check", async () => {
  const files = new Map<string, string>();
  for (const name of notebooks) {
    const nb = JSON.parse(await Deno.readTextFile(`${DIR}${name}`));
    const code = nb.cells
      .filter((c: { cell_type: string }) => c.cell_type === "code")
      .map((c: { source: string[] | string }, i: number) =>
        `// ---- cell ${i + 1}\n${Array.isArray(c.source) ? c.source.join("") : c.source}`
      )
      .join("\n\n");
    const file = `${DIR}.typecheck-${name.replace(/\.ipynb$/, "")}.ts`;
    await Deno.writeTextFile(file, `${code}\nexport {};\n`);
    files.set(name, file);
  }
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", ...files.values()],
      stderr: "piped",
    })
      .output();
    const errors = new TextDecoder().decode(out.stderr);
    const failing = [...files].filter(([, file]) => errors.includes(file.split("/").at(-1)!)).map(([name]) => name);
    assertEquals(
      out.code,
      0,
      `deno check of the notebooks' code cells failed (${failing.join(", ") || "?"}):\n${errors}`,
    );
  } finally {
    for (const file of files.values()) await Deno.remove(file);
  }
});

// The tutorial rules (README "Notebooks"): short cells, one setup call, no CLI code, a stated place in
// the reading order, and a closing "Try this" cell.
const MAX_CELL_LINES = 15;
for (const name of notebooks) {
  Deno.test(`notebooks/${name} follows the tutorial rules`, async () => {
    const nb = JSON.parse(await Deno.readTextFile(`${DIR}${name}`));
    const cells: { cell_type: string; source: string }[] = nb.cells.map((
      c: { cell_type: string; source: string[] | string },
    ) => ({
      cell_type: c.cell_type,
      source: Array.isArray(c.source) ? c.source.join("") : c.source,
    }));
    const code = cells.filter((c) => c.cell_type === "code");
    const long = cells.flatMap((c, i) =>
      c.cell_type === "code" && c.source.split("\n").length > MAX_CELL_LINES
        ? [`cell ${i}: ${c.source.split("\n").length} lines`]
        : []
    );
    assertEquals(long, [], `code cells over ${MAX_CELL_LINES} lines`);
    const cli = code.filter((c) => /from\s+["'][^"']*\bcli\//.test(c.source));
    assertEquals(cli.length, 0, "a notebook imports from cli/ (move what it needs into thanos/ or kernel/)");
    assertEquals(code.filter((c) => c.source.includes("setupNotebook(")).length, 1, "one setupNotebook(...) call");
    const repeated = code.filter((c) =>
      /\b(openCheckpoint|loadTokenizer|sampleCalibration|prepareData|quickMode)\(/.test(c.source)
    );
    assertEquals(repeated.map((c) => c.source.split("\n")[0]), [], "setup code that setupNotebook does");
    const intro = cells[0].cell_type === "markdown" ? cells[0].source : "";
    assert(/^# .+\n\nThis notebook shows .+/.test(intro), "the first cell: a title, then what the notebook shows");
    assert(
      /builds on\s+(none|\[\d\d · [^\]]+\]\(\d\d-[\w-]+\.ipynb\))/.test(intro),
      "the intro names the notebook it builds on",
    );
    const last = cells.at(-1)!;
    assert(last.cell_type === "markdown" && last.source.startsWith("## Try this\n"), 'the last cell is "## Try this"');
    assert((last.source.match(/^- `/gm) ?? []).length >= 2, "Try this lists parameters to change");
  });
}
