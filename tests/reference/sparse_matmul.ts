/**
 * Plain-TS reference for the sparse batch products (thanos/linalg/sparse_matmul.ts): Y = X·Wᵀ
 * straight from the compressed-tensors tensors (`compressed`, `bitmask` in numpy's little bit order,
 * `row_offsets`; a 2:4 weight's rows start at r·cols/2), f64 accumulation, no repacking.
 */

/**
 * Y [n, rows] = X [n, cols] · Wᵀ for W stored as compressed-tensors tensors.
 * @param rowOffsets where each row starts in `compressed` (sparse-bitmask), or null for
 *   sparse-24-bitmask (row r starts at r·cols/2)
 */
export function sparseMatmul(
  compressed: Float32Array,
  bitmask: Uint8Array,
  rowOffsets: BigInt64Array | null,
  rows: number,
  cols: number,
  x: Float32Array,
  n: number,
): Float32Array {
  const rb = Math.ceil(cols / 8);
  const y = new Float32Array(n * rows);
  for (let r = 0; r < rows; r++) {
    const cs: number[] = [], vs: number[] = []; //        row r's non-zeros, in column order
    let k = rowOffsets ? Number(rowOffsets[r]) : r * (cols / 2);
    for (let c = 0; c < cols; c++) {
      if ((bitmask[r * rb + (c >> 3)] >> (c & 7)) & 1) {
        cs.push(c);
        vs.push(compressed[k++]);
      }
    }
    for (let t = 0; t < n; t++) {
      let acc = 0;
      for (let i = 0; i < cs.length; i++) acc += vs[i] * x[t * cols + cs[i]];
      y[t * rows + r] = acc;
    }
  }
  return y;
}
