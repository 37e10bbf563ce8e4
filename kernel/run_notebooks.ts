/**
 * Headless notebook runner: executes notebooks with Deno's real Jupyter kernel, converts them to
 * HTML and checks each page in headless Chromium.
 *
 * For each notebook:
 * 1. `jupyter nbconvert --to notebook` with kernel/nbconvert/deno_execute.py's preprocessor (the
 *    ExecutePreprocessor plus a per-cell output barrier that works around Deno 2.9's kernel
 *    publishing outputs after `idle`; see that file) writes the executed notebook, outputs kept, to
 *    build/notebooks/. Any cell error fails the run with the cell and its error. `THANOS_QUICK=1`
 *    reaches the kernel when `quick` is set (otherwise the caller's environment passes through).
 * 2. `jupyter nbconvert --to html` with the offline template (kernel/nbconvert/templates/offline)
 *    writes build/notebooks/<name>.html; plotly.js and KaTeX (kernel/katex.ts, which typesets the
 *    markdown cells' `$…$` and `$$…$$`) are inlined into it, so it needs no network.
 * 3. Chromium (playwright-core, the system /usr/bin/chromium, no browser download) loads the page
 *    with all network access blocked and requires: no page errors, console errors or blocked
 *    requests; one figure div per plotly output of the notebook; every figure rendered into an SVG
 *    with at least one trace and accepted by `Plotly.validate`; every equation typeset by KaTeX (no
 *    TeX source such as `$\lambda` left in the markdown cells' visible text). A full-page screenshot goes to
 *    build/screenshots/<name>.png.
 *
 * CLI (`deno task notebooks` runs it on notebooks/*.ipynb in full mode):
 * ```
 * deno run -A kernel/run_notebooks.ts [--quick] [--no-browser] [--out DIR] [--screenshots DIR]
 *   [--timeout SECONDS] [notebook.ipynb | dir ...]
 * ```
 * Needs Debian's jupyter-nbconvert, python3-nbclient, jupyter-client and chromium, and the Deno
 * kernel registered with `deno jupyter --install` (.ci/run does all of it).
 *
 * @module
 */

import { basename, dirname, extname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { type Browser, chromium } from "playwright-core";
import { PLOTLY_LOADER_ENV } from "./env.ts";
import { STATIC_FIGURES_ENV } from "./static_image.ts";

/**
 * The caller's THANOS_STATIC_FIGURES as it was when this module loaded: the kernel gets that value,
 * not whatever a concurrent test has set in this process since (the suite runs test files in parallel).
 */
const CALLER_STATIC_FIGURES = Deno.env.get(STATIC_FIGURES_ENV) ?? "";
import { PLOTLY_VERSION, plotlyLoaderHtml } from "./plotly.ts";
import { katexPageHtml, MATH_SCOPE } from "./katex.ts";

/** The repository root (kernel/..). */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));
const NBCONVERT_DIR = join(ROOT, "kernel", "nbconvert");
const PLOTLY_MIME = "application/vnd.plotly.v1+json";
/** The banner comment of the loader script (kernel/plotly.ts): present once a page has plotly.js. */
const PLOTLY_BANNER = `plotly.js ${PLOTLY_VERSION} (MIT license, Plotly, Inc.)`;

/** Options of the runner. */
export interface RunnerOptions {
  /** Executed notebooks and their HTML (default build/notebooks). */
  outDir?: string;
  /** Screenshots (default build/screenshots). */
  screenshotDir?: string;
  /** Set THANOS_QUICK=1 for the kernel (default: leave the environment as it is). */
  quick?: boolean;
  /** Seconds one cell may run (default 1800). */
  cellTimeoutS?: number;
  /** Load each page in headless Chromium (default true). */
  browser?: boolean;
  /** The jupyter command (default $THANOS_JUPYTER or "jupyter"). */
  jupyter?: string;
  /** The Chromium binary (default $THANOS_CHROMIUM or /usr/bin/chromium). */
  chromium?: string;
  /** How long a page may take to draw its figures (default 60 s). */
  renderTimeoutMs?: number;
}

