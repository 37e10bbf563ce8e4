/**
 * docs/: the rendered notebooks (`deno task docs`). docs/README.md lists exactly the notebooks of
 * notebooks/, in order, each linked to its rendered page when docs/notebooks/ has one; every image
 * and interactive page a rendered page links to exists. (That each figure a notebook produces
 * gets its static image is checked where the notebooks run: tests/notebooks_test.ts.)
 */
import { join } from "node:path";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { docsIndex, notebookEntry, renderedPages } from "../kernel/docs.ts";
import { findNotebooks, ROOT } from "../kernel/run_notebooks.ts";

const DOCS = join(ROOT, "docs");
const NOTEBOOKS = findNotebooks([join(ROOT, "notebooks")], { missingOk: true });

Deno.test("docs/README.md lists every notebook in order (regenerate: deno task docs --index-only)", async () => {
  const expected = docsIndex(NOTEBOOKS.map(notebookEntry), renderedPages(DOCS));
  assertEquals(await Deno.readTextFile(join(DOCS, "README.md")), expected);
  const listed = [...expected.matchAll(/^1\. \[/gm)].length;
  assertEquals(listed, NOTEBOOKS.length);
});

Deno.test("every rendered page belongs to a notebook and every file it links to exists", async () => {
  const names = new Set(NOTEBOOKS.map((p) => p.split("/").pop()!.replace(/\.ipynb$/, "")));
  for (const [name] of renderedPages(DOCS)) {
    assert(names.has(name), `docs/notebooks/${name}.md has no notebook notebooks/${name}.ipynb`);
    const page = await Deno.readTextFile(join(DOCS, "notebooks", `${name}.md`));
    for (const [, target] of page.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target) || target.startsWith("#")) continue;
      const path = join(DOCS, "notebooks", target.split("#")[0]);
      assert(
        await Deno.stat(path).then(() => true, () => false),
        `${name}.md links to ${target}, which does not exist`,
      );
    }
  }
});

Deno.test("a notebook's entry is its title and the first sentence of its introduction", () => {
  const dir = Deno.makeTempDirSync();
  const nb = (first: string) => JSON.stringify({ cells: [{ cell_type: "markdown", source: [first] }] });
  Deno.writeTextFileSync(join(dir, "09-x.ipynb"), nb("# 9 · A title\n\nThis notebook shows $H$. Then more.\n\nMore."));
  assertEquals(notebookEntry(join(dir, "09-x.ipynb")), { name: "09-x", title: "9 · A title", summary: "$H$." });
  Deno.writeTextFileSync(join(dir, "10-y.ipynb"), nb("no title"));
  assertThrows(
    () => notebookEntry(join(dir, "10-y.ipynb")),
    Error,
    '10-y.ipynb: expected its first cell to be markdown starting with a "# " title',
  );
  const index = docsIndex([{ name: "09-x", title: "9 · A title", summary: "It shows $H$." }, {
    name: "10-y",
    title: "T",
    summary: "S.",
  }], new Map([["09-x", "quick"]]));
  assert(
    index.includes("1. [9 · A title](notebooks/09-x.md) (rendered in quick mode: small settings) — It shows $H$."),
    index,
  );
  assert(index.includes("1. [T](../notebooks/10-y.ipynb) (not rendered yet: run `deno task docs`) — S."), index);
  Deno.removeSync(dir, { recursive: true });
});
