/**
 * Plain-TS reference for the dense kernels (matmul, Gram, column norms), used only by tests.
 * Naive loops with f64 accumulation, on host copies of matrix views.
 */

/** A window of a row-major host array: element (i, j) at `data[offset + i·ld + j]`. */
export interface HostView {
  data: Float32Array;
  offset: number;
  rows: number;
  cols: number;
  ld: number;
}

/** The whole of a row-major [rows, cols] array as a view. */
export function hostMat(data: Float32Array, rows: number, cols: number): HostView {
  return { data, offset: 0, rows, cols, ld: cols };
}

/** Element (i, j) of op(v): v itself, or its transpose. */
function at(v: HostView, transposed: boolean, i: number, j: number): number {
  return transposed ? v.data[v.offset + j * v.ld + i] : v.data[v.offset + i * v.ld + j];
}

export interface ReferenceProduct {
  /** the whole of C's array after the operation (elements outside the window unchanged) */
  data: Float32Array;
  /**
   * per element of the window (row-major [M, N]): |alpha|·Σ_k |op(A)_ik|·|op(B)_kj| (+ |C_ij| when
   * accumulating) — the scale that f32 rounding errors are proportional to
   */
  scale: Float64Array;
}

/**
 * C = alpha·op(A)·op(B) (+ C if accumulate), the naive triple loop in f64.
 * Returns a copy of C's array; the input is not modified.
 */
export function matmul(
  a: HostView,
  b: HostView,
  c: HostView,
  { transA = false, transB = false, alpha = 1, accumulate = false } = {},
): ReferenceProduct {
  const M = c.rows, N = c.cols, K = transA ? a.rows : a.cols;
  const data = c.data.slice();
  const scale = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0, abs = 0;
      for (let k = 0; k < K; k++) {
        const p = at(a, transA, i, k) * at(b, transB, k, j);
        sum += p;
        abs += Math.abs(p);
      }
      const idx = c.offset + i * c.ld + j;
      const old = accumulate ? c.data[idx] : 0;
      data[idx] = alpha * sum + old;
      scale[i * N + j] = Math.abs(alpha) * abs + Math.abs(old);
    }
  }
  return { data, scale };
}

/** H += scale·XᵀX for X [n, d] and H [d, d] (both views), in f64; returns a copy of H's array. */
export function gramAccumulate(x: HostView, h: HostView, scale: number): ReferenceProduct {
  return matmul(x, x, h, { transA: true, alpha: scale, accumulate: true });
}

/** out[j] += scale·Σ_i X[i, j]², in f64; returns a new array. */
export function columnSquaredNormsAccumulate(x: HostView, out: Float32Array, scale: number): Float32Array {
  const result = out.slice();
  for (let j = 0; j < x.cols; j++) {
    let sum = 0;
    for (let i = 0; i < x.rows; i++) {
      const v = x.data[x.offset + i * x.ld + j];
      sum += v * v;
    }
    result[j] = out[j] + scale * sum;
  }
  return result;
}

/**
 * What shaders/pack_texture.wgsl writes: the [height, width] texels of an rgba32float texture, row
 * by row, 4 floats a texel: texel (x, y) holds op(v)[y, 4x .. 4x+3], 0 past op(v)'s rows or columns.
 */
export function packTexture(v: HostView, transposed: boolean, width: number, height: number): Float32Array {
  const [rows, cols] = transposed ? [v.cols, v.rows] : [v.rows, v.cols];
  const out = new Float32Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let c = 0; c < 4 * width; c++) {
      out[y * 4 * width + c] = y < rows && c < cols ? at(v, transposed, y, c) : 0;
    }
  }
  return out;
}
