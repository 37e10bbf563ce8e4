/**
 * Plain-TS reference of a linear layer's product with half-precision weights, used only by tests:
 * the halves decoded from their bits by the IEEE 754 definitions (binary16; bfloat16 = the high
 * 16 bits of a binary32), the product summed in f64.
 */

/** The value of one IEEE binary16 bit pattern. */
export function f16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; //          subnormal: m·2^(−14−10)
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** The value of one bfloat16 bit pattern (the high half of a binary32). */
export function bf16Value(bits: number): number {
  return new Float32Array(new Uint32Array([bits << 16]).buffer)[0];
}

/**
 * y[m, n] = Σ_k x[m, k]·W[n, k] (+ y[m, n] when accumulating) in f64, with W given as half bits
 * [N, K]; also the scale Σ_k |x[m, k]·W[n, k]| that f32 rounding errors are proportional to.
 */
export function matmulHalfWeight(
  x: Float32Array,
  bits: Uint16Array,
  M: number,
  N: number,
  K: number,
  dtype: "F16" | "BF16",
  y0?: Float32Array,
): { y: Float64Array; scale: Float64Array } {
  const w = Float64Array.from(bits, (b) => dtype === "F16" ? f16Value(b) : bf16Value(b));
  const y = new Float64Array(M * N), scale = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = y0 ? y0[m * N + n] : 0, a = y0 ? Math.abs(y0[m * N + n]) : 0;
      for (let k = 0; k < K; k++) {
        const t = x[m * K + k] * w[n * K + k];
        s += t;
        a += Math.abs(t);
      }
      y[m * N + n] = s;
      scale[m * N + n] = a;
    }
  }
  return { y, scale };
}

/** y = W·x + b (+ y0 when accumulating) for one token, in f64, with W as half bits [rows, cols]; and the scale. */
export function matvecHalf(
  x: Float32Array,
  bits: Uint16Array,
  rows: number,
  cols: number,
  dtype: "F16" | "BF16",
  bias?: Float32Array,
  y0?: Float32Array,
): { y: Float64Array; scale: Float64Array } {
  const { y, scale } = matmulHalfWeight(x, bits, 1, rows, cols, dtype, y0);
  if (bias) {
    for (let o = 0; o < rows; o++) {
      y[o] += bias[o];
      scale[o] += Math.abs(bias[o]);
    }
  }
  return { y, scale };
}

/**
 * What shaders/pack_texture_half.wgsl writes: the [height, width] texels, row by row, 4 floats a
 * texel — texel (x, y) holds W[4x .. 4x+3, k0 + y] (op(B) = Wᵀ, rows k0 .. k0+cols−1), each half
 * decoded, 0 past W's N rows or the slice's `cols`; W given as half bits [N, K].
 */
export function packTextureHalf(
  bits: Uint16Array,
  N: number,
  K: number,
  dtype: "F16" | "BF16",
  k0: number,
  cols: number,
  width: number,
  height: number,
): Float32Array {
  const out = new Float32Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let n = 0; n < 4 * width; n++) {
      if (y >= cols || n >= N) continue;
      const b = bits[n * K + k0 + y];
      out[y * 4 * width + n] = dtype === "F16" ? f16Value(b) : bf16Value(b);
    }
  }
  return out;
}
