/**
 * lm-eval's multiple-choice metrics (lm_eval/api/task.py v0.4.7, `ConfigurableTask.process_results`)
 * and their aggregation (lm_eval/api/metrics.py: `mean`, `mean_stderr`;
 * lm_eval/evaluator_utils.py: stderr "N/A" for a single document).
 *
 * @module
 */

import { pyLen } from "./python.ts";

/** numpy's argmax: the first maximum; a NaN counts as the maximum (the first NaN wins). */
export function npArgmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) return i;
    if (values[i] > values[best]) best = i;
  }
  return best;
}

/** One document's scores. */
export interface DocMetrics {
  /** 1 when argmax(lls) is the gold choice */
  acc: number;
  /** 1 when argmax(lls / len(choice)) is the gold choice, len in characters (code points) */
  acc_norm: number;
}

/**
 * acc and acc_norm of one document: `pred = np.argmax(lls)`,
 * `pred_norm = np.argmax(lls / completion_len)` with `completion_len = [float(len(c)) for c in choices]`.
 */
export function scoreDoc(lls: readonly number[], choices: readonly string[], gold: number): DocMetrics {
  const norm = lls.map((ll, i) => ll / pyLen(choices[i]));
  return { acc: npArgmax(lls) === gold ? 1 : 0, acc_norm: npArgmax(norm) === gold ? 1 : 0 };
}

/** lm-eval's `mean`: sum(arr) / len(arr). */
export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * lm-eval's `mean_stderr`: sample standard deviation (n − 1) / √n; null (lm-eval's "N/A") for
 * fewer than two values.
 */
export function meanStderr(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const mu = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - mu) ** 2;
  return Math.sqrt(ss / (values.length - 1)) / Math.sqrt(values.length);
}
