/**
 * `deno task docs`: the notebooks rendered as markdown pages a reader can see on the repository page.
 *
 * For each notebook (default: every notebooks/*.ipynb, in order) the headless runner
 * (run_notebooks.ts) executes it in Deno's kernel — full mode unless `--quick` — into
 * build/docs/, converts it to offline HTML and checks that page in Chromium. Then
 * {@link notebookMarkdown} writes docs/notebooks/NN-name.md: the markdown cells as they are (their
 * `$…$` / `$$…$$` equations are the syntax GitHub renders), every code cell, and every output —
 * tables as HTML tables, text in fences, and each figure as the static PNG its output carries
 * (kernel/static_image.ts) plus, beside it, a small interactive HTML page of the same plotly JSON
 * (docs/notebooks/NN-name/figure-K.{png,html}; the pages share one script, docs/notebooks/figure.js,
 * which loads plotly.js and draws; only up to {@link MAX_INTERACTIVE_BYTES}: the largest heatmaps' JSON
 * would make the repository heavy, and their page says so instead). Finally docs/README.md lists every
 * notebook in order with one line each ({@link docsIndex}).
 *
 * ```
 * deno run -A kernel/docs.ts [--quick] [--out docs] [notebook.ipynb ...]
 * deno run -A kernel/docs.ts --index-only     # only rewrite docs/README.md (no execution)
 * ```
 *
 * @module
 */

import { basename, extname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { escapeHtml, scriptJson } from "./figure.ts";
import { PLOTLY_VERSION } from "./plotly.ts";
import {
  cellTimeoutFlag,
  figuresWithoutImage,
  findNotebooks,
  PageChecker,
  ROOT,
  type RunnerOptions,
  runNotebook,
} from "./run_notebooks.ts";

const PLOTLY_MIME = "application/vnd.plotly.v1+json";
/** Interactive figure pages larger than this (big heatmaps) are not written, to keep the repository small. */
export const MAX_INTERACTIVE_BYTES = 160 * 1024;

// deno-lint-ignore no-explicit-any
type Output = { output_type: string; name?: string; text?: string | string[]; data?: Record<string, any> };
interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: Output[];
}
interface Notebook {
  cells: Cell[];
}

const joined = (text: string | string[] | undefined): string => Array.isArray(text) ? text.join("") : text ?? "";

/** What the docs say about one notebook: file names, title and one-line summary. */
export interface NotebookEntry {
  /** e.g. "01-calibration" */
  name: string;
  /** the notebook's `# ` heading, e.g. "1 · Calibration: what a layer sees" */
  title: string;
  /** the first sentence of the notebook's introduction */
  summary: string;
}

/**
 * The title and one-line summary of a notebook, from its first markdown cell: the `# ` heading and
 * the first sentence after it (without its opening "This notebook shows ").
 *
 * @param path a notebook
 * @returns its entry for docs/README.md
 * @throws Error when the first cell is not markdown starting with a `# ` heading
 */
export function notebookEntry(path: string): NotebookEntry {
  const nb = JSON.parse(Deno.readTextFileSync(path)) as Notebook;
  const name = basename(path, extname(path));
  const first = nb.cells[0];
  const text = first?.cell_type === "markdown" ? joined(first.source) : "";
  const heading = /^# (.+)$/m.exec(text);
  if (!heading) throw new Error(`${name}.ipynb: expected its first cell to be markdown starting with a "# " title`);
  const rest = text.slice(heading.index + heading[0].length).trim().split(/\n\s*\n/)[0].replace(/\s+/g, " ");
  const sentence = /^.*?[.!?](?=\s|$)/.exec(rest)?.[0] ?? rest;
  return { name, title: heading[1].trim(), summary: sentence.replace(/^This notebook shows /, "") };
}

/**
 * docs/README.md: every notebook in order, linked to its rendered page (or, until `deno task docs`
 * has rendered it, to the notebook itself), with its summary.
 *
 * @param entries the notebooks, in order
 * @param rendered the notebooks that have a page in docs/notebooks/, and the mode it was executed in
 * @returns the markdown
 */
export function docsIndex(entries: NotebookEntry[], rendered: Map<string, RunMode>): string {
  const lines = [
    "# The notebooks, rendered",
    "",
    "Each page is a notebook of `notebooks/` executed in Deno's Jupyter kernel by `deno task docs` and",
    "written as markdown: its text and equations, its code, its tables and every plot as a static image",
    "(with the interactive plotly version beside it). Read them in order; each builds on the one before.",
    "To run a notebook yourself, see [the README](../README.md#notebooks).",
    "",
  ];
  for (const e of entries) {
    const mode = rendered.get(e.name);
    const link = mode
      ? `[${e.title}](notebooks/${e.name}.md)${mode === "quick" ? " (rendered in quick mode: small settings)" : ""}`
      : `[${e.title}](../notebooks/${e.name}.ipynb) (not rendered yet: run \`deno task docs\`)`;
    lines.push(`1. ${link} — ${e.summary}`);
  }
  return lines.join("\n") + "\n";
}