/** A notebook that failed to execute, convert or render. */
export class NotebookError extends Error {
  constructor(readonly notebook: string, message: string) {
    super(`${basename(notebook)}: ${message}`);
    this.name = "NotebookError";
  }
}

/** One figure of a checked page. */
export interface PlotReport {
  id: string;
  kind: string;
  /** waiting | rendered | error (the figure script's data-thanos-state) */
  state: string;
  svg: boolean;
  /** Trace groups drawn in the SVG (`.trace` and heatmap `.hm` elements). */
  traces: number;
  /** Traces in the figure's JSON. */
  expectedTraces: number;
  /** Plotly.validate messages for the figure's JSON (none when plotly.js never loaded: see state). */
  validation: string[];
}

/** The equations of a checked page. */
export interface MathReport {
  /** Markdown cells on the page. */
  cells: number;
  /** Whether the typesetting script ran to its end (`<html data-thanos-math="done">`). */
  done: boolean;
  /** Formulas KaTeX typeset in the markdown cells. */
  typeset: number;
  /** Excerpts of markdown text that still look like TeX source (`$$`, `$\…`, `\name`). */
  raw: string[];
}

/** What loading one HTML page found. */
export interface PageReport {
  url: string;
  plots: PlotReport[];
  math: MathReport;
  /** Page errors, console errors and blocked or failed requests. */
  errors: string[];
  /** Console warnings (reported, not failures). */
  warnings: string[];
  screenshot?: string;
  ms: number;
}

/** The outcome of one notebook. */
export interface NotebookRun {
  notebook: string;
  executed: string;
  html: string;
  /** Plotly outputs in the executed notebook. */
  plots: number;
  page?: PageReport;
  ms: { execute: number; html: number; browser?: number };
}

function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}

function jupyterCommand(options: RunnerOptions): string {
  return options.jupyter ?? Deno.env.get("THANOS_JUPYTER") ?? "jupyter";
}

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  notebook: string,
  step: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: stripAnsi(dec.decode(out.stderr)) };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new NotebookError(
        notebook,
        `${step}: "${cmd}" was not found; install jupyter-nbconvert, python3-nbclient and jupyter-client ` +
          "(apt) and register the kernel with `deno jupyter --install` (.ci/run does both)",
      );
    }
    throw err;
  }
}

interface NotebookJson {
  cells: { cell_type: string; source: string | string[]; outputs?: { data?: Record<string, unknown> }[] }[];
}

function source(cell: NotebookJson["cells"][number]): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** Explains a failed execution: the failing cell (index and source) and its error, from nbclient's report. */
function executionFailure(notebook: string, stderr: string, timeoutS: number): string {
  const marker = "An error occurred while executing the following cell:";
  const at = stderr.lastIndexOf(marker);
  if (at >= 0) {
    const report = stderr.slice(at + marker.length).trim();
    // The report is "-----\n<source>\n-----\n\n<error>".
    const parts = report.split(/^-{10,}$/m);
    const src = parts.length >= 3 ? parts[1].trim() : "";
    const error = parts.length >= 3 ? parts.slice(2).join("").trim() : report;
    let where = "a cell";
    try {
      const nb = JSON.parse(Deno.readTextFileSync(notebook)) as NotebookJson;
      const index = nb.cells.findIndex((c) => c.cell_type === "code" && source(c).trim() === src);
      if (index >= 0) where = `cell ${index}`;
    } catch { /* the source excerpt below still says which cell */ }
    return `${where} raised an error:\n${src.split("\n").map((l) => `  | ${l}`).join("\n")}\n${error}`;
  }
  if (/CellTimeoutError|Cell execution timed out/.test(stderr)) {
    return `a cell ran longer than ${timeoutS} s:\n${stderr.split("\n").slice(-25).join("\n")}`;
  }
  if (/No such kernel named deno/.test(stderr)) {
    return "the Deno kernel is not registered; run `deno jupyter --install`";
  }
  return `execution failed:\n${stderr.split("\n").slice(-40).join("\n")}`;
}

