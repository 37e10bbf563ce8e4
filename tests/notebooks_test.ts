/**
 * Notebooks, end to end: every notebooks/*.ipynb and the demo fixture are executed with Deno's real
 * Jupyter kernel in quick mode (THANOS_QUICK=1), converted to HTML and loaded in headless Chromium,
 * which must show every figure rendered with no page errors. The runner itself is shown to fail on
 * a cell that throws and on a figure that does not render, and figure HTML to render when the
 * plotly.js loader comes after the figures. Committed notebooks must have their outputs cleared.
 *
 * Needs jupyter-nbconvert, python3-nbclient, jupyter-client, chromium and `deno jupyter --install`
 * (.ci/run installs them); without them these tests fail and say what to install.
 */
import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { clearOutputs, notebookJson, outputProblems } from "../kernel/clear_outputs.ts";
import {
  figuresWithoutImage,
  findNotebooks,
  NotebookError,
  notebookToHtml,
  PageChecker,
  pageProblems,
  ROOT,
  type RunnerOptions,
  runNotebook,
} from "../kernel/run_notebooks.ts";
import { heatmap, lineChart, PLOTLY_VERSION } from "../kernel/mod.ts";
import { notebookMarkdown } from "../kernel/docs.ts";
import { resetPlotlySession } from "../kernel/plotly.ts";

const DEMO = join(ROOT, "tests", "fixtures", "notebooks", "demo.ipynb");
const NOTEBOOKS = findNotebooks([join(ROOT, "notebooks")], { missingOk: true });
const BUILD = join(ROOT, "build", "test-notebooks");
const OPTIONS: RunnerOptions = {
  quick: true,
  outDir: join(BUILD, "executed"),
  screenshotDir: join(ROOT, "build", "screenshots"),
  cellTimeoutS: 1200, // notebook 06 needed more than 600 s for one cell at load average 29
};
// Chromium and playwright keep processes and pipes across awaits; the browser is closed in each test.
const browserTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });

// deno-lint-ignore no-explicit-any
type Output = Record<string, any>;
type NotebookFile = {
  cells: {
    cell_type: string;
    execution_count?: number | null;
    id?: string;
    metadata?: Record<string, unknown>;
    outputs?: Output[];
    source: string | string[];
  }[];
  [key: string]: unknown;
};

function readNotebook(path: string): NotebookFile {
  return JSON.parse(Deno.readTextFileSync(path));
}

/** A notebook in an ignored folder inside the repository (so the kernel finds deno.json). */
async function scratchNotebook(name: string, cells: string[]): Promise<string> {
  const dir = join(BUILD, "scratch");
  await Deno.mkdir(dir, { recursive: true });
  const nb = readNotebook(DEMO);
  nb.cells = cells.map((source, i) => ({
    cell_type: "code",
    execution_count: null,
    id: `${name}-${i}`,
    metadata: {},
    outputs: [],
    source: [source],
  }));
  const path = join(dir, `${name}.ipynb`);
  await Deno.writeTextFile(path, notebookJson(nb));
  return path;
}

async function withChecker<T>(fn: (checker: PageChecker) => Promise<T>, options: RunnerOptions = OPTIONS): Promise<T> {
  const checker = await PageChecker.launch(options);
  try {
    return await fn(checker);
  } finally {
    await checker.close();
  }
}

Deno.test("committed notebooks have their outputs cleared", () => {
  for (const path of [...NOTEBOOKS, DEMO]) {
    assertEquals(outputProblems(readNotebook(path)), [], `${path}: run \`deno task notebooks:clear\``);
  }
});

Deno.test("clearOutputs clears outputs, counts and timing; notebookJson writes what nbformat writes", () => {
  const text = Deno.readTextFileSync(DEMO); // written by nbformat
  assertEquals(notebookJson(JSON.parse(text)), text);
  const nb = readNotebook(DEMO);
  nb.cells[1] = {
    ...nb.cells[1],
    execution_count: 3,
    outputs: [{ output_type: "stream" }],
    metadata: { execution: {} },
  };
  assertEquals(outputProblems(nb), ["cell 1 has 1 outputs and execution_count 3 and execution timing metadata"]);
  const cleared = clearOutputs(nb);
  assertEquals(outputProblems(cleared), []);
  assertEquals(notebookJson(cleared), text);
});