/** How a page's notebook was executed: its own settings, or THANOS_QUICK=1's small ones. */
export type RunMode = "full" | "quick";

function modeLine(mode: RunMode): string {
  return mode === "full"
    ? "> Executed by `deno task docs` in full mode: the notebook's own settings."
    : "> Executed by `deno task docs --quick` in **quick mode** (`THANOS_QUICK=1`): small settings (fewer windows, " +
      "smaller sweeps), so the numbers and plots differ from a full run.";
}

/** Notebooks that have a rendered page in `docsDir`/notebooks, with the mode each page says it was executed in. */
export function renderedPages(docsDir: string): Map<string, RunMode> {
  const names = new Map<string, RunMode>();
  try {
    for (const entry of Deno.readDirSync(join(docsDir, "notebooks"))) {
      if (!entry.isFile || !entry.name.endsWith(".md")) continue;
      const text = Deno.readTextFileSync(join(docsDir, "notebooks", entry.name));
      names.set(entry.name.slice(0, -3), text.includes(modeLine("quick")) ? "quick" : "full");
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names;
}

/** The script every interactive figure page loads, written once beside the pages' folders. */
export const FIGURE_SCRIPT_NAME = "figure.js";

/**
 * The shared script of the interactive figure pages: it loads plotly.js from `plotlyPath` (relative
 * to the script) and draws the page's figure from the plotly JSON in its `<script id="spec">`, or,
 * when plotly.js is not there, says how to get it.
 */
export function figureScript(plotlyPath: string): string {
  return `// Generated by \`deno task docs\` (kernel/docs.ts): draws the figure of an interactive page in
// docs/notebooks/NN-name/ from the plotly JSON in its <script id="spec">, with the repository's plotly.js.
(function () {
  const el = document.getElementById("figure"), plotly = document.createElement("script");
  plotly.src = new URL(${JSON.stringify(plotlyPath)}, document.currentScript.src).href;
  plotly.onload = function () {
    const spec = JSON.parse(document.getElementById("spec").textContent);
    Plotly.newPlot(el, spec.data, spec.layout, spec.config);
  };
  plotly.onerror = function () {
    el.innerHTML = "This page draws the figure with plotly.js ${PLOTLY_VERSION} from the repository's node_modules: " +
      "open it from a clone after <code>deno install</code>.";
  };
  document.head.appendChild(plotly);
})();
`;
}

/** A standalone page that draws one figure with the shared {@link figureScript} at `scriptPath`. */
export function figurePage(figure: unknown, title: string, scriptPath: string): string {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<div id="figure" style="width:100%;height:90vh;font:14px sans-serif;color:#666"></div>
<script type="application/json" id="spec">${scriptJson(figure)}</script>
<script src="${scriptPath}"></script>
</body></html>
`;
}

/** A fenced block whose fence is longer than any backtick run inside. */
function fence(text: string, lang = ""): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const f = "`".repeat(longest + 1);
  return `${f}${lang}\n${text.replace(/\n+$/, "")}\n${f}`;
}

/**
 * Writes the markdown page of an executed notebook and its figures' files.
 *
 * @param executed the executed notebook (outputs kept)
 * @param docsDir the docs folder (the page goes to `docsDir`/notebooks/NAME.md)
 * @param mode how the notebook was executed (said at the top of the page)
 * @param name the page's name (default: the notebook's)
 * @returns the page's path and the number of figures written
 * @throws Error when a figure output carries no static image
 */
export async function notebookMarkdown(
  executed: string,
  docsDir: string,
  mode: RunMode,
  name = basename(executed, extname(executed)),
): Promise<{ page: string; figures: number }> {
  const nb = JSON.parse(await Deno.readTextFile(executed)) as Notebook;
  const missing = figuresWithoutImage(executed);
  if (missing.length > 0) throw new Error(`${name}: figures without a static image in ${missing.join(", ")}`);
  const pagesDir = join(resolve(docsDir), "notebooks");
  const assets = join(pagesDir, name);
  await Deno.remove(assets, { recursive: true }).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  await Deno.mkdir(assets, { recursive: true });
  const plotlyPath = relative(pagesDir, join(ROOT, "node_modules", "plotly.js-dist-min", "plotly.min.js"));
  const scriptPath = relative(assets, join(pagesDir, FIGURE_SCRIPT_NAME));
  const parts: string[] = [
    `<!-- Generated by \`deno task docs\` from notebooks/${name}.ipynb; edit the notebook, not this page. -->`,
  ];
  let figures = 0;
  for (const [i, cell] of nb.cells.entries()) {
    const source = joined(cell.source).trim();
    if (cell.cell_type === "markdown") {
      // links between notebooks point at their rendered pages
      parts.push(source.replace(/\]\((\d\d-[\w-]+)\.ipynb\)/g, "]($1.md)"));
    }
    if (i === 0) parts.push(modeLine(mode)); // under the title
    if (cell.cell_type !== "code") continue;
    if (source) parts.push(fence(source, "ts"));
    for (const out of cell.outputs ?? []) {
      if (out.output_type === "stream") {
        parts.push(fence(joined(out.text)));
        continue;
      }
      const data = out.data ?? {};
      const plain = joined(data["text/plain"]);
      if (data[PLOTLY_MIME]) {
        figures++;
        const file = `figure-${figures}`;
        const png = data["image/png"] as string | undefined;
        if (png) {
          await Deno.writeFile(
            join(assets, `${file}.png`),
            Uint8Array.from(atob(png.replace(/\s/g, "")), (c) => c.charCodeAt(0)),
          );
        } else await Deno.writeTextFile(join(assets, `${file}.svg`), joined(data["image/svg+xml"]));
        const alt = plain.replace(/[[\]\n]/g, " ");
        const image = `![${alt}](${name}/${file}.${png ? "png" : "svg"})`;
        const interactive = figurePage(data[PLOTLY_MIME], plain, scriptPath);
        if (interactive.length <= MAX_INTERACTIVE_BYTES) {
          await Deno.writeTextFile(join(pagesDir, FIGURE_SCRIPT_NAME), figureScript(plotlyPath));
          await Deno.writeTextFile(join(assets, `${file}.html`), interactive);
          parts.push(`${image}\n\n[interactive version](${name}/${file}.html)`);
        } else {
          parts.push(
            `${image}\n\n(interactive version: ${
              Math.round(interactive.length / 1024)
            } KB of plotly JSON, too large to ` +
              "commit; run the notebook, or `deno task notebooks` for its HTML page)",
          );
        }
        continue;
      }
      const html = joined(data["text/html"]);
      if (html.startsWith('<table class="thanos-table"')) parts.push(html);
      else if (data["image/png"]) {
        figures++;
        const file = `image-${figures}.png`;
        await Deno.writeFile(
          join(assets, file),
          Uint8Array.from(atob(joined(data["image/png"]).replace(/\s/g, "")), (c) => c.charCodeAt(0)),
        );
        parts.push(`![${plain.replace(/[[\]\n]/g, " ")}](${name}/${file})`);
      } else if (plain) parts.push(fence(plain));
    }
  }
  if (figures === 0) await Deno.remove(assets);
  const page = join(pagesDir, `${name}.md`);
  await Deno.writeTextFile(page, parts.join("\n\n") + "\n");
  return { page, figures };
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      quick: { type: "boolean", default: false },
      out: { type: "string", default: join(ROOT, "docs") },
      "index-only": { type: "boolean", default: false },
      timeout: { type: "string" },
    },
  });
  const docsDir = resolve(values.out!);
  const all = findNotebooks([join(ROOT, "notebooks")], { missingOk: true });
  const chosen = positionals.length > 0 ? findNotebooks(positionals) : all;
  const writeIndex = async () => {
    const index = docsIndex(all.map(notebookEntry), renderedPages(docsDir));
    await Deno.mkdir(docsDir, { recursive: true });
    await Deno.writeTextFile(join(docsDir, "README.md"), index);
  };
  if (values["index-only"]) {
    await writeIndex();
    return 0;
  }
  const cellTimeoutS = cellTimeoutFlag(values.timeout);
  if (cellTimeoutS === null) {
    console.error(`docs: --timeout is "${values.timeout}"; expected seconds > 0`);
    return 2;
  }
  const options: RunnerOptions = {
    quick: values.quick,
    outDir: join(ROOT, "build", "docs"),
    screenshotDir: join(ROOT, "build", "docs", "screenshots"),
    cellTimeoutS,
  };
  const checker = await PageChecker.launch(options);
  let failed = 0;
  try {
    for (const nb of chosen) {
      const t0 = performance.now();
      try {
        const run = await runNotebook(nb, options, checker);
        const { page, figures } = await notebookMarkdown(run.executed, docsDir, values.quick ? "quick" : "full");
        const s = ((performance.now() - t0) / 1000).toFixed(0);
        console.log(`docs: ${relative(ROOT, page)}: ${figures} figures, ${s} s${values.quick ? " (quick mode)" : ""}`);
      } catch (err) {
        failed++;
        console.error(`docs: FAIL ${nb}: ${err instanceof Error ? err.message : err}`);
      }
    }
  } finally {
    await checker.close();
  }
  await writeIndex();
  console.log(
    `docs: ${chosen.length - failed} pages written, ${failed} failed; index ${
      relative(ROOT, join(docsDir, "README.md"))
    }`,
  );
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
