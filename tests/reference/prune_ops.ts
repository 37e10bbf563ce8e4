/** Plain-TS references for the pruning-specific kernels in thanos/prune/ops.ts (tests only). */

/** Removal sets of a block: idx/rhs [rows, count] (padding 0) and counts [rows]. */
export function removalSets(mask: ArrayLike<number>, w: ArrayLike<number>, rows: number, count: number) {
  const idx = new Uint32Array(rows * count), rhs = new Float32Array(rows * count), counts = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) {
    let c = 0;
    for (let j = 0; j < count; j++) {
      if (mask[r * count + j]) {
        idx[r * count + c] = j;
        rhs[r * count + c] = w[r * count + j];
        c++;
      }
    }
    counts[r] = c;
  }
  return { idx, rhs, counts };
}

/** out[r, idx[r, k]] = values[r, k] for k < counts[r], zeros elsewhere; out [rows, width]. */
export function scatterRows(
  values: ArrayLike<number>,
  idx: ArrayLike<number>,
  counts: ArrayLike<number>,
  rows: number,
  count: number,
  width: number,
): Float32Array {
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < counts[r]; k++) out[r * width + idx[r * count + k]] = values[r * count + k];
  }
  return out;
}

/** out[i, j] = src[rowIdx[i], colIdx[j]] with src [*, srcCols]. */
export function gather2d(
  src: ArrayLike<number>,
  srcCols: number,
  rowIdx: ArrayLike<number>,
  colIdx: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(rowIdx.length * colIdx.length);
  for (let i = 0; i < rowIdx.length; i++) {
    for (let j = 0; j < colIdx.length; j++) out[i * colIdx.length + j] = src[rowIdx[i] * srcCols + colIdx[j]];
  }
  return out;
}

/** Ascending positions of the set flags. */
export function compactFlags(flags: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let j = 0; j < flags.length; j++) if (flags[j]) out.push(j);
  return out;
}

/** One SparseGPT block sweep on row-major w [rows, count] with u [count, count] (see the shader). */
export function sparsegptBlock(
  w0: ArrayLike<number>,
  u: ArrayLike<number>,
  mask0: ArrayLike<number>,
  rows: number,
  count: number,
  nm: { n: number; m: number } | null,
) {
  const w = Float64Array.from(w0), mask = Uint32Array.from(mask0), err = new Float64Array(rows * count);
  const score = (r: number, t: number) => w[r * count + t] ** 2 / u[t * count + t] ** 2;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < count; i++) {
      if (nm && i % nm.m === 0) {
        const order = Array.from({ length: nm.m }, (_, k) => i + k)
          .sort((a, b) => score(r, a) - score(r, b) || a - b);
        for (let k = 0; k < nm.m; k++) mask[r * count + order[k]] = k < nm.n ? 1 : 0;
      }
      const wi = w[r * count + i];
      const q = mask[r * count + i] ? 0 : wi;
      const e = (wi - q) / u[i * count + i];
      for (let j = i; j < count; j++) w[r * count + j] -= e * u[i * count + j];
      w[r * count + i] = q;
      err[r * count + i] = e;
    }
  }
  return { w, mask, err };
}
