/**
 * Elementwise helpers on f32 tensors and {@link MatrixView} windows: fill, copy, scale, axpy.
 *
 * The view-taking kernels walk the window as one row-major 1-D range (folded into y past the
 * per-dimension workgroup limit), so any shape works, from one long row to a tall column. A
 * `Tensor` argument stands for all of its elements.
 *
 * Copies: {@link copyView} copies a window (one buffer-to-buffer copy when both windows are
 * contiguous), {@link copyStrided} reads its source through arbitrary, even negative, strides
 * (transposed and reversed copies); both run the one copy kernel, shaders/copy_strided.wgsl.
 *
 * @module
 */

import { grid1d, launch } from "../gpu/launch.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { checkFinite, checkNoAlias, checkSameShape, checkTensor, checkView } from "./checks.ts";
import type { MatrixView } from "./view.ts";

const WG = 256;

/**
 * Sets every element of `x` to `value` (recorded; runs at the next submission).
 * @example
 * ```ts
 * const x = empty(gpu, [3, 5]);
 * await fill(x, 1.5);
 * ```
 */
export async function fill(x: Tensor, value: number): Promise<void> {
  checkTensor("fill", "x", x, "f32", 0);
  await launch(x.gpu, "fill", { x }, {
    grid: grid1d(x.gpu, x.size, WG),
    params: { n: x.size, value },
    constants: { WG },
  });
}

/** A tensor as one row of all its elements; a view as itself. */
function asView(x: Tensor | MatrixView): MatrixView {
  return "tensor" in x ? x : { tensor: x, offset: 0, rows: 1, cols: x.size, ld: x.size };
}

/** True when the window's elements are one contiguous range of its tensor. */
function contiguous(v: MatrixView): boolean {
  return v.rows <= 1 || v.ld === v.cols;
}

/**
 * dst = src, element by element, for two windows of the same shape in different tensors.
 * Contiguous windows are copied with one buffer-to-buffer copy, others with a kernel.
 *
 * @param src the window to read
 * @param dst the window to write (same shape, a separate tensor)
 * @throws RangeError on a shape mismatch, aliasing or an invalid view
 * @example
 * ```ts
 * await copyView(sub(mat(hinv), i1, i1, b, b), mat(block)); // block = Hinv[i1:i2, i1:i2]
 * ```
 */
export async function copyView(src: MatrixView, dst: MatrixView): Promise<void> {
  checkView("copyView", "src", src);
  checkView("copyView", "dst", dst);
  checkSameShape("copyView", "src", src, "dst", dst);
  checkNoAlias("copyView", "dst", dst, "src", src);
  const count = src.rows * src.cols;
  if (count === 0) return;
  if (contiguous(src) && contiguous(dst)) {
    dst.tensor.gpu.recorder.copy(src.tensor.buffer, src.offset * 4, dst.tensor.buffer, dst.offset * 4, count * 4);
    return;
  }
  await recordCopy({ tensor: src.tensor, offset: src.offset, rowStride: src.ld, colStride: 1 }, dst);
}

/**
 * A matrix operand given by strides: element (i, j) at `offset + i·rowStride + j·colStride`
 * (strides may be negative or zero).
 */
export interface StridedOperand {
  tensor: Tensor;
  offset: number;
  rowStride: number;
  colStride: number;
}

/**
 * The transpose of view `v` as a strided operand: element (i, j) is v[j, i].
 * @example
 * ```ts
 * await copyStrided(transposed(mat(a)), mat(at)); // at = aᵀ
 * ```
 */
export function transposed(v: MatrixView): StridedOperand {
  return { tensor: v.tensor, offset: v.offset, rowStride: 1, colStride: v.ld };
}

/**
 * dst[i, j] = src[offset + i·rowStride + j·colStride] for every element of the dst window: plain,
 * transposed ({@link transposed}) and reversed (negative strides) copies.
 *
 * @param src the source tensor and the offset and strides (elements) that address it
 * @param dst the window to write, in another tensor
 * @throws RangeError when dst is not a valid view, an element the strides reach lies outside src's
 *   tensor, the strides or offset are not integers below 2³¹ in magnitude, or src and dst share a
 *   buffer; TypeError for non-f32 tensors
 * @example
 * ```ts
 * // J·A·J: rows and columns reversed
 * const last = (n - 1) * n + n - 1;
 * await copyStrided({ tensor: a, offset: last, rowStride: -n, colStride: -1 }, mat(out));
 * ```
 */
