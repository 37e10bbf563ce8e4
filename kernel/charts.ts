/**
 * Line charts, scatter plots and bar charts.
 *
 * @module
 */

import { Figure, type PlotlyLayout, type PlotlyTrace } from "./figure.ts";
import { formatNumber, plotValue } from "./format.ts";
import { finiteRange } from "./matrix.ts";

/** One named series of points. */
export interface Series {
  name?: string;
  /** x values (numbers or category labels); default 0, 1, 2, … */
  x?: ArrayLike<number> | readonly string[];
  y: ArrayLike<number>;
}

/** A single y array, one series, several series, or `{name: y}`. */
export type SeriesInput = ArrayLike<number> | Series | readonly Series[] | Record<string, ArrayLike<number>>;

/** Options of {@link lineChart} and {@link scatter}. */
export interface XYOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  logX?: boolean;
  logY?: boolean;
  /** Draw markers on the lines of a line chart (default: only when a series has ≤ 50 points). */
  markers?: boolean;
  /** Pixel height (default 450). */
  height?: number;
  width?: number;
}

/** plotly.js's default colour sequence, assigned explicitly so a series keeps its colour inside a grid. */
export const COLORWAY = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
] as const;

function isNumberArrayLike(v: unknown): v is ArrayLike<number> {
  if (ArrayBuffer.isView(v)) return true;
  return Array.isArray(v) && (v.length === 0 || typeof v[0] === "number");
}

/** Normalises a series input into a non-empty list of series with checked lengths. */
export function toSeries(input: SeriesInput, what: string): Series[] {
  let list: Series[];
  if (isNumberArrayLike(input)) list = [{ y: input }];
  else if (Array.isArray(input)) list = [...input as readonly Series[]];
  else if (typeof input === "object" && input !== null && "y" in input && isNumberArrayLike((input as Series).y)) {
    list = [input as Series];
  } else if (typeof input === "object" && input !== null) {
    list = Object.entries(input as Record<string, ArrayLike<number>>).map(([name, y]) => ({ name, y }));
  } else {
    throw new TypeError(`${what}: expected numbers, a {y} series, an array of series or {name: values}`);
  }
  if (list.length === 0) throw new RangeError(`${what}: got no series; expected at least one`);
  list.forEach((s, i) => {
    const label = s?.name !== undefined ? `'${s.name}'` : `${i}`;
    if (!isNumberArrayLike(s?.y)) throw new TypeError(`${what}: series ${label} has no numeric y values`);
    if (s.y.length === 0) throw new RangeError(`${what}: series ${label} has no points; expected at least one`);
    if (s.x !== undefined && s.x.length !== s.y.length) {
      throw new RangeError(
        `${what}: series ${label} has ${s.x.length} x values but ${s.y.length} y values; expected equal lengths`,
      );
    }
  });
  return list;
}

function axes(options: XYOptions): PlotlyLayout {
  const layout: PlotlyLayout = {
    xaxis: { title: { text: options.xLabel ?? "" }, ...(options.logX ? { type: "log" } : {}) },
    yaxis: { title: { text: options.yLabel ?? "" }, ...(options.logY ? { type: "log" } : {}) },
    margin: { l: 60, r: 20, t: options.title ? 50 : 20, b: 50 },
  };
  if (options.title) layout.title = { text: options.title };
  if (options.height !== undefined) layout.height = options.height;
  if (options.width !== undefined) layout.width = options.width;
  return layout;
}

function seriesSummary(list: Series[]): string {
  const parts = list.slice(0, 4).map((s, i) => {
    const r = finiteRange(s.y);
    const span = r.min <= r.max ? `y ${formatNumber(r.min)} to ${formatNumber(r.max)}` : "no finite y";
    return `${s.name ?? `series ${i}`} (${s.y.length} points, ${span})`;
  });
  if (list.length > 4) parts.push(`… ${list.length - 4} more`);
  return `${list.length} series: ${parts.join(", ")}`;
}

function xyFigure(kind: "line" | "scatter", input: SeriesInput, options: XYOptions): Figure {
  const what = kind === "line" ? "lineChart" : "scatter";
  const list = toSeries(input, what);
  const data: PlotlyTrace[] = list.map((s, i) => {
    const lines = kind === "line", markers = kind === "scatter" || (options.markers ?? s.y.length <= 50);
    const color = COLORWAY[i % COLORWAY.length];
    const trace: PlotlyTrace = {
      type: "scatter",
      mode: lines && markers ? "lines+markers" : lines ? "lines" : "markers",
      name: s.name ?? `series ${i}`,
      y: Array.from(s.y, plotValue),
    };
    // Style only what the mode draws: Plotly.validate rejects a line style on a markers-only trace.
    if (lines) trace.line = { color };
    if (markers) trace.marker = { color };
    if (s.x !== undefined) {
      trace.x = Array.from(s.x as ArrayLike<number | string>, (v) => typeof v === "number" ? plotValue(v) : v);
    }
    return trace;
  });
  const layout = axes(options);
  layout.showlegend = list.length > 1;
  const noun = kind === "line" ? "line chart" : "scatter";
  const summary = `${noun}${options.title ? ` '${options.title}'` : ""}, ${seriesSummary(list)}`;
  return new Figure({ kind, data, layout, summary });
}

