/**
 * Matrix views: a rectangular window into a row-major 2-D tensor, so kernels can work on
 * `W[:, i1:]` or `Hinv[i1:i2, i2:]` in place, without copies.
 *
 * Kernel convention: a view is passed as its tensor's buffer plus `offset` (elements) and `ld`
 * (leading dimension: elements between consecutive rows); element (i, j) lives at
 * `offset + i * ld + j`.
 *
 * @module
 */

import type { Tensor } from "../gpu/tensor.ts";

export interface MatrixView {
  readonly tensor: Tensor;
  /** index of element (0, 0) in the tensor's data */
  readonly offset: number;
  readonly rows: number;
  readonly cols: number;
  /** elements between the starts of consecutive rows (the full row length of the tensor) */
  readonly ld: number;
}

/**
 * The whole of a 2-D tensor (a 1-D tensor of length n is a 1 x n row).
 * @example
 * ```ts
 * const W = mat(weight);          // [rows, cols]
 * const tail = sub(W, 0, i1);     // W[:, i1:]
 * ```
 */
export function mat(t: Tensor): MatrixView {
  if (t.shape.length === 1) return { tensor: t, offset: 0, rows: 1, cols: t.shape[0], ld: t.shape[0] };
  if (t.shape.length !== 2) {
    throw new RangeError(`Expected a 2-D tensor but "${t.label}" has shape [${t.shape}]`);
  }
  const [rows, cols] = t.shape;
  return { tensor: t, offset: 0, rows, cols, ld: cols };
}

/**
 * The window `v[r0 : r0+rows, c0 : c0+cols]` (rows/cols default to the rest of `v`).
 * @throws RangeError when the window does not fit inside `v`
 */
export function sub(v: MatrixView, r0: number, c0: number, rows = v.rows - r0, cols = v.cols - c0): MatrixView {
  if (
    !Number.isInteger(r0) || !Number.isInteger(c0) || !Number.isInteger(rows) || !Number.isInteger(cols) ||
    r0 < 0 || c0 < 0 || rows < 0 || cols < 0 || r0 + rows > v.rows || c0 + cols > v.cols
  ) {
    throw new RangeError(
      `Window [${r0}:${r0 + rows}, ${c0}:${
        c0 + cols
      }] does not fit in a ${v.rows}x${v.cols} view of "${v.tensor.label}"`,
    );
  }
  return { tensor: v.tensor, offset: v.offset + r0 * v.ld + c0, rows, cols, ld: v.ld };
}

/** "label[r0:r1, c0:c1]"-style description for error messages. */
export function describe(v: MatrixView): string {
  const r0 = Math.floor(v.offset / v.ld), c0 = v.offset % v.ld;
  return `"${v.tensor.label}"[${r0}:${r0 + v.rows}, ${c0}:${c0 + v.cols}] (${v.rows}x${v.cols})`;
}

/**
 * A row length padded to a multiple of 64 floats (256 bytes), the row pitch a buffer-to-texture
 * copy takes: LLaMA's SwiGLU writes its rows at this length (`gatedActivationRows`), so the down
 * projection copies its input into a texture instead of packing it (tiny-llama's 688 → 704).
 */
export function paddedWidth(cols: number): number {
  return Math.ceil(cols / 64) * 64;
}

/**
 * Whether a view's rows are whole vec4s of its tensor — offset, leading dimension and columns
 * multiples of 4 — so that a kernel may read or write it four elements at a time.
 */
export function wholeVec4s(v: MatrixView): boolean {
  return v.offset % 4 === 0 && v.ld % 4 === 0 && v.cols % 4 === 0;
}
