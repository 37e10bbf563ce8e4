/**
 * Schur-complement downdate of an inverse: from (H[i1:, i1:])⁻¹ to (H[i1+b:, i1+b:])⁻¹ without
 * re-inverting. (Thanos used it between column blocks; it now reads the same rows off one upper
 * Cholesky factor of H⁻¹ — see thanos/prune/thanos.ts — which is cheaper. This stays a tested
 * linalg building block for code that holds a full inverse.)
 *
 * Given S = (H[i1:, i1:])⁻¹ as an m x m view and a block size b, the inverse of the trailing block
 * H[i1+b:, i1+b:] is the Schur complement of S11 = S[0:b, 0:b] in S:
 *
 *   (H[i1+b:, i1+b:])⁻¹ = S22 − S21·S11⁻¹·S12 = S22 − WᵀW,   W = L11⁻¹·S12,  S11 = L11·L11ᵀ
 *
 * computed as: Cholesky of S11 and L11⁻¹ (b x b, the blocked kernels of cholesky.ts), W = L11⁻¹·S12
 * (matmul, b x (m−b)), then S22 −= WᵀW on the lower triangle, mirrored (syrk: b·(m−b)² flops, half
 * of a dense product, and the result is exactly symmetric, so the repeated downdates of a layer do
 * not drift apart in their two triangles).
 *
 * @module
 */

import { empty } from "../gpu/tensor.ts";
import { CHOLESKY_BLOCK, factor, invertLower, notPositiveDefinite, Padded, Workspace } from "./cholesky.ts";
import { checkSquare, checkView } from "./checks.ts";
import { copyView } from "./elementwise.ts";
import { syrk } from "./factor_kernels.ts";
import { matmul } from "./matmul.ts";
import { type FactorStatus, withStatus } from "./status.ts";
import { describe, mat, type MatrixView, sub } from "./view.ts";

/**
 * Up to this b, S11 is factored and inverted by one panel kernel (one dispatch, no products). The
 * panel kernel is sequential: at b = 128 it took 9 ms, and the blocked path (two 64-panels and small
 * products) brought a whole m = 768, b = 128 downdate from 27 to 22 ms on llvmpipe.
 */
const SINGLE_PANEL = 64;

export interface SchurDowndateOptions {
  /** overwrite S's trailing window S[b:, b:] (the caller continues with `sub(s, b, b)`) */
  inPlace?: boolean;
  /** write the result here ((m−b) x (m−b), a tensor other than S's) instead of a new tensor */
  out?: MatrixView;
  /** record a non-positive pivot of S11 here instead of reading back and throwing before returning */
  status?: FactorStatus;
}

/**
 * The inverse of the trailing block from the inverse of the whole: S22 − S21·S11⁻¹·S12 for the SPD
 * matrix S [m, m] and its leading b x b block S11. S is symmetric; only S[0:b, :] and the lower
 * triangle of S22 are read, and the result is full and exactly symmetric.
 *
 * @param s view of S = (H[i1:, i1:])⁻¹, [m, m]
 * @param b size of the leading block to eliminate, 1 ≤ b < m
 * @param options `inPlace` (overwrite S[b:, b:]), `out` (write into a given view), `status`
 * @returns the view holding (H[i1+b:, i1+b:])⁻¹, [m−b, m−b]: `sub(s, b, b)` in place, `out`, or a
 *   new tensor's view (release `result.tensor` when done)
 * @throws RangeError for a non-square S, b outside [1, m), or a bad/aliased `out`
 * @throws Error `schurDowndate: S11 … is not positive definite (pivot j = … is …, expected > 0)`
 *   (only without `status`)
 * @example
 * ```ts
 * // a block loop over a full inverse: S = Hinv[i1:, i1:] becomes Hinv[i2:, i2:] for the next block
 * await schurDowndate(sub(hinv, i1, i1), i2 - i1, { inPlace: true, status });
 * ```
 */
export async function schurDowndate(
  s: MatrixView,
  b: number,
  options: SchurDowndateOptions = {},
): Promise<MatrixView> {
  const op = "schurDowndate";
  const m = checkSquare(op, "S", s);
  if (!Number.isInteger(b) || b < 1 || b >= m) {
    throw new RangeError(`${op}: b is ${b} but S ${describe(s)} is ${m}x${m}; expected an integer in [1, ${m - 1}]`);
  }
  const r = m - b;
  const gpu = s.tensor.gpu;
  let target: MatrixView;
  if (options.inPlace) {
    if (options.out) throw new RangeError(`${op}: got both inPlace and out; expected at most one`);
    target = sub(s, b, b);
  } else if (options.out) {
    target = options.out;
    checkView(op, "out", target);
    if (target.rows !== r || target.cols !== r) {
      throw new RangeError(`${op}: out ${describe(target)} is ${target.rows}x${target.cols}; expected ${r}x${r}`);
    }
    if (target.tensor.buffer === s.tensor.buffer) {
      throw new RangeError(
        `${op}: out aliases S (both live in the buffer of "${s.tensor.label}"); expected out in a separate tensor, or inPlace`,
      );
    }
  } else {
    target = mat(empty(gpu, [r, r], "f32", op));
  }
  try {
    await withStatus(gpu, options.status, async (status) => {
      const id = status.register(notPositiveDefinite(op, `S11 = ${describe(sub(s, 0, 0, b, b))}`));
      using f = new Padded(gpu, b, b, `${op}.L11`);
      // zeroed: invertLower leaves x's upper off-diagonal blocks as they were, and the product
      // below reads all of x (a pooled buffer may hold anything)
      using x = new Padded(gpu, b, b, `${op}.L11inv`, { zero: true });
      using w = new Padded(gpu, b, r, `${op}.W`);
      using work = new Workspace(gpu, b, b <= SINGLE_PANEL ? b : CHOLESKY_BLOCK);
      await copyView(sub(s, 0, 0, b, b), f.view);
      await factor(f.view, work, status, id); //                     S11 = L11·L11ᵀ
      await invertLower(f.view, work, x.view); //                    x = L11⁻¹
      await matmul(x.view, sub(s, 0, b, b, r), w.view); //           W = L11⁻¹·S12          [b, r]
      if (!options.inPlace) await copyView(sub(s, b, b), target); //      target = S22
      await syrk(w.view, target, { alpha: -1, accumulate: true, mirror: true }); // target −= WᵀW
    });
    return target;
  } catch (err) {
    if (!options.inPlace && !options.out) target.tensor.release();
    throw err;
  }
}