/** Re-executions of a notebook whose run died of a corrupted kernel message (see isCorruptedMessage). */
const TRANSPORT_RETRIES = 2;

/**
 * Whether nbconvert failed because a message from the kernel arrived corrupted rather than because
 * of the notebook. Deno 2.9's kernel occasionally corrupts a large iopub message (a figure output of
 * several MB) — probably a race between its late outputs and its own status messages on one socket
 * (see kernel/nbconvert/deno_execute.py): with signing jupyter_client reports "Invalid Signature", without it the content
 * fails to parse (an unescaped control character megabytes in). Seen in about 1 of 4 runs of
 * 02-masking on a loaded 2-core machine, never on an idle one. Signing stays on, so corruption is
 * always detected; the notebook is simply run again.
 */
export function isCorruptedMessage(stderr: string): boolean {
  return stderr.includes("Invalid Signature") ||
    (stderr.includes("jupyter_client/session.py") && stderr.includes("JSONDecodeError"));
}

/**
 * Executes a notebook with Deno's kernel into `outDir`, outputs kept.
 *
 * @param notebook path of the .ipynb
 * @param options output folder, quick mode, per-cell timeout
 * @returns the executed notebook's path and the time taken
 * @throws NotebookError naming the failing cell and its error
 */
export async function executeNotebook(
  notebook: string,
  options: RunnerOptions = {},
): Promise<{ executed: string; ms: number }> {
  const outDir = resolve(options.outDir ?? join(ROOT, "build", "notebooks"));
  const timeoutS = options.cellTimeoutS ?? 1800;
  await Deno.mkdir(outDir, { recursive: true });
  const name = basename(notebook, extname(notebook));
  const env: Record<string, string> = {
    PYTHONPATH: [NBCONVERT_DIR, Deno.env.get("PYTHONPATH")].filter(Boolean).join(":"),
    NO_COLOR: "1",
    // figures leave plotly.js out; notebookToHtml puts it into the page once (see PLOTLY_LOADER_ENV)
    [PLOTLY_LOADER_ENV]: "page",
    [STATIC_FIGURES_ENV]: CALLER_STATIC_FIGURES, // "" = the kernel's default (images on)
  };
  if (options.quick) env.THANOS_QUICK = "1";
  const t0 = performance.now();
  const args = [
    "nbconvert",
    "--to",
    "notebook",
    "--Exporter.preprocessors=deno_execute.DenoExecutePreprocessor",
    "--DenoExecutePreprocessor.enabled=True",
    "--DenoExecutePreprocessor.kernel_name=deno",
    `--DenoExecutePreprocessor.timeout=${timeoutS}`,
    "--output-dir",
    outDir,
    "--output",
    `${name}.ipynb`,
    resolve(notebook),
  ];
  for (let attempt = 1;; attempt++) {
    const { code, stderr } = await run(jupyterCommand(options), args, env, notebook, "execute");
    if (code === 0) break;
    if (attempt <= TRANSPORT_RETRIES && isCorruptedMessage(stderr)) {
      console.error(
        `run_notebooks: ${name}: the kernel sent a corrupted message (Deno 2.9 kernel bug, see ` +
          `isCorruptedMessage); executing again (attempt ${attempt + 1} of ${TRANSPORT_RETRIES + 1})`,
      );
      continue;
    }
    throw new NotebookError(notebook, executionFailure(notebook, stderr, timeoutS));
  }
  return { executed: join(outDir, `${name}.ipynb`), ms: performance.now() - t0 };
}

/**
 * Converts an executed notebook to self-contained HTML next to it.
 *
 * @param executed path of the executed .ipynb
 * @param options the jupyter command
 * @returns the HTML path and the time taken
 */
