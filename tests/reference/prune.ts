/**
 * Plain-TS reference implementations of the four pruning methods (used only by tests).
 *
 * Written to read like the papers and the official PyTorch code (vectozavr/thanos lib/thanos.py,
 * lib/sparsegpt.py, lib/prune.py), in float64, with simple loops. Deliberate differences from the
 * official code — the same ones the GPU implementation makes — are marked "INTENT:".
 *
 * Conventions: W is [rows, cols] row-major (out_features x in_features); H = (2/n)·XᵀX over the
 * calibration rows X [n, cols]; colSqNorms[j] = (1/n)·Σ_i X_ij² (the reference's `scaler_row`);
 * masks are Uint8Array with 1 = pruned. Selections take exactly k elements, ties broken by the lower
 * flat (row-major) index.
 */

import { cholesky, damp, spdInverse } from "./factor.ts";

export type RefPattern =
  | { kind: "unstructured" }
  | { kind: "nm"; n: number; m: number }
  | { kind: "structured" };

export interface RefStats {
  cols: number;
  /** (2/n)·XᵀX, [cols, cols] */
  H: Float64Array;
  /** (1/n)·Σ_i X_ij², [cols] */
  colSqNorms: Float64Array;
  n: number;
}

export interface RefResult {
  W: Float64Array;
  mask: Uint8Array;
}

export interface RefOptions {
  sparsity: number;
  pattern: RefPattern;
  blocksize?: number;
  percdamp?: number;
  alpha?: number;
}

// ---------------------------------------------------------------------------------------------
// statistics and error

/** H = (2/n)·XᵀX and colSqNorms = (1/n)·Σ X², X [n, cols]. */
export function refStats(X: ArrayLike<number>, n: number, cols: number): RefStats {
  const H = new Float64Array(cols * cols);
  const colSqNorms = new Float64Array(cols);
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < cols; i++) {
      const xi = X[t * cols + i];
      colSqNorms[i] += xi * xi / n;
      for (let j = 0; j < cols; j++) H[i * cols + j] += 2 * xi * X[t * cols + j] / n;
    }
  }
  return { cols, H, colSqNorms, n };
}

/** ‖(W′−W)Xᵀ‖²_F / ‖W Xᵀ‖²_F computed directly from the activations X [n, cols]. */
export function refRelativeError(
  W: ArrayLike<number>,
  Wp: ArrayLike<number>,
  rows: number,
  cols: number,
  X: ArrayLike<number>,
  n: number,
): number {
  let num = 0, den = 0;
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < n; t++) {
      let y = 0, dy = 0;
      for (let j = 0; j < cols; j++) {
        y += W[r * cols + j] * X[t * cols + j];
        dy += (Wp[r * cols + j] - W[r * cols + j]) * X[t * cols + j];
      }
      num += dy * dy;
      den += y * y;
    }
  }
  return num / den;
}

// ---------------------------------------------------------------------------------------------
// small dense linear algebra (float64; Cholesky, inverse and damping are the factorization
// reference's, ./factor.ts)

/** Solves A·x = b for SPD A [d, d] via Cholesky. */
export function spdSolve(A: ArrayLike<number>, b: ArrayLike<number>, d: number): Float64Array {
  const L = cholesky(A, d);
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * d + k] * y[k];
    y[i] = s / L[i * d + i];
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < d; k++) s -= L[k * d + i] * x[k];
    x[i] = s / L[i * d + i];
  }
  return x;
}

/** The square window A[i0:, i0:] of A [d, d]. */
function trailing(A: ArrayLike<number>, d: number, i0: number): Float64Array {
  const m = d - i0;
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) out[i * m + j] = A[(i0 + i) * d + i0 + j];
  return out;
}

/**
 * SparseGPT/Thanos damping of a copy of H: dead inputs (H_jj == 0) get H_jj = 1 and W[:, j] = 0;
 * then H += percdamp·mean(diag H)·I.
 */
