/**
 * The calibration hot path: running statistics of a linear layer's inputs, folded in one batch
 * of activation rows at a time (never keeping all of X):
 * - {@link gramAccumulate}: H += scale·XᵀX (the layer Hessian, up to the 2/n factor);
 * - {@link columnSquaredNormsAccumulate}: ‖X_j‖² += scale·Σ_i X_ij² (Wanda's and Thanos' scores).
 *
 * The Gram product runs the matmul kernels (see matmul.ts) in their symmetric mode: only the
 * tiles of H (128 x 128 in the register kernels, 64 x 64 in the tiled one) on and above the
 * diagonal are computed, each off-diagonal tile is also stored transposed, so a call does about half of the 2·n·d² flops of a full product and still leaves the
 * full symmetric H.
 *
 * @module
 */

import { grid1d, launch } from "../gpu/launch.ts";
import { budgetRanges, loopCost } from "../gpu/loop_budget.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { checkFinite, checkNoAlias, checkView } from "./checks.ts";
import { type MatmulVariant, matmulVariant, recordProduct } from "./matmul.ts";
import type { MatrixView } from "./view.ts";

/** Workgroup size of the column-norm kernel. */
const NORMS_WG = 64;

/**
 * H += scale · XᵀX, X a batch of activation rows [n, d], H [d, d] (full symmetric result).
 *
 * H must be symmetric on entry (zeros, or what earlier calls left): the lower triangle's
 * off-diagonal tiles are written from the updated upper ones (lib/matmul_store.wgsl) — the same
 * bits as adding to them, for a symmetric H — and on the texture product only by the last k-slice
 * of 512 (the earlier ones update the upper tiles, four floats a store where H's rows allow). So H
 * stays exactly symmetric. The work is recorded and runs at the next submission.
 *
 * @param x activation rows, [n, d] (any view)
 * @param h the running Gram matrix, a [d, d] view in a separate tensor
 * @param scale weight of this batch, e.g. 2 / nsamples
 * @param options `variant` selects the matmul kernel family (default: {@link matmulVariant})
 * @throws RangeError on a shape mismatch, aliasing, an invalid view or a non-finite scale
 * @example
 * ```ts
 * const h = zeros(gpu, [d, d], "f32", "H");
 * for (const batch of batches) await gramAccumulate(mat(batch), mat(h), 2 / nsamples); // batch [n, d]
 * ```
 */
export async function gramAccumulate(
  x: MatrixView,
  h: MatrixView,
  scale: number,
  options: { variant?: MatmulVariant } = {},
): Promise<void> {
  checkView("gramAccumulate", "X", x);
  checkView("gramAccumulate", "H", h);
  const d = x.cols;
  if (h.rows !== d || h.cols !== d) {
    throw new RangeError(
      `gramAccumulate: X is ${x.rows}x${d} but H is ${h.rows}x${h.cols}; expected H to be ${d}x${d}`,
    );
  }
  checkNoAlias("gramAccumulate", "H", h, "X", x);
  checkFinite("gramAccumulate", "scale", scale);
  if (x.rows === 0 || d === 0) return;
  await recordProduct({
    a: x,
    transA: true,
    b: x,
    transB: false,
    c: h,
    alpha: scale,
    accumulate: true,
    symmetric: true,
    variant: matmulVariant(h.tensor.gpu, options.variant),
  });
}

/**
 * out[j] += scale · Σ_i X[i, j]², out a [d] f32 tensor.
 *
 * @param x activation rows, [n, d] (any view)
 * @param out the running squared column norms, an f32 tensor of d elements (separate from X)
 * @param scale weight of this batch, e.g. 1 / nsamples
 * @throws RangeError on a size mismatch, aliasing, an invalid view or a non-finite scale
 * @example
 * ```ts
 * const norms = zeros(gpu, [d], "f32", "colSqNorms");
 * await columnSquaredNormsAccumulate(mat(batch), norms, 1 / nsamples);
 * ```
 */
export async function columnSquaredNormsAccumulate(x: MatrixView, out: Tensor, scale: number): Promise<void> {
  const op = "columnSquaredNormsAccumulate";
  checkView(op, "X", x);
  const outView = { tensor: out, offset: 0, rows: 1, cols: out.size, ld: out.size };
  checkView(op, "out", outView);
  if (out.size !== x.cols) {
    throw new RangeError(
      `${op}: X is ${x.rows}x${x.cols} but out has shape [${out.shape}]; expected ${x.cols} elements`,
    );
  }
  checkNoAlias(op, "out", outView, "X", x);
  checkFinite(op, "scale", scale);
  if (x.rows === 0 || x.cols === 0) return;
  const gpu = out.gpu;
  // an invocation walks the rows of its column (rows + 1 loop iterations): a batch of more rows
  // than the loop budget allows is folded in several dispatches, each adding its rows' share
  for (const [r0, r1] of budgetRanges(op, x.rows, 1, loopCost(0))) {
    await launch(gpu, "column_sq_norms", { x: x.tensor, out }, {
      grid: grid1d(gpu, x.cols, NORMS_WG),
      params: { rows: r1 - r0, cols: x.cols, off: x.offset + r0 * x.ld, ld: x.ld, scale },
      constants: { WG: NORMS_WG },
    });
  }
}