export async function notebookToHtml(
  executed: string,
  options: RunnerOptions = {},
): Promise<{ html: string; ms: number }> {
  const t0 = performance.now();
  const { code, stderr } = await run(
    jupyterCommand(options),
    [
      "nbconvert",
      "--to",
      "html",
      `--TemplateExporter.extra_template_basedirs=${join(NBCONVERT_DIR, "templates")}`,
      "--template",
      "offline",
      "--HTMLExporter.mathjax_url=", // no MathJax (it would come from a CDN): KaTeX is inlined below
      "--output-dir",
      dirname(resolve(executed)),
      resolve(executed),
    ],
    { NO_COLOR: "1" },
    executed,
    "html",
  );
  if (code !== 0) {
    throw new NotebookError(executed, `HTML conversion failed:\n${stderr.split("\n").slice(-30).join("\n")}`);
  }
  const html = join(dirname(resolve(executed)), `${basename(executed, extname(executed))}.html`);
  await injectPlotly(html);
  await injectKatex(html);
  return { html, ms: performance.now() - t0 };
}

/**
 * Puts the plotly.js loader at the start of the page's body unless an output already carries it
 * (notebooks executed by this runner leave it out of their outputs; see PLOTLY_LOADER_ENV).
 */
async function injectPlotly(htmlPath: string): Promise<void> {
  const page = await Deno.readTextFile(htmlPath);
  if (page.includes(PLOTLY_BANNER)) return;
  const at = page.search(/<body[^>]*>/i);
  if (at < 0) throw new NotebookError(htmlPath, "HTML conversion produced a page without <body>");
  const end = page.indexOf(">", at) + 1;
  await Deno.writeTextFile(htmlPath, page.slice(0, end) + "\n" + plotlyLoaderHtml() + "\n" + page.slice(end));
}

/** Puts KaTeX and the call that typesets the markdown cells at the end of the page's body. */
async function injectKatex(htmlPath: string): Promise<void> {
  const page = await Deno.readTextFile(htmlPath);
  const at = page.lastIndexOf("</body>");
  if (at < 0) throw new NotebookError(htmlPath, "HTML conversion produced a page without </body>");
  await Deno.writeTextFile(htmlPath, page.slice(0, at) + katexPageHtml() + "\n" + page.slice(at));
}

/** Number of outputs that carry a plotly figure in a notebook file. */
export function countPlotlyOutputs(notebookPath: string): number {
  const nb = JSON.parse(Deno.readTextFileSync(notebookPath)) as NotebookJson;
  let n = 0;
  for (const cell of nb.cells) for (const out of cell.outputs ?? []) if (out.data?.[PLOTLY_MIME]) n++;
  return n;
}

/**
 * The plotly outputs of a notebook file that carry no static image (`image/png` or `image/svg+xml`,
 * see static_image.ts), by cell index.
 *
 * @param notebookPath an executed notebook
 * @returns one `cell N` line per figure without an image; empty when every figure has one
 */
export function figuresWithoutImage(notebookPath: string): string[] {
  const nb = JSON.parse(Deno.readTextFileSync(notebookPath)) as NotebookJson;
  const missing: string[] = [];
  nb.cells.forEach((cell, i) => {
    for (const out of cell.outputs ?? []) {
      if (out.data?.[PLOTLY_MIME] && !out.data["image/png"] && !out.data["image/svg+xml"]) missing.push(`cell ${i}`);
    }
  });
  return missing;
}

/**
 * Why a checked page fails, if it does.
 *
 * @param report what the browser found
 * @param expectedPlots figure divs the page must have (the notebook's plotly outputs)
 * @returns one line per problem; empty when the page is fine
 */
