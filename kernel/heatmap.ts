/**
 * Heatmaps of weights, masks and Hessians.
 *
 * @module
 */

import { Figure, type PlotlyLayout, type PlotlyTrace } from "./figure.ts";
import { formatNumber, roundedPlotValue } from "./format.ts";
import { downsample, type DownsampleOptions, finiteRange, type MatrixInput, toMatrix } from "./matrix.ts";

/** Options of {@link heatmap}. */
export interface HeatmapOptions {
  title?: string;
  /** x axis title (default "column"). */
  xLabel?: string;
  /** y axis title (default "row"). */
  yLabel?: string;
  /** A plotly colorscale name ("Viridis", "RdBu", "Greys", …) or `[[0, color], …, [1, color]]` (default "Viridis"). */
  colorscale?: string | [number, string][];
  /** Flip the colorscale. */
  reverseScale?: boolean;
  /** Colour range; defaults to the data's finite range. */
  zmin?: number;
  zmax?: number;
  /** Centre of a diverging colorscale (e.g. 0 for weights with "RdBu"). */
  zmid?: number;
  colorbarTitle?: string;
  /**
   * Block-reduce matrices larger than maxRows x maxCols (default 256 x 256, "mean", which shows a
   * 0/1 mask as its kept fraction); `false` plots every cell.
   */
  downsample?: false | DownsampleOptions;
  /** Pixel height (default 450). */
  height?: number;
  /** Pixel width (default: the output's width). */
  width?: number;
}

function checkFinite(name: string, v: number | undefined): void {
  if (v !== undefined && !Number.isFinite(v)) {
    throw new RangeError(`heatmap: ${name} is ${v}; expected a finite number`);
  }
}

/** Significant digits of the values a heatmap sends to plotly. */
export const HEATMAP_DIGITS = 4;

/**
 * A heatmap of a matrix, row 0 at the top like a printed matrix.
 *
 * @param matrix rows, `{data, shape}` or `{data, rows, cols}`
 * @param options title, axis labels, colours, downsampling
 * @returns a figure; its text summary reads "heatmap 64x64 'H', min …, max …"
 * @example
 * ```ts
 * heatmap({ data: await w.read(), shape: w.shape }, { title: "W (q_proj)", colorscale: "RdBu", zmid: 0 });
 * ```
 */
export function heatmap(matrix: MatrixInput, options: HeatmapOptions = {}): Figure {
  const m = toMatrix(matrix, "heatmap");
  const { title, xLabel = "column", yLabel = "row", colorscale = "Viridis", zmin, zmax, zmid } = options;
  checkFinite("zmin", zmin);
  checkFinite("zmax", zmax);
  checkFinite("zmid", zmid);
  if (zmin !== undefined && zmax !== undefined && !(zmin < zmax)) {
    throw new RangeError(`heatmap: zmin ${zmin} is not below zmax ${zmax}; expected zmin < zmax`);
  }
  const range = finiteRange(m.data);
  const ds = downsample(m, options.downsample === false ? { maxRows: m.rows, maxCols: m.cols } : options.downsample);
  const shown = ds.matrix;
  const reduced = shown.rows < m.rows || shown.cols < m.cols;

  const z: (number | null)[][] = [];
  for (let r = 0; r < shown.rows; r++) {
    const row = new Array<number | null>(shown.cols);
    // 4 significant digits: plenty for a colour scale and its hover text, and a 256x256 heatmap's
    // output stays around 1 MB (large kernel messages are what Deno 2.9's kernel occasionally corrupts)
    for (let c = 0; c < shown.cols; c++) row[c] = roundedPlotValue(shown.data[r * shown.cols + c], HEATMAP_DIGITS);
    z.push(row);
  }
  const trace: PlotlyTrace = { type: "heatmap", z, colorscale, hoverongaps: false };
  if (options.reverseScale) trace.reversescale = true;
  if (zmin !== undefined) trace.zmin = zmin;
  if (zmax !== undefined) trace.zmax = zmax;
  if (zmid !== undefined) trace.zmid = zmid;
  if (options.colorbarTitle) trace.colorbar = { title: { text: options.colorbarTitle } };
  let xTitle = xLabel, yTitle = yLabel;
  if (reduced) {
    // Each shown cell is a block; place it at its first source row/column so axes keep source indices.
    trace.x = ds.colStarts.slice(0, -1);
    trace.y = ds.rowStarts.slice(0, -1);
    trace.hovertemplate = `${yLabel} %{y}…, ${xLabel} %{x}…: %{z} (${ds.reduce} of block)<extra></extra>`;
    xTitle = `${xLabel} (blocks of ${blockSize(ds.colStarts)})`;
    yTitle = `${yLabel} (blocks of ${blockSize(ds.rowStarts)})`;
  } else {
    trace.hovertemplate = `${yLabel} %{y}, ${xLabel} %{x}: %{z}<extra></extra>`;
  }
  const layout: PlotlyLayout = {
    xaxis: { title: { text: xTitle }, side: "bottom" },
    yaxis: { title: { text: yTitle }, autorange: "reversed" },
    margin: { l: 60, r: 20, t: title ? 50 : 20, b: 50 },
  };
  if (title) layout.title = { text: title };
  if (options.height !== undefined) layout.height = options.height;
  if (options.width !== undefined) layout.width = options.width;

  let summary = `heatmap ${m.rows}x${m.cols}${title ? ` '${title}'` : ""}, `;
  summary += range.min <= range.max
    ? `min ${formatNumber(range.min)}, max ${formatNumber(range.max)}`
    : "no finite values";
  if (range.nonFinite > 0) summary += `, ${range.nonFinite} non-finite`;
  if (reduced) summary += `, shown as ${shown.rows}x${shown.cols} (${ds.reduce} of blocks)`;
  return new Figure({ kind: "heatmap", data: [trace], layout, summary });
}

/** "4" for equal blocks, "3-4" when the source size is not a multiple. */
function blockSize(starts: number[]): string {
  let lo = Infinity, hi = 0;
  for (let i = 1; i < starts.length; i++) {
    lo = Math.min(lo, starts[i] - starts[i - 1]);
    hi = Math.max(hi, starts[i] - starts[i - 1]);
  }
  return lo === hi ? `${lo}` : `${lo}-${hi}`;
}
