/**
 * A window of a matrix, to look at a corner of a weight or mask cell by cell (a 2:4 pattern is
 * only visible at full resolution) while the whole matrix is shown downsampled.
 *
 * @module
 */

import { type Matrix, type MatrixInput, toMatrix } from "./matrix.ts";

/** Rows [start, end) and columns [start, end) to keep; each defaults to all. */
export interface CropWindow {
  rows?: readonly [number, number];
  cols?: readonly [number, number];
}

function range(
  what: "rows" | "cols",
  r: readonly [number, number] | undefined,
  n: number,
  m: Matrix,
): [number, number] {
  if (r === undefined) return [0, n];
  const [start, end] = r;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start >= end || end > n) {
    throw new RangeError(
      `crop: ${what} [${start}, ${end}) do not fit the ${m.rows}x${m.cols} matrix; expected integers ` +
        `0 <= start < end <= ${n}`,
    );
  }
  return [start, end];
}

/**
 * Copies the window `rows` x `cols` of a matrix.
 *
 * @param matrix rows, `{data, shape}` or `{data, rows, cols}`
 * @param window rows [start, end) and cols [start, end)
 * @returns the window as `{data, rows, cols}` (what `heatmap` takes)
 * @throws RangeError for a window outside the matrix or an empty one
 * @example
 * ```ts
 * heatmap(crop({ data: mask, shape: [256, 688] }, { rows: [0, 16], cols: [0, 32] }), { title: "2:4, corner" });
 * ```
 */
export function crop(matrix: MatrixInput, window: CropWindow): Matrix {
  const m = toMatrix(matrix, "crop");
  const [r0, r1] = range("rows", window.rows, m.rows, m);
  const [c0, c1] = range("cols", window.cols, m.cols, m);
  const rows = r1 - r0, cols = c1 - c0;
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) data[r * cols + c] = m.data[(r0 + r) * m.cols + c0 + c];
  }
  return { data, rows, cols };
}
