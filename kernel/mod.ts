/**
 * Notebook-side helpers: plotly figures and tables shown through Deno's Jupyter display protocol,
 * progress that updates in place, and quick-mode detection. The headless notebook runner lives in
 * run_notebooks.ts (a script, not re-exported here).
 *
 * This module only re-exports; see the files it names.
 * @module
 */
export * from "./display.ts";
export * from "./env.ts";
export * from "./figure.ts";
export * from "./format.ts";
export * from "./heatmap.ts";
export * from "./charts.ts";
export * from "./histogram.ts";
export * from "./crop.ts";
export * from "./grid.ts";
export * from "./table.ts";
export * from "./progress.ts";
export * from "./text_stream.ts";
export * from "./matrix.ts";
export { PLOTLY_VERSION, plotlyLoader } from "./plotly.ts";
export { closeFigureRenderer, figurePng, STATIC_FIGURES_ENV, staticImagesEnabled } from "./static_image.ts";
export * from "./setup.ts";
