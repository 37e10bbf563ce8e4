/**
 * Number and duration formatting shared by the text summaries, tables and progress lines.
 *
 * @module
 */

/**
 * A short human-readable number: integers as they are, others with `digits` significant digits,
 * very large or small magnitudes in exponent form.
 *
 * @param value the number
 * @param digits significant digits (default 4)
 * @returns e.g. "12", "0.1235", "1.5e-7", "NaN", "inf"
 * @example
 * ```ts
 * formatNumber(Math.PI); // "3.142"
 * ```
 */
export function formatNumber(value: number, digits = 4): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  const a = Math.abs(value);
  if (Number.isInteger(value) && a < 1e15) return String(value);
  if (a !== 0 && (a >= 1e9 || a < 1e-3)) return value.toExponential(digits - 1).replace(/\.?0+e/, "e");
  if (a >= 10 ** digits) return String(Math.round(value));
  return String(Number(value.toPrecision(digits)));
}

/**
 * A value for plotly JSON: 6 significant digits (ample for a plot, and a third of the JSON of a
 * float32 printed as a double), `null` for NaN and ±Infinity (plotly draws a gap). One argument, so
 * it can be passed to `Array.from(values, plotValue)`.
 */
export function plotValue(value: number): number | null {
  return roundedPlotValue(value, 6);
}

/** {@link plotValue} with `digits` significant digits. */
export function roundedPlotValue(value: number, digits: number): number | null {
  return Number.isFinite(value) ? Number(value.toPrecision(digits)) : null;
}

/**
 * A duration for progress lines.
 *
 * @param ms milliseconds
 * @returns "0.4s", "42s", "3m 07s", "2h 05m"
 * @example
 * ```ts
 * formatDuration(187_000); // "3m 07s"
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const totalS = Math.round(s);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m ${String(totalS % 60).padStart(2, "0")}s`;
  const totalM = Math.round(s / 60);
  return `${Math.floor(totalM / 60)}h ${String(totalM % 60).padStart(2, "0")}m`;
}