export function dampHessian(
  stats: RefStats,
  W: Float64Array,
  rows: number,
  percdamp: number,
): Float64Array {
  const d = stats.cols;
  const { h, dead } = damp(stats.H, d, percdamp);
  for (let j = 0; j < d; j++) if (dead[j]) { for (let r = 0; r < rows; r++) W[r * d + j] = 0; }
  return h;
}

// ---------------------------------------------------------------------------------------------
// selection (exact counts, ties by index)

/** Indices of the k smallest values of `scores` (ties: lower index first). */
export function kSmallest(scores: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[a] - scores[b] || a - b);
  return idx.slice(0, k);
}

/** Mask of the k smallest of every row. */
function rowKSmallestMask(scores: Float64Array, rows: number, cols: number, k: number): Uint8Array {
  const mask = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (const j of kSmallest(scores.subarray(r * cols, (r + 1) * cols), k)) mask[r * cols + j] = 1;
  }
  return mask;
}

/** Mask of the n smallest in every group of m consecutive columns of every row. */
function nmMask(scores: Float64Array, rows: number, cols: number, n: number, m: number): Uint8Array {
  const mask = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols; g += m) {
      for (const j of kSmallest(scores.subarray(r * cols + g, r * cols + g + m), n)) mask[r * cols + g + j] = 1;
    }
  }
  return mask;
}

function applyMask(W: Float64Array, mask: Uint8Array): void {
  for (let i = 0; i < W.length; i++) if (mask[i]) W[i] = 0;
}

/** Thanos outlier rows: the floor(alpha·rows) rows with the largest Σ_j W_ij²·‖X_j‖². */
export function outlierRows(
  W: ArrayLike<number>,
  rows: number,
  cols: number,
  norms: ArrayLike<number>,
  alpha: number,
): Uint8Array {
  const metric = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) metric[r] += W[r * cols + j] ** 2 * norms[j];
  }
  // INTENT: exactly floor(alpha·rows) dense rows. The official code keeps W[:-(num_outliers+1)]
  // prunable, i.e. one extra dense row even at alpha = 0.
  const count = Math.floor(alpha * rows);
  const outliers = new Uint8Array(rows);
  for (const r of kSmallest(metric.map((v) => -v), count)) outliers[r] = 1;
  return outliers;
}

// ---------------------------------------------------------------------------------------------
// the four methods

/** Magnitude: the smallest |W| within the layer (unstructured) or per group (n:m). */
export function refMagnitude(W0: ArrayLike<number>, rows: number, cols: number, o: RefOptions): RefResult {
  const W = Float64Array.from(W0);
  const scores = W.map(Math.abs);
  let mask: Uint8Array;
  if (o.pattern.kind === "nm") {
    mask = nmMask(scores, rows, cols, o.pattern.n, o.pattern.m);
  } else {
    // INTENT: exactly floor(s·numel) weights; the official `W_metric <= sort(W_metric)[k]` prunes k+1 and every tie.
    mask = new Uint8Array(rows * cols);
    for (const i of kSmallest(scores, Math.floor(o.sparsity * rows * cols))) mask[i] = 1;
  }
  applyMask(W, mask);
  return { W, mask };
}

/** Wanda: score |W_ij|·‖X_j‖, the same fraction pruned in every row (or n:m per group). */
export function refWanda(W0: ArrayLike<number>, rows: number, cols: number, stats: RefStats, o: RefOptions): RefResult {
  const W = Float64Array.from(W0);
  const scores = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) scores[r * cols + j] = Math.abs(W[r * cols + j]) * Math.sqrt(stats.colSqNorms[j]);
  }
  const mask = o.pattern.kind === "nm"
    ? nmMask(scores, rows, cols, o.pattern.n, o.pattern.m)
    : rowKSmallestMask(scores, rows, cols, Math.floor(cols * o.sparsity));
  applyMask(W, mask);
  return { W, mask };
}

/**
 * SparseGPT (Frantar & Alistarh 2023), `fasterprune`: Hinv = upper Cholesky factor of H⁻¹; column
 * blocks of B; mask per block from w²/[Hinv]_jj² (unstructured: the floor(s·rows·B) smallest of the
 * block; n:m: chosen per group as the sweep reaches it); OBS update column by column inside the
 * block, deferred update of the columns right of the block.
 */