/**
 * Lines through each series' points, e.g. perplexity against sparsity for each method.
 *
 * @param series y values, a series, several series or `{name: y}`
 * @param options titles, log axes, markers
 * @returns a figure; its summary lists each series' size and y range
 * @example
 * ```ts
 * lineChart([
 *   { name: "thanos", x: [0.3, 0.5, 0.7], y: [5.9, 6.8, 11.2] },
 *   { name: "wanda", x: [0.3, 0.5, 0.7], y: [6.0, 7.3, 14.9] },
 * ], { xLabel: "sparsity", yLabel: "perplexity", logY: true });
 * ```
 */
export function lineChart(series: SeriesInput, options: XYOptions = {}): Figure {
  return xyFigure("line", series, options);
}

/**
 * Points without lines, e.g. per-column ‖X_j‖ against |W_ij| scores.
 *
 * @param series y values, a series, several series or `{name: y}`
 * @param options titles and log axes
 * @returns a figure
 * @example
 * ```ts
 * scatter({ name: "columns", x: norms, y: scores }, { xLabel: "‖X_j‖", yLabel: "score", logX: true });
 * ```
 */
export function scatter(series: SeriesInput, options: XYOptions = {}): Figure {
  return xyFigure("scatter", series, options);
}

/** Bars by label (`{label: value}`), or grouped bars: one series of values per category list. */
export type BarInput =
  | Record<string, number>
  | { categories: readonly string[]; series: readonly { name: string; values: ArrayLike<number> }[] };

/** Options of {@link barChart}. */
export interface BarOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Stack the series instead of grouping them side by side. */
  stacked?: boolean;
  /** Horizontal bars (categories on the y axis). */
  horizontal?: boolean;
  logY?: boolean;
  /** Print each bar's value on it. */
  showValues?: boolean;
  height?: number;
  width?: number;
}

/**
 * Bars per label, or grouped bars, e.g. perplexity per method for each sparsity pattern.
 *
 * @param bars `{label: value}` or `{categories, series: [{name, values}]}`
 * @param options titles, stacking, orientation
 * @returns a figure
 * @example
 * ```ts
 * barChart({
 *   categories: ["50%", "2:4", "4:8"],
 *   series: [{ name: "thanos", values: [6.8, 8.1, 7.4] }, { name: "wanda", values: [7.3, 9.0, 8.0] }],
 * }, { yLabel: "perplexity" });
 * ```
 */
export function barChart(bars: BarInput, options: BarOptions = {}): Figure {
  let categories: string[];
  let series: { name: string; values: ArrayLike<number> }[];
  if (bars !== null && typeof bars === "object" && "categories" in bars && "series" in bars) {
    const grouped = bars as Extract<BarInput, { categories: readonly string[] }>;
    categories = [...grouped.categories];
    series = [...grouped.series];
    if (categories.length === 0) throw new RangeError("barChart: got 0 categories; expected at least one");
    if (series.length === 0) throw new RangeError("barChart: got no series; expected at least one");
    for (const s of series) {
      if (!isNumberArrayLike(s?.values) || s.values.length !== categories.length) {
        throw new RangeError(
          `barChart: series '${s?.name}' has ${s?.values?.length ?? "no"} values but there are ` +
            `${categories.length} categories; expected one value per category`,
        );
      }
    }
  } else if (bars !== null && typeof bars === "object") {
    const entries = Object.entries(bars as Record<string, number>);
    if (entries.length === 0) throw new RangeError("barChart: got no bars; expected at least one label");
    for (const [label, v] of entries) {
      if (typeof v !== "number") throw new TypeError(`barChart: bar '${label}' is ${typeof v}; expected a number`);
    }
    categories = entries.map(([label]) => label);
    series = [{ name: "", values: entries.map(([, v]) => v) }];
  } else {
    throw new TypeError("barChart: expected {label: value} or {categories, series}");
  }
  const horizontal = options.horizontal ?? false;
  const data: PlotlyTrace[] = series.map((s, i) => {
    const values = Array.from(s.values, plotValue);
    const trace: PlotlyTrace = {
      type: "bar",
      name: s.name,
      marker: { color: COLORWAY[i % COLORWAY.length] },
      orientation: horizontal ? "h" : "v",
      [horizontal ? "y" : "x"]: categories,
      [horizontal ? "x" : "y"]: values,
    };
    if (options.showValues) {
      trace.text = Array.from(s.values, (v) => formatNumber(v));
      trace.textposition = "auto";
    }
    return trace;
  });
  const layout = axes({
    ...options,
    logX: horizontal && options.logY,
    logY: !horizontal && options.logY,
    xLabel: horizontal ? options.yLabel : options.xLabel,
    yLabel: horizontal ? options.xLabel : options.yLabel,
  });
  // Labels such as "50%" or "2:4" would otherwise be auto-typed as numbers or dates.
  (layout[horizontal ? "yaxis" : "xaxis"] as Record<string, unknown>).type = "category";
  layout.barmode = options.stacked ? "stack" : "group";
  layout.showlegend = series.length > 1;
  const title = options.title ? ` '${options.title}'` : "";
  let summary: string;
  if (series.length === 1) {
    const shown = categories.slice(0, 8).map((c, i) => `${c} ${formatNumber(series[0].values[i])}`);
    if (categories.length > 8) shown.push(`… ${categories.length - 8} more`);
    summary = `bar chart${title}, ${categories.length} bars: ${shown.join(", ")}`;
  } else {
    summary = `bar chart${title}, ${categories.length} categories x ${series.length} series ` +
      `(${series.map((s) => s.name).join(", ")})${options.stacked ? ", stacked" : ""}`;
  }
  return new Figure({ kind: "bar", data, layout, summary });
}