export function pageProblems(report: PageReport, expectedPlots?: number): string[] {
  const problems = [...report.errors];
  if (expectedPlots !== undefined && report.plots.length !== expectedPlots) {
    problems.push(
      `expected ${expectedPlots} figures (the notebook's plotly outputs) but the page has ${report.plots.length}`,
    );
  }
  report.plots.forEach((p, i) => {
    const what = `figure ${i} (${p.kind})`;
    if (p.state !== "rendered") problems.push(`${what} did not render: state "${p.state}"`);
    else if (!p.svg) problems.push(`${what} has no SVG`);
    else if (p.traces < 1) problems.push(`${what} drew no trace (its JSON has ${p.expectedTraces})`);
    for (const msg of p.validation) problems.push(`${what} fails Plotly.validate: ${msg}`);
  });
  if (report.math.cells > 0 && !report.math.done) {
    problems.push("the equations were not typeset (KaTeX's script did not finish)");
  }
  for (const raw of report.math.raw) problems.push(`TeX source left in the page's text: "${raw}"`);
  return problems;
}

/** The DOM members the page probes use (the probes run in Chromium; Deno's types have no DOM). */
interface ProbeElement {
  id: string;
  innerText: string;
  cloneNode(deep: boolean): ProbeElement;
  remove(): void;
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): unknown;
  querySelectorAll(selector: string): ArrayLike<unknown>;
}
interface ProbeGlobal {
  document: {
    documentElement: ProbeElement;
    body: ProbeElement & { appendChild(el: ProbeElement): void };
    querySelectorAll(selector: string): ArrayLike<ProbeElement>;
    getElementById(id: string): ProbeElement | null;
  };
  Plotly?: { validate?: (data: unknown, layout: unknown) => { msg: string }[] | undefined };
}

/** A headless Chromium that checks notebook pages; reuse one for several pages, then close it. */
export class PageChecker {
  private constructor(private readonly browser: Browser, private readonly renderTimeoutMs: number) {}

