/** Plain-TS reference for the elementwise kernels (used only by tests). */

/** x[i] = value. */
export function fill(n: number, value: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = value;
  return x;
}

/** A window of a row-major host array: element (i, j) at `data[offset + i·ld + j]`. */
export interface HostWindow {
  data: Float32Array;
  offset: number;
  rows: number;
  cols: number;
  ld: number;
}

/** dst = src on the window; returns a copy of dst's array. */
export function copyView(src: HostWindow, dst: HostWindow): Float32Array {
  const out = dst.data.slice();
  for (let i = 0; i < src.rows; i++) {
    for (let j = 0; j < src.cols; j++) out[dst.offset + i * dst.ld + j] = src.data[src.offset + i * src.ld + j];
  }
  return out;
}

/** x *= alpha on the window with alpha as an f32 (as the kernel gets it); returns a copy of x's array. */
export function scale(x: HostWindow, alpha: number): Float32Array {
  const out = x.data.slice();
  alpha = Math.fround(alpha);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < x.cols; j++) out[x.offset + i * x.ld + j] *= alpha;
  }
  return out;
}

/** y += alpha·x on the window, in f64 then rounded to f32; returns a copy of y's array. */
export function axpy(y: HostWindow, x: HostWindow, alpha: number): Float32Array {
  const out = y.data.slice();
  for (let i = 0; i < y.rows; i++) {
    for (let j = 0; j < y.cols; j++) out[y.offset + i * y.ld + j] += alpha * x.data[x.offset + i * x.ld + j];
  }
  return out;
}

/** dst[i, j] = src[offset + i·rowStride + j·colStride] on dst's window; returns a copy of dst's array. */
export function copyStrided(
  src: Float32Array,
  offset: number,
  rowStride: number,
  colStride: number,
  dst: HostWindow,
): Float32Array {
  const out = dst.data.slice();
  for (let i = 0; i < dst.rows; i++) {
    for (let j = 0; j < dst.cols; j++) out[dst.offset + i * dst.ld + j] = src[offset + i * rowStride + j * colStride];
  }
  return out;
}
