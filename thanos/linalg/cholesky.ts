/**
 * Cholesky factorization and what Thanos and SparseGPT build on it, for symmetric positive definite
 * (SPD) matrices on the GPU:
 *
 * - {@link cholesky}: A = L·Lᵀ in place (lower factor);
 * - {@link spdInverse}: A⁻¹ = L⁻ᵀ·L⁻¹ (the full symmetric inverse — Thanos's Hinv);
 * - {@link upperCholeskyOfInverse}: U upper triangular with UᵀU = A⁻¹ (SparseGPT's Hinv, i.e.
 *   torch's `cholesky(cholesky_inverse(cholesky(H)), upper=True)`).
 *
 * All three are blocked so that almost every flop is a matrix product: with block size nb (64),
 *
 *   factor (right-looking): for each block column k
 *     A[k,k] = L_kk·L_kkᵀ, D_k = L_kk⁻¹          chol_panel.wgsl (one workgroup, nb x nb)
 *     L[k+,k] = A[k+,k]·D_kᵀ                      matmul
 *     A[k+,k+] −= L[k+,k]·L[k+,k]ᵀ                (in two levels: within a panel of 4 blocks
 *                                                 syrk.wgsl's lower triangle; the trailing
 *                                                 update once per panel, see {@link factor},
 *                                                 as a full matmul)                  (~n³/3–2n³/3 flops)
 *   invert (right to left): X = L⁻¹, X[k,k] = D_k and for each block column k
 *     X[k+,k] = −(X[k+,k+]·L[k+,k])·D_k           trmm_lower.wgsl then matmul        (n³/3 flops)
 *   multiply: A⁻¹ = XᵀX                            syrk.wgsl, k ≥ max(i, j) only      (n³/3 flops)
 *
 * LAPACK's potrf + potri count is n³ flops. The trailing update computes both triangles, twice the
 * flops of syrk's lower one, because on llvmpipe matmul's texture kernel runs ~4x the register
 * kernels' rate: cholesky at 2048² 0.20–0.24 s against 0.24–0.35 with syrk, upperCholeskyOfInverse
 * 0.50–0.69 against 0.56–0.85 (alternating trees). The same bits: both sum k in order in one chain
 * (K = 4·nb ≤ matmul's k-slice). The inverse's triangular product stays trmm_lower: as a full
 * matmul (X's upper triangle zero) it was faster still, but its K = n − k runs over several
 * k-slices there, which rounds differently (the pruned perplexities moved in the 5th digit).
 *
 * `upperCholeskyOfInverse` needs no inverse at all: with J the exchange matrix (reversal),
 * J·A·J = L'·L'ᵀ gives A⁻¹ = (J·L'⁻¹·J)ᵀ·(J·L'⁻¹·J), and J·L'⁻¹·J is upper triangular
 * with a positive diagonal — exactly the upper Cholesky factor of A⁻¹, in 2n³/3 flops, without the
 * rounding of forming A⁻¹ first.
 *
 * The product kernels load vec4s (llvmpipe gathers every load; 4 floats per gather is what makes
 * them fast there), so scratch matrices have leading dimensions rounded up to 4 ({@link Padded}),
 * the factor of a matrix whose view is not 16-byte aligned is computed in such a scratch, and
 * block sizes are multiples of 4. The inverse runs below matmul's rate because of the sequential
 * panels and the triangular syrk (the measured numbers: README's performance table, `deno task
 * bench:kernels factor`).
 *
 * Non-positive-definite input: the panel kernel records the first pivot that is not > 0 (NaN
 * included) in a {@link FactorStatus}. Without a `status` option these functions read it back
 * before returning and throw; with one they never wait on the GPU and the caller checks it later.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { empty, type Tensor, zeros } from "../gpu/tensor.ts";
import { checkSquare } from "./checks.ts";
import { copyStrided, copyView, transposed } from "./elementwise.ts";
import { cholPanel, copyReversed, isAligned, roundUp4, syrk, trmmLower, zeroUpper } from "./factor_kernels.ts";
import { matmul } from "./matmul.ts";
import { FactorStatus, withStatus } from "./status.ts";
import { describe, mat, type MatrixView, sub } from "./view.ts";

/** Default block size of the blocked factorizations: the panel kernel's sequential work is nb³/3. */
export const CHOLESKY_BLOCK = 64;