export async function copyStrided(src: StridedOperand, dst: MatrixView): Promise<void> {
  const op = "copyStrided";
  checkView(op, "dst", dst);
  checkTensor(op, "src", src.tensor, "f32", 0);
  checkNoAlias(op, "dst", dst, "src", src.tensor);
  if (dst.rows === 0 || dst.cols === 0) return;
  const { offset, rowStride, colStride } = src;
  const lastRow = (dst.rows - 1) * rowStride, lastCol = (dst.cols - 1) * colStride;
  const corners = [offset, offset + lastRow, offset + lastCol, offset + lastRow + lastCol];
  const i32 = (x: number) => Number.isInteger(x) && Math.abs(x) < 2 ** 31;
  if (![offset, rowStride, colStride, ...corners].every(i32)) {
    throw new RangeError(
      `${op}: src offset ${offset} and strides (${rowStride}, ${colStride}) must be integers below 2^31 in magnitude`,
    );
  }
  const [lo, hi] = [Math.min(...corners), Math.max(...corners)];
  if (lo < 0 || hi >= src.tensor.size) {
    throw new RangeError(
      `${op}: src offset ${offset} with strides (${rowStride}, ${colStride}) reaches elements ${lo} … ${hi} ` +
        `for a ${dst.rows}x${dst.cols} copy; expected them within "${src.tensor.label}" of ${src.tensor.size}`,
    );
  }
  await recordCopy(src, dst);
}

/** Records the copy kernel for validated operands. */
async function recordCopy(src: StridedOperand, dst: MatrixView): Promise<void> {
  const gpu = dst.tensor.gpu;
  await launch(gpu, "copy_strided", { src: src.tensor, dst: dst.tensor }, {
    grid: grid1d(gpu, dst.rows * dst.cols, WG),
    params: {
      rows: dst.rows,
      cols: dst.cols,
      offS: src.offset,
      sI: src.rowStride,
      sJ: src.colStride,
      offD: dst.offset,
      ldD: dst.ld,
    },
    constants: { WG },
  });
}

/**
 * x *= alpha, in place.
 *
 * @param x a tensor (all of it) or a window
 * @param alpha finite factor
 * @throws RangeError on a non-finite alpha or an invalid view
 * @example
 * ```ts
 * await scale(hessian, n / (n + b)); // reweight the running mean before adding a batch
 * ```
 */
export async function scale(x: Tensor | MatrixView, alpha: number): Promise<void> {
  const v = asView(x);
  checkView("scale", "x", v);
  checkFinite("scale", "alpha", alpha);
  const count = v.rows * v.cols;
  if (count === 0) return;
  const gpu = v.tensor.gpu;
  await launch(gpu, "scale", { x: v.tensor }, {
    grid: grid1d(gpu, count, WG),
    params: { rows: v.rows, cols: v.cols, off: v.offset, ld: v.ld, alpha },
    constants: { WG },
  });
}

/**
 * y += alpha · x, in place, for two windows of the same shape in different tensors.
 *
 * @param y the window to update
 * @param x the window to add (same shape, a separate tensor)
 * @param alpha finite factor (default 1)
 * @throws RangeError on a shape mismatch, aliasing, a non-finite alpha or an invalid view
 * @example
 * ```ts
 * await axpy(mat(delta), mat(weight), -1); // delta = W′ − W, delta holding W′
 * ```
 */
export async function axpy(y: Tensor | MatrixView, x: Tensor | MatrixView, alpha = 1): Promise<void> {
  const vy = asView(y), vx = asView(x);
  checkView("axpy", "y", vy);
  checkView("axpy", "x", vx);
  checkSameShape("axpy", "y", vy, "x", vx);
  checkNoAlias("axpy", "y", vy, "x", vx);
  checkFinite("axpy", "alpha", alpha);
  const count = vy.rows * vy.cols;
  if (count === 0) return;
  const gpu = vy.tensor.gpu;
  await launch(gpu, "axpy", { x: vx.tensor, y: vy.tensor }, {
    grid: grid1d(gpu, count, WG),
    params: { rows: vx.rows, cols: vx.cols, offX: vx.offset, ldX: vx.ld, offY: vy.offset, ldY: vy.ld, alpha },
    constants: { WG },
  });
}