  /**
   * Starts the system Chromium (no download) with flags for containers and no background traffic.
   *
   * @param options the Chromium path and the render timeout
   * @returns a checker to close when done
   */
  static async launch(options: RunnerOptions = {}): Promise<PageChecker> {
    const executablePath = options.chromium ?? Deno.env.get("THANOS_CHROMIUM") ?? "/usr/bin/chromium";
    const browser = await chromium.launch({
      executablePath,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage", // containers often have a small /dev/shm
      ],
    });
    return new PageChecker(browser, options.renderTimeoutMs ?? 60_000);
  }

  /**
   * Loads a page offline, waits for its figures, inspects them and takes a screenshot.
   *
   * @param htmlPath the page
   * @param screenshot where to save a full-page PNG (optional)
   * @returns what the page showed; judge it with {@link pageProblems}
   */
  async check(htmlPath: string, screenshot?: string): Promise<PageReport> {
    const t0 = performance.now();
    const url = pathToFileURL(resolve(htmlPath)).href;
    const errors: string[] = [], warnings: string[] = [];
    const page = await this.browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      page.on("pageerror", (err) => errors.push(`page error: ${err.message}`));
      page.on("console", (msg) => {
        if (msg.type() === "error") errors.push(`console error: ${msg.text()}`);
        else if (msg.type() === "warning") warnings.push(msg.text());
      });
      page.on("requestfailed", (req) => {
        if (!req.url().startsWith("file:")) return; // blocked requests are reported by the route below
        errors.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
      });
      await page.route("**/*", (route) => {
        const target = route.request().url();
        if (/^(file|data|blob):/.test(target)) return route.continue();
        errors.push(`network request blocked (notebook pages must work offline): ${target}`);
        return route.abort();
      });
      // a page inlines ~6 MB of plotly.js and KaTeX: on a loaded machine parsing it alone took over 30 s
      await page.goto(url, { waitUntil: "load", timeout: Math.max(180_000, this.renderTimeoutMs) });
      try {
        await page.waitForFunction(
          () =>
            Array.from((globalThis as unknown as ProbeGlobal).document.querySelectorAll(".thanos-plot")).every((el) =>
              el.getAttribute("data-thanos-state") !== "waiting"
            ),
          undefined,
          { timeout: this.renderTimeoutMs, polling: 100 },
        );
      } catch {
        errors.push(`figures still waiting for plotly.js after ${this.renderTimeoutMs} ms`);
      }
      const plots = await page.evaluate((): PlotReport[] => {
        const { document, Plotly } = globalThis as unknown as ProbeGlobal;
        return Array.from(document.querySelectorAll(".thanos-plot")).map((el) => {
          let validation: string[] = [];
          try {
            const spec = JSON.parse(document.getElementById(`${el.id}-spec`)?.textContent ?? "null");
            if (!spec) validation = ["the figure's JSON is missing"];
            else if (Plotly?.validate) validation = (Plotly.validate(spec.data, spec.layout) ?? []).map((e) => e.msg);
          } catch (err) {
            validation = [`the figure's JSON does not parse: ${err}`];
          }
          return {
            id: el.id,
            kind: el.dataset.thanosKind ?? "?",
            state: el.dataset.thanosState ?? "?",
            svg: el.querySelector("svg.main-svg") !== null,
            traces: el.querySelectorAll("svg.main-svg .trace, svg.main-svg .hm").length,
            expectedTraces: Number(el.dataset.thanosTraces ?? 0),
            validation,
          };
        });
      });
      const math = await page.evaluate((scope: string): MathReport => {
        const { document } = globalThis as unknown as ProbeGlobal;
        const raw: string[] = [];
        let typeset = 0;
        const cells = Array.from(document.querySelectorAll(scope));
        for (const el of cells) {
          typeset += el.querySelectorAll(".katex").length;
          // What a reader sees: the cell's text without code (where `$` is literal) and without the
          // typeset formulas (whose hidden MathML keeps the TeX source for screen readers).
          const copy = el.cloneNode(true);
          for (const skip of Array.from(copy.querySelectorAll("code, pre, .katex")) as ProbeElement[]) skip.remove();
          document.body.appendChild(copy); // innerText needs a rendered element
          const text = copy.innerText;
          copy.remove();
          for (const m of text.matchAll(/\$\$|\$\\|\\[A-Za-z]{2,}/g)) {
            raw.push(text.slice(Math.max(0, m.index! - 20), m.index! + 30).replace(/\s+/g, " "));
          }
        }
        return {
          cells: cells.length,
          done: document.documentElement.getAttribute("data-thanos-math") === "done",
          typeset,
          raw,
        };
      }, MATH_SCOPE);
      if (screenshot) {
        await Deno.mkdir(dirname(resolve(screenshot)), { recursive: true });
        await page.screenshot({ path: screenshot, fullPage: true });
      }
      return { url, plots, math, errors, warnings, screenshot, ms: performance.now() - t0 };
    } finally {
      await page.close();
    }
  }

  /** Stops the browser. */
  async close(): Promise<void> {
    await this.browser.close();
  }
}

/**
 * Executes, converts and (with a checker) browser-checks one notebook.
 *
 * @param notebook path of the .ipynb
 * @param options runner options
 * @param checker a browser from {@link PageChecker.launch}; without one the page is not loaded
 * @returns paths, figure count, page report and timings
 * @throws NotebookError on a cell error, a failed conversion or a page problem
 * @example
 * ```ts
 * const checker = await PageChecker.launch();
 * try {
 *   const run = await runNotebook("notebooks/01_calibration.ipynb", { quick: true }, checker);
 *   console.log(run.ms);
 * } finally {
 *   await checker.close();
 * }
 * ```
 */