export interface FactorOptions {
  /**
   * Record pivot failures here instead of checking them before returning: the call then never
   * reads back, and `await status.check()` (once, after a loop, say) throws for a non-SPD input.
   */
  status?: FactorStatus;
  /** block size nb (default {@link CHOLESKY_BLOCK}) */
  blockSize?: number;
}

/**
 * Factors the SPD matrix `a` in place: A = L·Lᵀ with L lower triangular (positive diagonal), stored
 * in `a` with zeros above the diagonal. Only the lower triangle of `a` is read.
 *
 * @param a square f32 view; overwritten by L
 * @param options `status` (defer the positive-definiteness check) and `blockSize`
 * @throws RangeError for a non-square view or a bad block size
 * @throws Error `cholesky: … is not positive definite (pivot j = … is …, expected > 0)` when a pivot
 *   is not positive (only without `status`, after reading the status back)
 * @example
 * ```ts
 * const a = upload(gpu, new Float32Array([4, 2, 2, 3]), [2, 2]);
 * await cholesky(mat(a)); // a = [[2, 0], [1, √2]]
 * ```
 */
export async function cholesky(a: MatrixView, options: FactorOptions = {}): Promise<void> {
  const op = "cholesky";
  const n = checkSquare(op, "A", a);
  const nb = blockSize(op, options.blockSize);
  const gpu = a.tensor.gpu;
  await withStatus(gpu, options.status, async (status) => {
    const id = status.register(notPositiveDefinite(op, describe(a)));
    using work = new Workspace(gpu, n, nb);
    await factor(a, work, status, id);
    await zeroUpper(a);
  });
}

/**
 * The inverse of the SPD matrix `a`, as a new full symmetric matrix (both triangles written, exactly
 * symmetric). `a` is left unchanged; only its lower triangle is read.
 *
 * @param a square f32 view
 * @param options `status` (defer the positive-definiteness check) and `blockSize`
 * @param label label of the new tensor
 * @returns A⁻¹, a new [n, n] tensor; release it when done
 * @throws RangeError for a non-square view or a bad block size
 * @throws Error `spdInverse: … is not positive definite (pivot j = … is …, expected > 0)` (only
 *   without `status`)
 * @example
 * ```ts
 * using hinv = await spdInverse(mat(h)); // Thanos: S = (H + λI)⁻¹
 * ```
 */
export async function spdInverse(a: MatrixView, options: FactorOptions = {}, label = "spdInverse"): Promise<Tensor> {
  const op = "spdInverse";
  const n = checkSquare(op, "A", a);
  const out = empty(a.tensor.gpu, [n, n], "f32", label);
  try {
    await inverse(op, a, mat(out), options);
    return out;
  } catch (err) {
    out.release();
    throw err;
  }
}

/**
 * Overwrites the SPD matrix `a` with its inverse (full symmetric). Only the lower triangle of `a`
 * is read. Needs one n x n scratch matrix (two when `a`'s offset or leading dimension is not a
 * multiple of 4).
 *
 * @param a square f32 view; overwritten by A⁻¹
 * @param options `status` (defer the positive-definiteness check) and `blockSize`
 * @throws RangeError for a non-square view or a bad block size
 * @throws Error `spdInverseInPlace: … is not positive definite (…)` (only without `status`)
 * @example
 * ```ts
 * await spdInverseInPlace(mat(h)); // h = h⁻¹
 * ```
 */
export async function spdInverseInPlace(a: MatrixView, options: FactorOptions = {}): Promise<void> {
  const op = "spdInverseInPlace";
  checkSquare(op, "A", a);
  await inverse(op, a, a, options);
}

