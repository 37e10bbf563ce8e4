/**
 * Plain-TS reference for the selection kernels (used only by tests): a stable sort by
 * (score, index). Matrices are dense row-major `rows x cols` arrays; masks are Uint32Array with
 * 1 = selected.
 *
 * Score order: numeric, with −0 equal to +0 (a tie), and NaN after +Infinity (NaNs tie).
 */

/** Negative, zero or positive as score a sorts before, with, or after score b. */
export function compareScores(a: number, b: number): number {
  const an = Number.isNaN(a), bn = Number.isNaN(b);
  if (an || bn) return (an ? 1 : 0) - (bn ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0; // −0 == +0
}

/** Sorts `indices` (in place) by (score of the index, index). */
function order(scores: ArrayLike<number>, indices: number[]): number[] {
  return indices.sort((i, j) => compareScores(scores[i], scores[j]) || i - j);
}

/** All flat indices of `scores` in selection order: by (score, index). */
export function selectionOrder(scores: ArrayLike<number>): number[] {
  return order(scores, Array.from({ length: scores.length }, (_, i) => i));
}

/** Mask of the first k indices of a selection order over `size` elements. */
export function firstK(sorted: readonly number[], k: number, size = sorted.length): Uint32Array {
  const mask = new Uint32Array(size);
  for (let r = 0; r < k; r++) mask[sorted[r]] = 1;
  return mask;
}

/** Mask of the k smallest of all `scores` (ties by lower flat index). */
export function kSmallestMask(scores: ArrayLike<number>, k: number): Uint32Array {
  return firstK(selectionOrder(scores), k);
}

/** Mask of the k smallest of every row (ties by lower column). */
export function rowKSmallestMask(scores: ArrayLike<number>, rows: number, cols: number, k: number): Uint32Array {
  const mask = new Uint32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const sorted = order(scores, Array.from({ length: cols }, (_, j) => i * cols + j));
    for (let r = 0; r < k; r++) mask[sorted[r]] = 1;
  }
  return mask;
}

/** Mask of the n smallest of every group of m consecutive columns of every row (ties by lower column). */
export function nmMask(scores: ArrayLike<number>, rows: number, cols: number, n: number, m: number): Uint32Array {
  const mask = new Uint32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let g = 0; g < cols; g += m) {
      const sorted = order(scores, Array.from({ length: m }, (_, j) => i * cols + g + j));
      for (let r = 0; r < n; r++) mask[sorted[r]] = 1;
    }
  }
  return mask;
}
