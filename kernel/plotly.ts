/**
 * plotly.js for notebook HTML that works offline.
 *
 * The library (npm `plotly.js-dist-min`, pinned below) is inlined into the `text/html` of the first
 * figure shown in a kernel session; later figures reuse the `window.Plotly` that script defined.
 * Figures never assume the loader already ran: a figure whose HTML runs first (a notebook re-opened
 * in a front end that renders outputs lazily or out of order) queues itself on
 * `window.__thanosPlotlyQueue` and is drawn when the loader runs. {@link plotlyLoader} re-emits the
 * library on demand for a page whose first figure output was cleared.
 *
 * @module
 */

import plotlySource from "plotly.js-dist-min/plotly.min.js" with { type: "text" };
import { $display, type MimeBundle } from "./display.ts";
import { pageProvidesPlotly } from "./env.ts";

/** The pinned plotly.js version; figures are written against its schema. */
export const PLOTLY_VERSION = "4.1.2";

/** Name of the page-global queue of figures waiting for plotly.js. */
export const PLOTLY_QUEUE = "__thanosPlotlyQueue";

/** Session state lives on globalThis so a module re-imported under another URL shares it. */
const SESSION_KEY = Symbol.for("thanos.kernel.plotlyLoaderShown");

/**
 * Marks the loader as emitted for this kernel session.
 *
 * @returns true the first time in a session (the caller must then include {@link plotlyLoaderHtml}),
 *   false afterwards — and always false when the page provides plotly.js (`THANOS_PLOTLY_LOADER=page`)
 */
export function claimPlotlyLoader(): boolean {
  if (pageProvidesPlotly()) return false;
  const g = globalThis as Record<symbol, unknown>;
  if (g[SESSION_KEY]) return false;
  g[SESSION_KEY] = true;
  return true;
}

/** Forgets that the loader was emitted, so the next figure inlines plotly.js again (tests, restarts). */
export function resetPlotlySession(): void {
  delete (globalThis as Record<symbol, unknown>)[SESSION_KEY];
}

/**
 * Makes JavaScript source safe inside an HTML `<script>` element: `</script`, `<script` and `<!--`
 * would end the element or switch the tokenizer into its escaped states. `\x3C` means `<` in JS
 * strings, template literals and regular expressions alike, and none of the three sequences can
 * occur in JS outside those and comments.
 */
export function escapeScript(source: string): string {
  return source.replace(/<(\/script|script|!--)/gi, "\\x3C$1");
}

/**
 * A `<script>` that defines `window.Plotly` (unless this version is already loaded) and then draws
 * every figure queued before it.
 *
 * @returns the HTML, about 4.8 MB
 */
export function plotlyLoaderHtml(): string {
  return `<script type="text/javascript">
/* plotly.js ${PLOTLY_VERSION} (MIT license, Plotly, Inc.), inlined once per kernel session by thanos-webgpu kernel/ */
(function () {
  var module, exports; // keep the bundle's UMD wrapper on its browser path
  if (!(window.Plotly && window.Plotly.version === "${PLOTLY_VERSION}")) {
${escapeScript(plotlySource)}
  }
  var queue = window.${PLOTLY_QUEUE} || [];
  window.${PLOTLY_QUEUE} = [];
  for (var i = 0; i < queue.length; i++) queue[i]();
})();
</script>`;
}

/** The inlined library's own version banner (first lines of the bundle). */
export function bundledPlotlyVersion(): string | undefined {
  return /plotly\.js v(\d+\.\d+\.\d+)/.exec(plotlySource.slice(0, 200))?.[1];
}

/**
 * A displayable that emits plotly.js into the page, for a notebook whose earlier figure output
 * (which carried the library) was cleared while the kernel kept running.
 *
 * @returns an object to make the last expression of a cell
 * @example
 * ```ts
 * plotlyLoader() // as a cell's last expression
 * ```
 */
export function plotlyLoader(): { [$display](): MimeBundle } {
  return {
    [$display]: () => {
      claimPlotlyLoader();
      return { "text/html": plotlyLoaderHtml(), "text/plain": `plotly.js ${PLOTLY_VERSION} loader` };
    },
  };
}