/** dst = src⁻¹ (dst may be src): factor, invert the factor, multiply. */
async function inverse(op: string, src: MatrixView, dst: MatrixView, options: FactorOptions): Promise<void> {
  const n = src.rows;
  const nb = blockSize(op, options.blockSize);
  const gpu = src.tensor.gpu;
  await withStatus(gpu, options.status, async (status) => {
    const id = status.register(notPositiveDefinite(op, describe(src)));
    using work = new Workspace(gpu, n, nb);
    // the factor lives in dst when its vec4 loads line up, else in an aligned scratch
    using scratch = isAligned(dst) ? null : new Padded(gpu, n, n, `${op}.L`);
    const l = scratch?.view ?? dst;
    if (l !== src) await copyView(src, l);
    using x = new Padded(gpu, n, n, `${op}.Linv`);
    await factor(l, work, status, id); //                             l = L (lower)
    await invertLower(l, work, x.view); //                            x = L⁻¹
    await syrk(x.view, dst, { mirror: true, lowerA: true }); //       A⁻¹ = XᵀX
  });
}

/**
 * The upper Cholesky factor U of the inverse of the SPD matrix `a`: U upper triangular with a
 * positive diagonal and UᵀU = A⁻¹ — SparseGPT's `Hinv`, computed as J·L'⁻¹·J from the Cholesky
 * factor L' of J·A·J (J reverses the order of rows/columns), without forming A⁻¹.
 *
 * @param a square f32 view, unchanged; only its lower triangle is read
 * @param options `status` (defer the positive-definiteness check) and `blockSize`
 * @param label label of the new tensor
 * @returns U, a new [n, n] tensor with zeros below the diagonal; release it when done
 * @throws RangeError for a non-square view or a bad block size
 * @throws Error `upperCholeskyOfInverse: … is not positive definite (pivot j = …)` (only without
 *   `status`; j counts from the LAST row, the order in which J·A·J is factored)
 * @example
 * ```ts
 * using u = await upperCholeskyOfInverse(mat(h)); // SparseGPT: Hinv = chol(H⁻¹)ᵀ
 * ```
 */
export async function upperCholeskyOfInverse(
  a: MatrixView,
  options: FactorOptions = {},
  label = "upperCholeskyOfInverse",
): Promise<Tensor> {
  const op = "upperCholeskyOfInverse";
  const n = checkSquare(op, "A", a);
  const nb = blockSize(op, options.blockSize);
  const gpu = a.tensor.gpu;
  const out = empty(gpu, [n, n], "f32", label);
  try {
    await withStatus(gpu, options.status, async (status) => {
      const id = status.register(notPositiveDefinite(op, describe(a), " of the reversed matrix J·A·J"));
      using work = new Workspace(gpu, n, nb);
      using scratch = isAligned(mat(out)) ? null : new Padded(gpu, n, n, `${op}.L`);
      const l = scratch?.view ?? mat(out);
      using x = new Padded(gpu, n, n, `${op}.Linv`, { zero: true }); // x's strict upper triangle stays 0
      await copyReversed(a, l); //                                    J·A·J (its lower triangle = A's upper)
      await factor(l, work, status, id); //                           = L'·L'ᵀ
      await invertLower(l, work, x.view); //                          x = L'⁻¹
      await copyReversed(x.view, mat(out)); //                        U = J·L'⁻¹·J
    });
    return out;
  } catch (err) {
    out.release();
    throw err;
  }
}

/** A rows x cols scratch matrix whose leading dimension is a multiple of 4 (vec4 loads line up). */
export class Padded {
  readonly tensor: Tensor;
  readonly view: MatrixView;

  constructor(gpu: Gpu, rows: number, cols: number, label: string, { zero = false } = {}) {
    const ld = Math.max(4, roundUp4(cols));
    this.tensor = (zero ? zeros : empty)(gpu, [Math.max(1, rows), ld], "f32", label);
    this.view = { tensor: this.tensor, offset: 0, rows, cols, ld };
  }

