/**
 * Plain-TS reference for the sparse matrix-vector products (thanos/decode/sparse_ops.ts), used only by
 * tests: straight from the compressed-tensors tensors (`compressed`, `bitmask` in numpy's little bit
 * order, `row_offsets`), f64 accumulation, no repacking.
 */

/** y = W·x (+ b) (+ y0) with W given as sparse-bitmask tensors. */
export function bitmaskMatvec(
  compressed: Float32Array,
  bitmask: Uint8Array,
  rowOffsets: BigInt64Array,
  rows: number,
  cols: number,
  x: Float32Array,
  bias?: Float32Array,
  y0?: Float32Array,
): Float32Array {
  return maskedMatvec(compressed, bitmask, (r) => Number(rowOffsets[r]), rows, cols, x, bias, y0);
}

/** y = W·x (+ b) (+ y0) with W given as sparse-24-bitmask tensors (values [rows, cols/2]). */
export function sparse24Matvec(
  compressed: Float32Array,
  bitmask: Uint8Array,
  rows: number,
  cols: number,
  x: Float32Array,
  bias?: Float32Array,
  y0?: Float32Array,
): Float32Array {
  return maskedMatvec(compressed, bitmask, (r) => r * (cols / 2), rows, cols, x, bias, y0);
}

/**
 * Both formats: row r's kept values start at compressed[rowStart(r)] and stand, in column order, at
 * the set bits of its bitmask row (ceil(cols / 8) bytes, numpy's little bit order).
 */
function maskedMatvec(
  compressed: Float32Array,
  bitmask: Uint8Array,
  rowStart: (r: number) => number,
  rows: number,
  cols: number,
  x: Float32Array,
  bias?: Float32Array,
  y0?: Float32Array,
): Float32Array {
  const rb = Math.ceil(cols / 8);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let k = rowStart(r), acc = 0;
    for (let c = 0; c < cols; c++) if ((bitmask[r * rb + (c >> 3)] >> (c & 7)) & 1) acc += compressed[k++] * x[c];
    y[r] = acc + (bias ? bias[r] : 0) + (y0 ? y0[r] : 0);
  }
  return y;
}
