/**
 * Histograms (e.g. how many weights each row removes in a block), binned by plotly.js in the
 * browser from the raw values.
 *
 * @module
 */

import { COLORWAY } from "./charts.ts";
import { Figure, type PlotlyLayout, type PlotlyTrace } from "./figure.ts";
import { formatNumber, plotValue } from "./format.ts";
import { finiteRange } from "./matrix.ts";

/** Options of {@link histogram}. */
export interface HistogramOptions {
  title?: string;
  xLabel?: string;
  /** y axis title (default "count") */
  yLabel?: string;
  /**
   * Width of every bin, starting at the smallest value minus half a bin (so integer data gets one
   * bin per integer with `binSize: 1`). Default: plotly's automatic bins.
   */
  binSize?: number;
  logY?: boolean;
  /** Pixel height (default 450). */
  height?: number;
  width?: number;
}

/**
 * A histogram of one set of values, or of several (`{name: values}`) overlaid.
 *
 * @param values the values (non-finite ones are left out), or `{name: values}`
 * @param options titles, bin width, log counts
 * @returns a figure; its summary gives the number of values and their range
 * @throws RangeError for no values, no finite value in a set, or a bin size that is not > 0
 * @example
 * ```ts
 * histogram(removalCounts, { title: "|q_r| per row", xLabel: "weights removed", binSize: 1 });
 * ```
 */
export function histogram(
  values: ArrayLike<number> | Record<string, ArrayLike<number>>,
  options: HistogramOptions = {},
): Figure {
  const sets: [string, ArrayLike<number>][] = typeof (values as ArrayLike<number>)?.length === "number"
    ? [["", values as ArrayLike<number>]]
    : values !== null && typeof values === "object"
    ? Object.entries(values as Record<string, ArrayLike<number>>)
    : [];
  if (sets.length === 0) throw new RangeError("histogram: got no values; expected numbers or {name: numbers}");
  const { binSize } = options;
  if (binSize !== undefined && !(Number.isFinite(binSize) && binSize > 0)) {
    throw new RangeError(`histogram: binSize is ${binSize}; expected a finite number > 0`);
  }
  const ranges = sets.map(([name, v]) => {
    if (typeof v?.length !== "number") throw new TypeError(`histogram: set '${name}' is not an array of numbers`);
    const r = finiteRange(v);
    if (r.min > r.max) {
      throw new RangeError(
        `histogram: set '${name || 0}' has no finite values (${v.length} given); expected at least one`,
      );
    }
    return r;
  });
  const min = Math.min(...ranges.map((r) => r.min)), max = Math.max(...ranges.map((r) => r.max));
  const data: PlotlyTrace[] = sets.map(([name, v], i) => {
    const trace: PlotlyTrace = {
      type: "histogram",
      name: name || "values",
      x: Array.from(v, plotValue).filter((x) => x !== null),
      marker: { color: COLORWAY[i % COLORWAY.length] },
    };
    if (sets.length > 1) trace.opacity = 0.6;
    if (binSize !== undefined) trace.xbins = { start: min - binSize / 2, end: max + binSize / 2, size: binSize };
    return trace;
  });
  const layout: PlotlyLayout = {
    xaxis: { title: { text: options.xLabel ?? "" } },
    yaxis: { title: { text: options.yLabel ?? "count" }, ...(options.logY ? { type: "log" } : {}) },
    margin: { l: 60, r: 20, t: options.title ? 50 : 20, b: 50 },
    bargap: 0.05,
    showlegend: sets.length > 1,
  };
  if (sets.length > 1) layout.barmode = "overlay";
  if (options.title) layout.title = { text: options.title };
  if (options.height !== undefined) layout.height = options.height;
  if (options.width !== undefined) layout.width = options.width;
  const counts = sets.map(([name, v], i) =>
    `${name ? `${name}: ` : ""}${v.length - ranges[i].nonFinite} values from ${formatNumber(ranges[i].min)} to ${
      formatNumber(ranges[i].max)
    }`
  );
  const summary = `histogram${options.title ? ` '${options.title}'` : ""}, ${counts.join("; ")}`;
  return new Figure({ kind: "histogram", data, layout, summary });
}