export async function runNotebook(
  notebook: string,
  options: RunnerOptions = {},
  checker?: PageChecker,
): Promise<NotebookRun> {
  const { executed, ms: executeMs } = await executeNotebook(notebook, options);
  const { html, ms: htmlMs } = await notebookToHtml(executed, options);
  const plots = countPlotlyOutputs(executed);
  const result: NotebookRun = { notebook, executed, html, plots, ms: { execute: executeMs, html: htmlMs } };
  if (checker) {
    const name = basename(notebook, extname(notebook));
    const shotDir = resolve(options.screenshotDir ?? join(ROOT, "build", "screenshots"));
    const page = await checker.check(html, join(shotDir, `${name}.png`));
    result.page = page;
    result.ms.browser = page.ms;
    const problems = pageProblems(page, plots);
    if (problems.length > 0) {
      throw new NotebookError(notebook, `the HTML page failed its check (${html}):\n  ${problems.join("\n  ")}`);
    }
  }
  return result;
}

/**
 * The notebooks at the given paths: .ipynb files as named, folders searched (not recursively),
 * sorted by path; checkpoints skipped.
 *
 * @param paths files or folders
 * @param options.missingOk a path that does not exist counts as an empty folder (git keeps no
 *   empty notebooks/ folder) instead of an error
 * @returns notebook paths
 */
export function findNotebooks(paths: string[], { missingOk = false }: { missingOk?: boolean } = {}): string[] {
  const found: string[] = [];
  for (const p of paths) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(p);
    } catch (err) {
      if (missingOk && err instanceof Deno.errors.NotFound) continue;
      throw new NotebookError(p, "no such file or folder");
    }
    if (info.isDirectory) {
      for (const entry of Deno.readDirSync(p)) {
        if (entry.isFile && entry.name.endsWith(".ipynb")) found.push(join(p, entry.name));
      }
    } else {
      found.push(p);
    }
  }
  return found.filter((p) => !p.includes(".ipynb_checkpoints")).sort();
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? "-" : `${(ms / 1000).toFixed(1)}s`;
}

/**
 * The `--timeout SECONDS_PER_CELL` flag of the notebook runner and of docs.ts: undefined when absent, the
 * number of seconds, or null when it is not a number > 0 (the caller reports it and exits 2).
 */
export function cellTimeoutFlag(text: string | undefined): number | undefined | null {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : null;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      quick: { type: "boolean", default: false },
      "no-browser": { type: "boolean", default: false },
      out: { type: "string" },
      screenshots: { type: "string" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno run -A kernel/run_notebooks.ts [--quick] [--no-browser] [--out DIR] [--screenshots DIR]\n" +
        "         [--timeout SECONDS_PER_CELL] [notebook.ipynb | folder ...]   (default: notebooks/)",
    );
    return 0;
  }
  const timeout = cellTimeoutFlag(values.timeout);
  if (timeout === null) {
    console.error(`run_notebooks: --timeout is "${values.timeout}"; expected seconds > 0`);
    return 2;
  }
  const options: RunnerOptions = {
    quick: values.quick,
    outDir: values.out,
    screenshotDir: values.screenshots,
    cellTimeoutS: timeout,
  };
  const notebooks = positionals.length > 0
    ? findNotebooks(positionals)
    : findNotebooks([join(ROOT, "notebooks")], { missingOk: true });
  if (notebooks.length === 0) {
    console.log("run_notebooks: no notebooks found");
    return 0;
  }
  const checker = values["no-browser"] ? undefined : await PageChecker.launch(options);
  let failed = 0;
  try {
    for (const nb of notebooks) {
      try {
        const r = await runNotebook(nb, options, checker);
        console.log(
          `ok   ${nb}: execute ${seconds(r.ms.execute)}, html ${seconds(r.ms.html)}, browser ${
            seconds(r.ms.browser)
          }, ` +
            `${r.plots} figures -> ${r.html}${r.page?.screenshot ? `, ${r.page.screenshot}` : ""}`,
        );
      } catch (err) {
        failed++;
        console.error(`FAIL ${nb}: ${err instanceof Error ? err.message : err}`);
      }
    }
  } finally {
    await checker?.close();
  }
  console.log(`run_notebooks: ${notebooks.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