for (const notebook of [...NOTEBOOKS, DEMO]) {
  browserTest(`notebook ${notebook.slice(ROOT.length)} executes and every figure renders`, async () => {
    const run = await withChecker((checker) => runNotebook(notebook, OPTIONS, checker));
    console.log(
      `  execute ${(run.ms.execute / 1000).toFixed(1)}s, html ${(run.ms.html / 1000).toFixed(1)}s, ` +
        `browser ${(run.ms.browser! / 1000).toFixed(1)}s, ${run.plots} figures, screenshot ${run.page?.screenshot}`,
    );
    assertEquals(run.page!.plots.length, run.plots);
    // every figure also carries a static image, for viewers without JavaScript (static_image.ts)
    assertEquals(figuresWithoutImage(run.executed), [], "figures without image/png");
    // and its docs page (deno task docs) shows each of them as that image, the interactive page beside it
    const { page, figures } = await notebookMarkdown(run.executed, join(BUILD, "docs"), "quick");
    const markdown = await Deno.readTextFile(page);
    const images = [
      ...markdown.matchAll(
        /!\[[^\]]*\]\(([^)]+\.png)\)\n\n(?:\[interactive version\]\(([^)]+)\)|\(interactive version: \d+ KB)/g,
      ),
    ];
    assertEquals([figures, images.length], [run.plots, run.plots]);
    for (const [, png, html] of images) {
      for (const file of [png, html ?? png]) {
        assert((await Deno.stat(join(BUILD, "docs", "notebooks", file))).size > 0, file);
      }
    }
    if (notebook !== DEMO) return;

    // The demo pins down what the helpers do inside the real kernel.
    assertEquals(run.plots, 5); // heatmap, line, bar, and a grid plus a scatter shown from one cell
    assertEquals(run.page!.plots.map((p) => p.kind), ["heatmap", "line", "bar", "grid", "scatter"]);
    const cells = readNotebook(run.executed).cells;
    const text = (o: Output) => [o.text ?? o.data?.["text/plain"] ?? ""].flat().join("");
    assertEquals(text(cells[1].outputs![0]), "quick mode: true, n = 64\n"); // THANOS_QUICK reached the kernel
    // The runner keeps plotly.js out of the outputs (THANOS_PLOTLY_LOADER=page: small kernel
    // messages) and puts it into the exported page once; interactive sessions inline it in the first
    // figure instead (kernel_figures_test.ts).
    const banner = `plotly.js ${PLOTLY_VERSION} (MIT license`;
    const htmls = cells.flatMap((c) => c.outputs ?? []).map((o) => [o.data?.["text/html"] ?? ""].flat().join(""));
    assertEquals(htmls.filter((h) => h.includes(banner)).length, 0);
    assertEquals((await Deno.readTextFile(run.html)).split(banner).length - 1, 1);
    // The progress bar is one output, updated in place to its final state.
    const progress = cells[7].outputs!;
    assertEquals(progress.length, 1);
    assertEquals(progress[0].output_type, "display_data");
    assert(
      /^demo loop \[█{24}\] 100% · 20\/20 · done in .* · finished$/.test(text(progress[0])),
      `final progress state, got: ${text(progress[0])}`,
    );
    assertEquals(text(cells[6].outputs![0]).split("\n")[0], "perplexity (illustrative)"); // the table's text
  });
}

browserTest("every cell keeps its outputs although Deno's kernel publishes them after idle", async () => {
  // Without the output barrier of kernel/nbconvert/deno_execute.py about half of the runs of such a
  // notebook lost the outputs of one or more cells (measured: 7 of 15).
  const cells = Array.from(
    { length: 8 },
    (_, i) =>
      [
        `${i} * 10`,
        `console.log("line ${i}")`,
        `await Deno.jupyter.display({ "text/plain": "shown ${i}" }, { raw: true });`,
      ][i % 3],
  );
  const path = await scratchNotebook("many_outputs", cells);
  const run = await runNotebook(path, OPTIONS);
  const got = readNotebook(run.executed).cells.map((c) =>
    (c.outputs ?? []).map((o) => [o.text ?? o.data?.["text/plain"]].flat().join("")).join("|")
  );
  // (results are uncoloured: the runner sets NO_COLOR)
  assertEquals(got, ["0", "line 1\n", "shown 2", "30", "line 4\n", "shown 5", "60", "line 7\n"]);
});

browserTest("a cell that throws fails the run, naming the cell and the error", async () => {
  const path = await scratchNotebook("throws", [
    'console.log("before");',
    "const x: number = 2;\nthrow new RangeError(`deliberate failure, x = ${x}`);",
    'console.log("never reached");',
  ]);
  const err = await assertRejects(
    () => runNotebook(path, OPTIONS),
    NotebookError,
    "throws.ipynb: cell 1 raised an error",
  );
  assert(err.message.includes("  | throw new RangeError(`deliberate failure, x = ${x}`);"), err.message);
  assert(err.message.includes("RangeError: deliberate failure, x = 2"), err.message);
  assert(!err.message.includes("\x1b["), "no terminal colour codes in the message");
});