export function refSparseGPT(
  W0: ArrayLike<number>,
  rows: number,
  cols: number,
  stats: RefStats,
  o: RefOptions,
): RefResult {
  const B = o.blocksize ?? 128;
  const W = Float64Array.from(W0);
  const H = dampHessian(stats, W, rows, o.percdamp ?? 0.01);
  // Hinv = U with UᵀU = H⁻¹ (upper Cholesky of the inverse)
  const Lc = cholesky(spdInverse(H, cols), cols);
  const U = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) for (let j = i; j < cols; j++) U[i * cols + j] = Lc[j * cols + i];
  const mask = new Uint8Array(rows * cols);

  for (let i1 = 0; i1 < cols; i1 += B) {
    const i2 = Math.min(i1 + B, cols), count = i2 - i1;
    const Err = new Float64Array(rows * count); // [rows, count]
    if (o.pattern.kind === "unstructured") {
      const tmp = new Float64Array(rows * count);
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < count; i++) {
          tmp[r * count + i] = W[r * cols + i1 + i] ** 2 / U[(i1 + i) * cols + i1 + i] ** 2;
        }
      }
      // INTENT: exactly floor(s·rows·count); the official `tmp <= sort(tmp)[k]` prunes k+1 and every tie.
      for (const f of kSmallest(tmp, Math.floor(o.sparsity * rows * count))) {
        mask[Math.floor(f / count) * cols + i1 + (f % count)] = 1;
      }
    }
    for (let r = 0; r < rows; r++) {
      const w = W.subarray(r * cols, (r + 1) * cols);
      for (let i = 0; i < count; i++) {
        const c = i1 + i;
        if (o.pattern.kind === "nm" && i % o.pattern.m === 0) {
          const { n, m } = o.pattern;
          const s = Array.from({ length: m }, (_, t) => w[c + t] ** 2 / U[(c + t) * cols + c + t] ** 2);
          for (const t of kSmallest(s, n)) mask[r * cols + c + t] = 1;
        }
        const d = U[c * cols + c];
        const q = mask[r * cols + c] ? 0 : w[c];
        const err = (w[c] - q) / d;
        for (let j = c; j < i2; j++) w[j] -= err * U[c * cols + j];
        w[c] = q;
        Err[r * count + i] = err;
      }
      // deferred update: W[:, i2:] -= Err · Hinv[i1:i2, i2:]
      for (let j = i2; j < cols; j++) {
        let s = 0;
        for (let i = 0; i < count; i++) s += Err[r * count + i] * U[(i1 + i) * cols + j];
        w[j] -= s;
      }
    }
  }
  return { W, mask };
}

/**
 * Thanos (Ilin & Richtárik 2025), `snap`: column blocks of B over the damped H. Per block:
 *  - unstructured: Wanda scores |W|·‖X‖ over ALL remaining columns i1.., the globally smallest
 *    (target − zeros so far) selected, only those inside the block pruned now (dynamic mask);
 *  - n:m: per row, per group of m inside the block, the n smallest Wanda scores; the floor(alpha·rows)
 *    outlier rows stay dense;
 *  - per row r with removal set q: λ = Hinv[q,q]⁻¹·W[r,q]ᵀ; W[r, i1:] −= λᵀ·Hinv[q, i1:]; W[r,q] = 0,
 *    where Hinv = inverse of H[i1:, i1:] (this reference re-inverts each trailing block from scratch,
 *    as the official code does; the GPU code reads the same rows off one upper Cholesky factor of H⁻¹).
 * Structured: whole columns (lowest ‖X_j‖²·Σ_{non-outlier r} W_rj²), ceil(s·cols/(1−alpha)) of them,
 * removed from every non-outlier row in one solve over the full inverse.
 */