  [Symbol.dispose](): void {
    this.tensor.release();
  }
}

/**
 * Scratch of the blocked algorithms on an n x n matrix: the inverses D_k of the diagonal blocks,
 * stacked [n, nb] (block k in rows k..k+nb), and one panel scratch large enough for nb x (n − nb)
 * and for outer x (n − outer) (or their transposes), with leading dimensions that keep vec4 loads
 * aligned. A matrix no larger than nb is one block.
 */
export class Workspace {
  readonly nb: number;
  /** width of the factorization's outer panels ({@link OUTER_BLOCKS} inner blocks) */
  readonly outer: number;
  readonly d: Tensor;
  readonly panel: Tensor;

  constructor(gpu: Gpu, n: number, nb: number) {
    this.nb = Math.min(nb, n);
    this.outer = Math.min(this.nb * OUTER_BLOCKS, n);
    this.d = empty(gpu, [Math.max(1, n), Math.max(1, this.nb)], "f32", "cholesky.Dinv");
    const panel = Math.max(this.nb * roundUp4(n - this.nb), this.outer * roundUp4(n - this.outer));
    this.panel = empty(gpu, [Math.max(1, panel)], "f32", "cholesky.panel");
  }

  /** D_k, the inverse of the diagonal block at k (nbk x nbk). */
  dinv(k: number, nbk: number): MatrixView {
    return { tensor: this.d, offset: k * this.nb, rows: nbk, cols: nbk, ld: this.nb };
  }

  /** The panel scratch as a rows x cols matrix (leading dimension cols rounded up to 4). */
  panelView(rows: number, cols: number): MatrixView {
    return { tensor: this.panel, offset: 0, rows, cols, ld: roundUp4(cols) };
  }

  [Symbol.dispose](): void {
    this.d.release();
    this.panel.release();
  }
}

/**
 * Inner blocks per outer panel of {@link factor}: the trailing update then has k = 4·nb = 256,
 * where syrk runs at matmul's rate on llvmpipe (~14 GFLOP/s) rather than the ~8 it reaches at
 * k = 64.
 */
export const OUTER_BLOCKS = 4;

/**
 * Right-looking blocked Cholesky of `a` in place, in two levels: its lower triangle becomes L (the
 * part above the diagonal blocks is scratch: the trailing updates write both triangles of A22, and
 * nothing reads above the diagonal); `work.d` receives the D_k = L_kk⁻¹.
 *
 *   for each outer panel P = columns K0..K0+w (w = work.outer):
 *     for each inner block k of P (nb columns):
 *       A_kk = L_kk·L_kkᵀ, D_k = L_kk⁻¹; L[k+,k] = A[k+,k]·D_kᵀ      (every row below)
 *       A[k+, k+nb..K0+w] −= L[k+,k]·L[k+nb..K0+w, k]ᵀ              (only the panel's columns)
 *     A[K0+w:, K0+w:] −= L[K0+w:, P]·L[K0+w:, P]ᵀ                     (a full matmul with k = w)
 *
 * With w = nb this is the one-level algorithm; the same flops, but most of them now in products
 * with k = w instead of k = nb.
 */
