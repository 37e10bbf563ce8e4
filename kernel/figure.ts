/**
 * A plotly figure as a Jupyter display object.
 *
 * Its MIME bundle carries three representations, and each front end picks the richest it knows:
 * - `application/vnd.plotly.v1+json`: `{data, layout, config}` for front ends with a plotly
 *   renderer (JupyterLab's plotly extension, VS Code);
 * - `text/html`: a `<div>`, the figure as JSON in a `<script type="application/json">`, and a
 *   script that draws it with plotly.js, which the first figure of a kernel session inlines (see
 *   plotly.ts), so notebooks and their HTML exports render offline;
 * - `image/png`: the same figure drawn by plotly.js in headless Chromium (static_image.ts), for
 *   viewers without JavaScript (GitHub, nbviewer, docs/); inside a notebook, or with
 *   `THANOS_STATIC_FIGURES=1`;
 * - `text/plain`: a one-line summary ("heatmap 64x64 'H', min …, max …") for terminals, logs and
 *   tests.
 *
 * The HTML marks its div with `data-thanos-state` (`waiting` → `rendered` or `error`), which the
 * headless notebook check (run_notebooks.ts) reads.
 *
 * @module
 */

import { $display, type Displayable, type MimeBundle } from "./display.ts";
import { claimPlotlyLoader, PLOTLY_QUEUE, PLOTLY_VERSION, plotlyLoaderHtml } from "./plotly.ts";
import { figurePng, staticImagesEnabled } from "./static_image.ts";

/** One plotly trace (`{type: "heatmap", z: …}`), plain JSON. */
export type PlotlyTrace = { type: string } & Record<string, unknown>;
/** A plotly layout, plain JSON. */
export type PlotlyLayout = Record<string, unknown>;

/** The JSON of `application/vnd.plotly.v1+json`. */
export interface FigureJson {
  data: PlotlyTrace[];
  layout: PlotlyLayout;
  config: Record<string, unknown>;
}

/** What a figure is made of. */
export interface FigureInit {
  /** What the figure shows: "heatmap", "line", "bar", "scatter", "grid", … */
  kind: string;
  data: PlotlyTrace[];
  layout?: PlotlyLayout;
  /** plotly config; merged over `{responsive: true, displaylogo: false}` */
  config?: Record<string, unknown>;
  /** The `text/plain` representation. */
  summary: string;
}

let warned = false;
/** One line on stderr the first time a figure cannot get its static image (the figure still shows). */
function warnOnce(message: string): void {
  if (warned) return;
  warned = true;
  console.warn(`kernel/figure: ${message} (set THANOS_CHROMIUM to a Chromium binary, or THANOS_STATIC_FIGURES=0)`);
}

/** CSS class of every figure div in the HTML representation. */
export const FIGURE_CLASS = "thanos-plot";
const DEFAULT_HEIGHT = 450;

/** Typed arrays become plain arrays (JSON.stringify would write them as objects); the rest is copied. */
function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number>);
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

/** JSON that is safe inside an HTML `<script>` element (no `<`, so no `</script>`). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * A plotly figure. Build one with the helpers (heatmap, lineChart, barChart, scatter, grid) or
 * directly from traces and a layout.
 *
 * @example
 * ```ts
 * const fig = new Figure({
 *   kind: "line",
 *   data: [{ type: "scatter", mode: "lines", y: [3, 1, 2] }],
 *   summary: "line chart, 3 points",
 * });
 * fig; // last expression of a notebook cell: shown as a plot
 * ```
 */
export class Figure implements Displayable {
  readonly kind: string;
  readonly data: PlotlyTrace[];
  readonly layout: PlotlyLayout;
  readonly config: Record<string, unknown>;
  readonly summary: string;

  constructor(init: FigureInit) {
    if (!Array.isArray(init.data) || init.data.length === 0) {
      throw new RangeError(`Figure: a ${init.kind} needs at least one trace but got ${init.data?.length ?? "none"}`);
    }
    for (const [i, trace] of init.data.entries()) {
      if (typeof trace?.type !== "string") {
        throw new TypeError(`Figure: trace ${i} of a ${init.kind} has no "type"; expected e.g. "heatmap" or "scatter"`);
      }
    }
    this.kind = init.kind;
    this.data = plain(init.data) as PlotlyTrace[];
    this.layout = plain(init.layout ?? {}) as PlotlyLayout;
    this.config = { responsive: true, displaylogo: false, ...(plain(init.config ?? {}) as Record<string, unknown>) };
    this.summary = init.summary;
  }

