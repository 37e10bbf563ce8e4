/**
 * Settings notebooks read from the environment.
 *
 * @module
 */

/** The environment variable that asks notebooks for a quick run (`THANOS_QUICK=1`). */
export const QUICK_ENV = "THANOS_QUICK";

/**
 * True when `THANOS_QUICK` is set to "1", "true" or "yes": notebooks then use their small settings
 * (fewer calibration samples, fewer layers) so the headless notebook tests stay fast. The notebook
 * runner (run_notebooks.ts) sets it for tests and leaves it unset for `deno task notebooks`.
 *
 * @returns whether quick mode is on
 * @example
 * ```ts
 * const nsamples = quickMode() ? 8 : 128;
 * ```
 */
export function quickMode(): boolean {
  const value = Deno.env.get(QUICK_ENV)?.trim().toLowerCase();
  return value === "1" || value === "true" || value === "yes";
}

/**
 * The environment variable that says the page showing the outputs provides plotly.js itself
 * (`THANOS_PLOTLY_LOADER=page`), so figures never inline the 4.8 MB library. The headless notebook
 * runner sets it and injects plotly.js into the exported HTML once: Deno 2.9's kernel occasionally
 * corrupts an iopub message of several MB under load, and without the library every figure output is
 * small. Interactive sessions leave it unset: the first figure of a session carries the library.
 */
export const PLOTLY_LOADER_ENV = "THANOS_PLOTLY_LOADER";

/** True when `THANOS_PLOTLY_LOADER=page` (see {@link PLOTLY_LOADER_ENV}). */
export function pageProvidesPlotly(): boolean {
  return Deno.env.get(PLOTLY_LOADER_ENV)?.trim().toLowerCase() === "page";
}