export function refThanos(
  W0: ArrayLike<number>,
  rows: number,
  cols: number,
  stats: RefStats,
  o: RefOptions,
): RefResult {
  const B = o.blocksize ?? 128;
  const alpha = o.alpha ?? 0;
  const W = Float64Array.from(W0);
  const H = dampHessian(stats, W, rows, o.percdamp ?? 0.01);
  const norms = stats.colSqNorms;
  const mask = new Uint8Array(rows * cols);

  if (o.pattern.kind === "structured") {
    // INTENT: the column metric uses the accumulated ‖X_j‖² (the official X_squared_sum is reset
    // every batch, so it only sees the last calibration sample).
    const outliers = outlierRows(W, rows, cols, norms, alpha);
    const colScore = new Float64Array(cols);
    for (let j = 0; j < cols; j++) {
      for (let r = 0; r < rows; r++) if (!outliers[r]) colScore[j] += W[r * cols + j] ** 2 * norms[j];
    }
    const b = Math.ceil(o.sparsity * cols / (1 - alpha));
    const P = kSmallest(colScore, b).sort((x, y) => x - y);
    const Hinv = spdInverse(H, cols);
    const G = new Float64Array(b * b);
    for (let a = 0; a < b; a++) for (let c = 0; c < b; c++) G[a * b + c] = Hinv[P[a] * cols + P[c]];
    for (let r = 0; r < rows; r++) {
      if (outliers[r]) continue;
      const lambda = spdSolve(G, P.map((j) => W[r * cols + j]), b);
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let a = 0; a < b; a++) s += lambda[a] * Hinv[P[a] * cols + j];
        W[r * cols + j] -= s;
      }
      for (const j of P) {
        W[r * cols + j] = 0;
        mask[r * cols + j] = 1;
      }
    }
    return { W, mask };
  }

  const outliers = o.pattern.kind === "nm" ? outlierRows(W, rows, cols, norms, alpha) : new Uint8Array(rows);
  const target = Math.floor(o.sparsity * rows * cols);
  let zeros = 0;
  for (let i1 = 0; i1 < cols; i1 += B) {
    const i2 = Math.min(i1 + B, cols), m = cols - i1, count = i2 - i1;
    const Hinv = spdInverse(trailing(H, cols, i1), m); // inverse of H[i1:, i1:], local indices
    const blockMask = new Uint8Array(rows * count);
    if (o.pattern.kind === "unstructured") {
      const scores = new Float64Array(rows * m);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < m; j++) scores[r * m + j] = Math.abs(W[r * cols + i1 + j]) * Math.sqrt(norms[i1 + j]);
      }
      // the remaining budget may exceed what is left only if earlier blocks pruned little; take all then
      const k = Math.min(target - zeros, rows * m);
      for (const f of kSmallest(scores, k)) {
        const j = f % m;
        if (j < count) blockMask[Math.floor(f / m) * count + j] = 1;
      }
    } else {
      const { n, m: gm } = o.pattern;
      for (let r = 0; r < rows; r++) {
        if (outliers[r]) continue;
        for (let g = 0; g < count; g += gm) {
          const s = Array.from(
            { length: gm },
            (_, t) => Math.abs(W[r * cols + i1 + g + t]) * Math.sqrt(norms[i1 + g + t]),
          );
          for (const t of kSmallest(s, n)) blockMask[r * count + g + t] = 1;
        }
      }
    }
    for (let r = 0; r < rows; r++) {
      const q: number[] = [];
      for (let j = 0; j < count; j++) if (blockMask[r * count + j]) q.push(j);
      if (q.length === 0) continue;
      zeros += q.length;
      const R = new Float64Array(q.length * q.length);
      for (let a = 0; a < q.length; a++) for (let c = 0; c < q.length; c++) R[a * q.length + c] = Hinv[q[a] * m + q[c]];
      const lambda = spdSolve(R, q.map((j) => W[r * cols + i1 + j]), q.length);
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let a = 0; a < q.length; a++) s += lambda[a] * Hinv[q[a] * m + j];
        W[r * cols + i1 + j] -= s;
      }
      for (const j of q) {
        W[r * cols + i1 + j] = 0;
        mask[r * cols + i1 + j] = 1;
      }
    }
  }
  return { W, mask };
}