browserTest("a figure that does not render fails the page check", async () => {
  const path = await scratchNotebook("broken_plot", [
    `import { Figure, lineChart } from "${new URL("../kernel/mod.ts", import.meta.url).href}";`,
    // A trace type plotly.js does not know: the page draws an empty plot.
    'new Figure({ kind: "line", data: [{ type: "no-such-trace", y: [1, 2] }], summary: "broken" })',
    "lineChart([1, 2, 3])",
  ]);
  const err = await withChecker(
    (checker) => assertRejects(() => runNotebook(path, OPTIONS, checker), NotebookError, "failed its check"),
  );
  assert(err.message.includes("figure 0 (line) fails Plotly.validate: In data trace 0, key type"), err.message);
  assert(!err.message.includes("figure 1"), `the good figure passes: ${err.message}`);
});

browserTest("figures render when the plotly.js loader comes after them, or twice; waiting ones fail", async () => {
  resetPlotlySession();
  const first = heatmap([[1, 2], [3, 4]], { title: "first shown" });
  const later = lineChart([3, 1, 2], { title: "shown later" });
  const withLoader = first.html({ includePlotly: true }), plain = later.html();
  const page = (body: string) => `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>${body}</body></html>`;
  const dir = join(BUILD, "pages");
  await Deno.mkdir(dir, { recursive: true });
  const files = {
    // A re-opened notebook rendered lazily: the figure without the library runs first.
    outOfOrder: page(plain + withLoader),
    // Two kernel sessions saved in one notebook: the second loader must not break the first.
    twice: page(withLoader + plain + first.html({ includePlotly: true })),
    // The library's output was cleared: the figure waits, and the check must say so.
    noLoader: page(plain),
  };
  for (const [name, html] of Object.entries(files)) await Deno.writeTextFile(join(dir, `${name}.html`), html);
  await withChecker(async (checker) => {
    const outOfOrder = await checker.check(join(dir, "outOfOrder.html"));
    assertEquals(pageProblems(outOfOrder, 2), []);
    assertEquals(outOfOrder.plots.map((p) => [p.kind, p.state, p.traces >= 1]), [["line", "rendered", true], [
      "heatmap",
      "rendered",
      true,
    ]]);
    assertEquals(pageProblems(await checker.check(join(dir, "twice.html")), 3), []);
    const missing = pageProblems(await checker.check(join(dir, "noLoader.html")), 1);
    assertEquals(missing, [
      "figures still waiting for plotly.js after 2000 ms",
      'figure 0 (line) did not render: state "waiting"',
    ]);
    assertEquals(
      pageProblems(await checker.check(join(dir, "twice.html")), 2)[0],
      "expected 2 figures (the notebook's plotly outputs) but the page has 3",
    );
  }, { ...OPTIONS, renderTimeoutMs: 2000 });
});

browserTest("the exported page typesets every equation with the inlined KaTeX; TeX left as source fails", async () => {
  const nb = readNotebook(DEMO);
  const markdown = (source: string, i: number) => ({
    cell_type: "markdown",
    id: `math-${i}`,
    metadata: {},
    source: [source],
  });
  nb.cells = [
    "Inline $\\lambda_r = \\big(H^{-1}_{q_r q_r}\\big)^{-1} W_{r,q_r}^\\top$ and a price in code: `$HOME`.",
    "$$H = \\frac{2}{n} X^\\top X \\qquad \\|X_j\\|^2$$",
    "| score | who |\n|---|---|\n| $\\lvert W_{ij}\\rvert \\cdot \\lVert X_j\\rVert$ | each row |",
  ].map(markdown);
  const dir = join(BUILD, "math");
  await Deno.mkdir(dir, { recursive: true });
  const good = join(dir, "math.ipynb");
  await Deno.writeTextFile(good, notebookJson(nb));
  const { html } = await notebookToHtml(good, OPTIONS);
  // A page as nbconvert writes it without KaTeX: the formulas stay as TeX.
  const bare = join(dir, "bare.html");
  await Deno.writeTextFile(
    bare,
    '<!DOCTYPE html><html><body><div class="jp-MarkdownOutput"><p>cost $\\lambda_r$ and <code>$\\x</code></p>' +
      "<p>$$H = \\frac{2}{n}$$</p></div></body></html>",
  );
  await withChecker(async (checker) => {
    const report = await checker.check(html);
    assertEquals(pageProblems(report, 0), []);
    assertEquals(report.math, { cells: 3, done: true, typeset: 3, raw: [] });
    const scripts = (await Deno.readTextFile(html)).match(/<script[^>]*\ssrc=[^>]*>/g) ?? [];
    assertEquals(scripts, [], "every script is inlined (no MathJax from a CDN)");
    const problems = pageProblems(await checker.check(bare), 0);
    assertEquals(problems[0], "the equations were not typeset (KaTeX's script did not finish)");
    // $\lambda, $$, \frac, $$ — and not the `$\x` inside <code>
    assertEquals(problems.length, 5, problems.join("\n"));
    assertEquals(problems[1], `TeX source left in the page's text: "cost $\\lambda_r$ and $$H = \\frac{2"`);
  });
});
