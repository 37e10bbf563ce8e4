/**
 * Plain-TS reference for the mask helpers (used only by tests). Matrices are dense row-major
 * `rows x cols` arrays; sums are accumulated in float64.
 */

/** out_ij = |w_ij| · sqrt(colSqNorms[colOffset + j]), rounded to f32. */
export function wandaScores(
  w: ArrayLike<number>,
  rows: number,
  cols: number,
  colSqNorms: ArrayLike<number>,
  colOffset: number,
): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = Math.abs(w[i * cols + j]) * Math.sqrt(colSqNorms[colOffset + j]);
  }
  return out;
}

/** out_i = |w_i|. */
export function absScores(w: ArrayLike<number>): Float32Array {
  return Float32Array.from(w, Math.abs);
}

/** w with zeros where mask != 0. */
export function applyMask(w: ArrayLike<number>, mask: ArrayLike<number>): Float32Array {
  return Float32Array.from(w, (x, i) => (mask[i] !== 0 ? 0 : x));
}

/** Number of non-zero mask entries. */
export function countMask(mask: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) c++;
  return c;
}

/** max(0, target − counter). */
export function kFromBudget(target: number, counter: number): number {
  return Math.max(0, target - counter);
}

/** out_i = Σ_j w_ij² · colSqNorms[j]. */
export function rowSumsWeighted(
  w: ArrayLike<number>,
  rows: number,
  cols: number,
  colSqNorms: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += w[i * cols + j] ** 2 * colSqNorms[j];
    out[i] = s;
  }
  return out;
}

/** out_j = colSqNorms[j] · Σ_{i : rowMask[i] == 0} w_ij² (every row when rowMask is null). */
export function colSumsWeighted(
  w: ArrayLike<number>,
  rows: number,
  cols: number,
  colSqNorms: ArrayLike<number>,
  rowMask: ArrayLike<number> | null,
): Float64Array {
  const out = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let i = 0; i < rows; i++) if (!rowMask || rowMask[i] === 0) s += w[i * cols + j] ** 2;
    out[j] = colSqNorms[j] * s;
  }
  return out;
}