export async function factor(a: MatrixView, work: Workspace, status: FactorStatus, op: number): Promise<void> {
  const n = a.rows, nb = work.nb;
  for (let k0 = 0; k0 < n; k0 += work.outer) {
    const end = Math.min(k0 + work.outer, n); //                              panel columns k0..end
    for (let k = k0; k < end; k += nb) {
      const nbk = Math.min(nb, end - k), m = n - k - nbk;
      const dk = work.dinv(k, nbk);
      await cholPanel(sub(a, k, k, nbk, nbk), dk, status, op, k); //         A_kk = L_kk·L_kkᵀ, D_k = L_kk⁻¹
      if (m === 0) break;
      const a21 = sub(a, k + nbk, k, m, nbk); //                              [m, nbk]
      const l21t = work.panelView(nbk, m); //                                 L21ᵀ [nbk, m]
      await matmul(dk, a21, l21t, { transB: true }); //                       L21ᵀ = D_k·A21ᵀ
      await copyStrided(transposed(l21t), a21); //                            A21 = L21
      const right = end - k - nbk; //                                         panel columns right of block k
      if (right === 0) continue;
      await syrk(sub(l21t, 0, 0, nbk, right), sub(a, k + nbk, k + nbk, right, right), { alpha: -1, accumulate: true });
      if (m > right) { //                                                     rows below the panel
        const lBelowT = sub(l21t, 0, right, nbk, m - right), lPanelT = sub(l21t, 0, 0, nbk, right);
        const aBelow = sub(a, end, k + nbk, m - right, right);
        await matmul(lBelowT, lPanelT, aBelow, { transA: true, alpha: -1, accumulate: true });
      }
    }
    const below = n - end;
    if (below === 0) break;
    const lt = work.panelView(end - k0, below); //                            L[end:, k0:end]ᵀ
    await copyStrided(transposed(sub(a, end, k0, below, end - k0)), lt);
    // A22 −= L21·L21ᵀ as a full product (both triangles: twice syrk's flops, but matmul's texture
    // kernel runs ~4x syrk's rate on llvmpipe, with the same bits; above the diagonal is never read)
    await matmul(lt, lt, sub(a, end, end), { transA: true, alpha: -1, accumulate: true });
  }
}

/**
 * X = L⁻¹ for the lower factor `l` left by {@link factor} (reads only its lower triangle and the
 * D_k in `work`; `l` must be aligned when it spans more than one block). Writes the lower triangle
 * of `x` (aligned, distinct buffer), diagonal blocks included with zeros above their diagonal;
 * x's other entries above the diagonal are left as they were.
 */
export async function invertLower(l: MatrixView, work: Workspace, x: MatrixView): Promise<void> {
  const n = l.rows, nb = work.nb;
  const starts: number[] = [];
  for (let k = 0; k < n; k += nb) starts.push(k);
  for (const k of starts) {
    const nbk = Math.min(nb, n - k);
    await copyView(work.dinv(k, nbk), sub(x, k, k, nbk, nbk)); //             X_kk = D_k
  }
  // right to left: X[k+, k] = −X[k+, k+]·L[k+, k]·D_k, with X[k+, k+] (lower triangular) done
  for (let b = starts.length - 2; b >= 0; b--) {
    const k = starts[b], nbk = nb, m = n - k - nbk;
    const t = work.panelView(m, nbk); //                                      [m, nb]
    await trmmLower(sub(x, k + nbk, k + nbk, m, m), sub(l, k + nbk, k, m, nbk), t);
    await matmul(t, work.dinv(k, nbk), sub(x, k + nbk, k, m, nbk), { alpha: -1 });
  }
}

/** The error message of a factorization whose pivot failed. */
export function notPositiveDefinite(op: string, what: string, of = "") {
  return ({ key, pivot }: { key: number; pivot: number }) =>
    `${op}: ${what} is not positive definite (pivot j = ${key}${of} is ${pivot}, expected > 0)`;
}

/**
 * Largest block size: the panel kernel's invocations run ~nb³/(6·WG) + nb²/2 loop iterations, and
 * llvmpipe silently stops an invocation after 65535 (thanos/gpu/loop_budget.ts): 29175 measured at
 * 128 (tests/loop_limit_test.ts), within LOOP_BUDGET; ~98k at 192.
 */
export const MAX_CHOLESKY_BLOCK = 128;

function blockSize(op: string, nb = CHOLESKY_BLOCK): number {
  if (!Number.isInteger(nb) || nb < 4 || nb > MAX_CHOLESKY_BLOCK || nb % 4 !== 0) {
    throw new RangeError(
      `${op}: blockSize is ${nb}; expected a multiple of 4 in [4, ${MAX_CHOLESKY_BLOCK}] (vec4-aligned blocks)`,
    );
  }
  return nb;
}
