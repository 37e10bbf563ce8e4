/**
 * Test matrices and error measures for the factorization tests (cholesky, solve).
 */

import { qr } from "mathjs";
import * as ref from "./reference/factor.ts";
import { randn } from "../thanos/util/random.ts";

export { removalSets } from "../thanos/util/random.ts";

/**
 * A damped layer Hessian like the ones Thanos sees: H = (2/s)·XᵀX of s random activations of d
 * features (rank-deficient when s < d), `outliers` features with 30x larger norm, `dead` features
 * that are always zero, then the SparseGPT damping with `percdamp`.
 */
export function dampedHessian(
  d: number,
  seed: number,
  { samples = d, outliers = 0, dead = 0, percdamp = 0.01 } = {},
): { h: Float64Array; deadFlags: Uint32Array } {
  const x = randn(samples * d, seed);
  for (let s = 0; s < samples; s++) {
    for (let j = 0; j < outliers; j++) x[s * d + ((j * 7919) % d)] *= 30;
    for (let j = 0; j < dead; j++) x[s * d + ((j * 104729 + 3) % d)] = 0;
  }
  const { h, dead: deadFlags } = ref.damp(ref.hessian(x, samples, d), d, percdamp);
  return { h, deadFlags };
}

/** A symmetric positive definite matrix Q·diag(λ)·Qᵀ with eigenvalues log-spaced from 1 to `cond`. */
export function spdWithCondition(n: number, cond: number, seed: number): Float64Array {
  const g = randn(n * n, seed);
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(g.subarray(i * n, (i + 1) * n)));
  const q = qr(rows).Q as number[][];
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const lambda = n === 1 ? 1 : Math.pow(cond, k / (n - 1));
    for (let i = 0; i < n; i++) {
      const qik = q[i][k] * lambda;
      for (let j = 0; j < n; j++) out[i * n + j] += qik * q[j][k];
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) out[j * n + i] = out[i * n + j] = (out[i * n + j] + out[j * n + i]) / 2;
  }
  return out;
}

/** max |a − b| / max |b|: the normwise relative error in the max norm. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  if (Number.isNaN(diff) || a.length !== b.length) return Infinity;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return Infinity;
  return scale === 0 ? diff : diff / scale;
}

/** Throws unless relErr(actual, expected) ≤ tol, naming `what` and the error found. */
export function assertRelErr(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): number {
  const err = relErr(actual, expected);
  if (!(err <= tol)) throw new Error(`${what}: relative error ${err.toExponential(3)} > tolerance ${tol}`);
  return err;
}

/** The [r0:r0+rows, c0:c0+cols] window of a row-major n-column array, as a dense array. */
export function window(
  a: ArrayLike<number>,
  n: number,
  r0: number,
  c0: number,
  rows: number,
  cols: number,
): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = a[(r0 + i) * n + c0 + j];
  return out;
}
