/**
 * Plain-TS float64 reference for the factorization kernels (used only by tests): damping, Cholesky,
 * SPD inverse, SparseGPT's upper Cholesky factor of the inverse, and
 * the batched gathered solves. Matrices are row-major n x n arrays; simple loops, no blocking.
 */

/** Result of {@link damp}. */
export interface Damped {
  h: Float64Array;
  dead: Uint32Array;
  lambda: number;
}

/** SparseGPT/Thanos damping: dead (H_jj == 0) → H_jj = 1; then H += percdamp·mean(diag H)·I. */
export function damp(h: ArrayLike<number>, n: number, percdamp: number): Damped {
  const out = Float64Array.from(h);
  const dead = new Uint32Array(n);
  let sum = 0;
  for (let j = 0; j < n; j++) {
    if (out[j * n + j] === 0) {
      dead[j] = 1;
      out[j * n + j] = 1;
    }
    sum += out[j * n + j];
  }
  const lambda = percdamp * sum / n;
  for (let j = 0; j < n; j++) out[j * n + j] += lambda;
  return { h: out, dead, lambda };
}

/**
 * Lower Cholesky factor L (A = L·Lᵀ) from A's lower triangle.
 * @throws Error naming the first pivot j that is not > 0
 */
export function cholesky(a: ArrayLike<number>, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j];
    for (let k = 0; k < j; k++) s -= l[j * n + k] * l[j * n + k];
    if (!(s > 0)) throw new Error(`not positive definite at pivot ${j} (${s})`);
    const d = Math.sqrt(s);
    l[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j];
      for (let k = 0; k < j; k++) t -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = t / d;
    }
  }
  return l;
}

/** L⁻¹ of a lower triangular L (forward substitution on the identity). */
export function invertLower(l: ArrayLike<number>, n: number): Float64Array {
  const x = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    for (let i = c; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= l[i * n + k] * x[k * n + c];
      x[i * n + c] = s / l[i * n + i];
    }
  }
  return x;
}

/** A⁻¹ = L⁻ᵀ·L⁻¹ for SPD A. */
export function spdInverse(a: ArrayLike<number>, n: number): Float64Array {
  const x = invertLower(cholesky(a, n), n);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += x[k * n + i] * x[k * n + j];
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}

/** SparseGPT's factor, literally as torch computes it: U = cholesky(inverse(A))ᵀ (UᵀU = A⁻¹). */
export function upperCholeskyOfInverse(a: ArrayLike<number>, n: number): Float64Array {
  const l = cholesky(spdInverse(a, n), n);
  return transpose(l, n, n);
}

/**
 * Batched gathered solves: for each row r, A[q_r, q_r]·λ_r = b_r with q_r = idx[r, 0..counts[r]),
 * by Cholesky; λ [rows, maxQ] with zeros past counts[r].
 */
export function gatheredSolve(
  a: ArrayLike<number>,
  m: number,
  idx: ArrayLike<number>,
  counts: ArrayLike<number>,
  rhs: ArrayLike<number>,
  rows: number,
  maxQ: number,
): Float64Array {
  const out = new Float64Array(rows * maxQ);
  for (let r = 0; r < rows; r++) {
    const q = counts[r];
    const g = new Float64Array(q * q);
    for (let i = 0; i < q; i++) {
      for (let j = 0; j < q; j++) g[i * q + j] = a[idx[r * maxQ + i] * m + idx[r * maxQ + j]];
    }
    const l = cholesky(g, q);
    const y = new Float64Array(q);
    for (let i = 0; i < q; i++) {
      let s = rhs[r * maxQ + i];
      for (let k = 0; k < i; k++) s -= l[i * q + k] * y[k];
      y[i] = s / l[i * q + i];
    }
    for (let i = q - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < q; k++) s -= l[k * q + i] * out[r * maxQ + k];
      out[r * maxQ + i] = s / l[i * q + i];
    }
  }
  return out;
}

/** C = A·B for row-major A [n, k], B [k, m]. */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, m: number): Float64Array {
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      for (let j = 0; j < m; j++) c[i * m + j] += aip * b[p * m + j];
    }
  }
  return c;
}

/** Aᵀ for row-major A [rows, cols]. */
export function transpose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

/** (2/n)·XᵀX for X [samples, d] — the Hessian of a layer's input. */
export function hessian(x: ArrayLike<number>, samples: number, d: number): Float64Array {
  const h = new Float64Array(d * d);
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < d; i++) {
      const xi = x[s * d + i];
      if (xi === 0) continue;
      for (let j = 0; j <= i; j++) h[i * d + j] += xi * x[s * d + j];
    }
  }
  const scale = 2 / samples;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      h[i * d + j] *= scale;
      h[j * d + i] = h[i * d + j];
    }
  }
  return h;
}
