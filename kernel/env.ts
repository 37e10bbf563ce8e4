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
