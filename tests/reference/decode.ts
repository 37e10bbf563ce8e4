/**
 * Plain-TS references of the decode-step kernels (used only by tests), in float64, written as the
 * equations of thanos/decode/ops.ts's documentation.
 */

/** y = W·x + b (W [rows, cols] row-major); with `y0`, y = y0 + W·x + b. */
export function matvec(
  w: ArrayLike<number>,
  rows: number,
  cols: number,
  x: ArrayLike<number>,
  bias?: ArrayLike<number> | null,
  y0?: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(rows);
  for (let o = 0; o < rows; o++) {
    let s = 0;
    for (let i = 0; i < cols; i++) s += w[o * cols + i] * x[i];
    y[o] = (y0 ? y0[o] : 0) + s + (bias ? bias[o] : 0);
  }
  return y;
}

/** HF's rotate-half rotation of one head vector at angle tables cos/sin (each [headDim/2]). */
export function rotateHalf(x: ArrayLike<number>, cos: ArrayLike<number>, sin: ArrayLike<number>): Float64Array {
  const half = x.length / 2;
  const out = new Float64Array(x.length);
  for (let j = 0; j < half; j++) {
    out[j] = x[j] * cos[j] - x[j + half] * sin[j];
    out[j + half] = x[j + half] * cos[j] + x[j] * sin[j];
  }
  return out;
}

/**
 * One decode step's attention: query q [heads·hd] against keys/values K, V [len, kvHeads·hd],
 * out_h = Σ_j softmax_j(scale · q_h·K_{j,g}) V_{j,g} with g = h / (heads / kvHeads).
 */
export function decodeAttention(
  q: ArrayLike<number>,
  K: ArrayLike<number>,
  V: ArrayLike<number>,
  len: number,
  heads: number,
  kvHeads: number,
  hd: number,
  scale: number,
): { probs: Float64Array; out: Float64Array } {
  const probs = new Float64Array(heads * len), out = new Float64Array(heads * hd);
  const ld = kvHeads * hd;
  for (let h = 0; h < heads; h++) {
    const g = Math.floor(h / (heads / kvHeads));
    const s = new Float64Array(len);
    for (let j = 0; j < len; j++) {
      let dot = 0;
      for (let d = 0; d < hd; d++) dot += q[h * hd + d] * K[j * ld + g * hd + d];
      s[j] = scale * dot;
    }
    const m = Math.max(...s);
    let l = 0;
    for (let j = 0; j < len; j++) l += Math.exp(s[j] - m);
    for (let j = 0; j < len; j++) probs[h * len + j] = Math.exp(s[j] - m) / l;
    for (let d = 0; d < hd; d++) {
      let t = 0;
      for (let j = 0; j < len; j++) t += probs[h * len + j] * V[j * ld + g * hd + d];
      out[h * hd + d] = t;
    }
  }
  return { probs, out };
}

/** The lowest index of the largest value. */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}