  /** Pixel height of the plot (`layout.height`, default 450). */
  get height(): number {
    return typeof this.layout.height === "number" ? this.layout.height : DEFAULT_HEIGHT;
  }

  /** The `application/vnd.plotly.v1+json` payload. */
  toJSON(): FigureJson {
    return { data: this.data, layout: this.layout, config: this.config };
  }

  /** The `text/plain` representation. */
  toString(): string {
    return this.summary;
  }

  /**
   * The HTML fragment that draws this figure.
   *
   * @param options.includePlotly prepend the plotly.js loader (default false: the page already has it,
   *   or will get it from another output)
   * @returns a `<div>` plus two `<script>` elements
   */
  html({ includePlotly = false }: { includePlotly?: boolean } = {}): string {
    const id = `${FIGURE_CLASS}-${crypto.randomUUID()}`;
    const div = `<div id="${id}" class="${FIGURE_CLASS}" data-thanos-state="waiting" data-thanos-kind="` +
      `${escapeHtml(this.kind)}" data-thanos-traces="${this.data.length}" ` +
      `style="width:100%;height:${this.height}px;font:13px sans-serif;color:#666"></div>`;
    const spec = `<script type="application/json" id="${id}-spec">${scriptJson(this.toJSON())}</script>`;
    const draw = `<script type="text/javascript">
(function (id) {
  var el = document.getElementById(id), specEl = document.getElementById(id + "-spec");
  if (!el || !specEl) return;
  function fail(err) {
    el.setAttribute("data-thanos-state", "error");
    el.textContent = "plot failed: " + err;
    console.error("thanos figure " + id + ": " + err);
  }
  function draw() {
    try {
      var spec = JSON.parse(specEl.textContent);
      el.textContent = "";
      window.Plotly.newPlot(el, spec.data, spec.layout, spec.config).then(function () {
        el.setAttribute("data-thanos-state", "rendered");
      }, fail);
    } catch (err) {
      fail(err);
    }
  }
  if (window.Plotly && window.Plotly.newPlot) return draw();
  el.textContent = "Waiting for plotly.js ${PLOTLY_VERSION}: the first figure shown in this kernel session inlines it. " +
    "If that output was cleared, show plotlyLoader() from kernel/ or restart the kernel.";
  (window.${PLOTLY_QUEUE} = window.${PLOTLY_QUEUE} || []).push(draw);
})(${JSON.stringify(id)});
</script>`;
    return (includePlotly ? plotlyLoaderHtml() + "\n" : "") + div + "\n" + spec + "\n" + draw;
  }

  /**
   * A standalone HTML document with plotly.js inlined, e.g. to save a figure next to a report.
   *
   * @param title the page title (default: the summary)
   * @returns the document
   */
  toHTML(title = this.summary): string {
    return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n` +
      `<body>\n${this.html({ includePlotly: true })}\n</body></html>\n`;
  }

  /**
   * The bundle without the static image: plotly JSON, offline HTML (plotly.js inlined when this is
   * the session's first figure) and the summary.
   *
   * @returns the MIME bundle
   */
  interactiveBundle(): MimeBundle {
    return {
      "application/vnd.plotly.v1+json": this.toJSON(),
      "text/html": this.html({ includePlotly: claimPlotlyLoader() }),
      "text/plain": this.summary,
    };
  }

  /**
   * Jupyter display: plotly JSON, offline HTML (plotly.js inlined once per session), a static PNG
   * when {@link staticImagesEnabled} (see static_image.ts) and a summary.
   */
  async [$display](): Promise<MimeBundle> {
    const bundle = this.interactiveBundle();
    if (staticImagesEnabled()) {
      try {
        bundle["image/png"] = await figurePng(this.toJSON());
      } catch (err) {
        warnOnce(`figures carry no static image: ${err instanceof Error ? err.message.split("\n")[0] : err}`);
      }
    }
    return bundle;
  }
}
