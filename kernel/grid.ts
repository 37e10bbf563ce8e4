/**
 * Several figures side by side in one plot ("masks of the four methods at 50%").
 *
 * @module
 */

import { Figure, type PlotlyLayout, type PlotlyTrace } from "./figure.ts";
import { finiteRange } from "./matrix.ts";

/** Options of {@link grid}. */
export interface GridOptions {
  /** Figures per row (default: all of them, at most 3). */
  columns?: number;
  title?: string;
  /** Heatmaps share one colour axis and one colorbar (default false: one colorbar each). */
  sharedColorScale?: boolean;
  /** Pixel height (default 360 per row, plus room for the title). */
  height?: number;
  /** Gap between columns as a fraction of the width (default 0.06). */
  horizontalSpacing?: number;
  /** Gap between rows as a fraction of the height (default 0.16). */
  verticalSpacing?: number;
}

const COLORBAR_ROOM = 0.06;

/** A paper coordinate: clamped to [0, 1] and rounded, so float noise never leaves the range. */
function unit(v: number): number {
  return Math.min(1, Math.max(0, Math.round(v * 1e6) / 1e6));
}

function fraction(name: string, v: number): number {
  if (!(v >= 0 && v < 0.5)) throw new RangeError(`grid: ${name} is ${v}; expected a fraction in [0, 0.5)`);
  return v;
}

function titleText(layout: PlotlyLayout): string | undefined {
  const t = layout.title as { text?: unknown } | undefined;
  return typeof t?.text === "string" && t.text !== "" ? t.text : undefined;
}

/**
 * Lays figures out on a grid of subplots, each keeping its axes, axis titles and title.
 *
 * @param figures single-plot figures (heatmaps, line, bar and scatter charts; not grids)
 * @param options columns, title, shared colour scale, spacing
 * @returns one figure with a subplot per input
 * @example
 * ```ts
 * grid([heatmap(maskA, { title: "wanda" }), heatmap(maskB, { title: "thanos" })],
 *   { title: "masks at 50%", sharedColorScale: true });
 * ```
 */
export function grid(figures: readonly Figure[], options: GridOptions = {}): Figure {
  const n = figures.length;
  if (n === 0) throw new RangeError("grid: got 0 figures; expected at least one");
  figures.forEach((f, i) => {
    if (!(f instanceof Figure)) throw new TypeError(`grid: item ${i} is not a Figure`);
    if (f.kind === "grid") throw new RangeError(`grid: figure ${i} is itself a grid; expected single-plot figures`);
    for (const t of f.data) {
      if ((t.xaxis ?? "x") !== "x" || (t.yaxis ?? "y") !== "y") {
        throw new RangeError(`grid: figure ${i} (${f.kind}) already has subplots; expected single-plot figures`);
      }
    }
  });
  const columns = options.columns ?? Math.min(n, 3);
  if (!Number.isInteger(columns) || columns < 1) {
    throw new RangeError(`grid: columns is ${columns}; expected a positive integer`);
  }
  const cols = Math.min(columns, n), rows = Math.ceil(n / cols);
  const hs = fraction("horizontalSpacing", options.horizontalSpacing ?? 0.06);
  const vs = fraction("verticalSpacing", options.verticalSpacing ?? 0.16);
  const cellW = (1 - (cols - 1) * hs) / cols, cellH = (1 - (rows - 1) * vs) / rows;
  const shared = options.sharedColorScale ?? false;

  const data: PlotlyTrace[] = [];
  const layout: PlotlyLayout = {
    height: options.height ?? rows * 360 + (options.title ? 40 : 0),
    margin: { l: 60, r: 30, t: options.title ? 80 : 50, b: 50 },
    annotations: [] as Record<string, unknown>[],
  };
  if (options.title) layout.title = { text: options.title };
  const legendNames = new Set<string>();
  // A shared scale: every heatmap gets the same colours and range, and only the last shows its
  // colorbar (layout.coloraxis would do the same, but Plotly.validate 4.1 rejects references to it).
  const heatmaps = figures.flatMap((f) => f.data.filter((t) => t.type === "heatmap"));
  let sharedRange: { zmin: number; zmax: number } | undefined;
  if (shared && heatmaps.length > 0) {
    let zmin = Infinity, zmax = -Infinity;
    for (const t of heatmaps) {
      const range = finiteRange((t.z as (number | null)[][]).flat().map((v) => v ?? NaN));
      zmin = Math.min(zmin, typeof t.zmin === "number" ? t.zmin : range.min);
      zmax = Math.max(zmax, typeof t.zmax === "number" ? t.zmax : range.max);
    }
    if (zmin <= zmax) sharedRange = { zmin, zmax };
  }
  const lastHeatmap = heatmaps[heatmaps.length - 1];

  figures.forEach((fig, k) => {
    const r = Math.floor(k / cols), c = k % cols, idx = k + 1;
    const x0 = c * (cellW + hs), y1 = 1 - r * (cellH + vs), y0 = y1 - cellH;
    const hasColorbar = !shared && fig.data.some((t) => t.type === "heatmap");
    const x1 = x0 + cellW - (hasColorbar ? COLORBAR_ROOM : 0);
    const xName = idx === 1 ? "x" : `x${idx}`, yName = idx === 1 ? "y" : `y${idx}`;
    layout[idx === 1 ? "xaxis" : `xaxis${idx}`] = {
      ...(fig.layout.xaxis as object ?? {}),
      domain: [unit(x0), unit(x1)],
      anchor: yName,
    };
    layout[idx === 1 ? "yaxis" : `yaxis${idx}`] = {
      ...(fig.layout.yaxis as object ?? {}),
      domain: [unit(y0), unit(y1)],
      anchor: xName,
    };
    const subtitle = titleText(fig.layout);
    if (subtitle) {
      (layout.annotations as Record<string, unknown>[]).push({
        text: subtitle,
        x: unit((x0 + x1) / 2),
        y: unit(y1),
        xref: "paper",
        yref: "paper",
        xanchor: "center",
        yanchor: "bottom",
        showarrow: false,
        font: { size: 14 },
      });
    }
    if (layout.barmode === undefined && fig.layout.barmode !== undefined) layout.barmode = fig.layout.barmode;
    for (const source of fig.data) {
      const trace: PlotlyTrace = { ...source, xaxis: xName, yaxis: yName };
      if (trace.type === "heatmap") {
        if (shared) {
          const first = heatmaps[0];
          for (const key of ["colorscale", "reversescale", "zmid"] as const) {
            if (key in first) trace[key] = first[key];
            else delete trace[key];
          }
          if (sharedRange) Object.assign(trace, sharedRange);
          trace.showscale = source === lastHeatmap;
        } else {
          const colorbar = (source.colorbar ?? {}) as Record<string, unknown>;
          trace.colorbar = {
            ...colorbar,
            x: unit(x1 + 0.01),
            xanchor: "left",
            y: unit((y0 + y1) / 2),
            yanchor: "middle",
            len: unit(cellH),
            thickness: 12,
          };
        }
      } else if (typeof trace.name === "string" && trace.name !== "") {
        // One legend entry per series name across subplots.
        trace.legendgroup = trace.name;
        trace.showlegend = !legendNames.has(trace.name);
        legendNames.add(trace.name);
      }
      data.push(trace);
    }
  });
  layout.showlegend = legendNames.size > 1;
  const head = `grid ${rows}x${cols}${options.title ? ` '${options.title}'` : ""}` +
    `${shared ? ", shared colour scale" : ""}:`;
  const summary = [head, ...figures.map((f) => `  ${f.summary}`)].join("\n");
  return new Figure({ kind: "grid", data, layout, summary });
}
