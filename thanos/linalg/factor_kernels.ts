/**
 * Building blocks of the factorizations (internal: cholesky.ts composes them; not
 * re-exported from mod.ts). Each function records one kernel and validates only what its callers
 * cannot already guarantee. (Copies — plain, transposed — are elementwise.ts's copyView and
 * copyStrided.)
 *
 * - {@link copyReversed}: J·A·J, a copy with rows and columns reversed.
 * - {@link cholPanel}: Cholesky factor and inverse factor of one small diagonal block (sequential).
 * - {@link syrk}: C (+)= alpha·AᵀA on the lower triangle, optionally mirrored, optionally with A
 *   lower triangular (the product XᵀX of an inverse factor).
 * - {@link trmmLower}: C = alpha·A·B with A lower triangular.
 * The two products load vec4s and need 16-byte aligned operands ({@link isAligned}); the callers
 * keep their scratch matrices aligned with {@link roundUp4} leading dimensions.
 * - {@link zeroUpper}: clears the strict upper triangle.
 *
 * @module
 */

import { grid1d, launch } from "../gpu/launch.ts";
import { checkLoopBudget, loopCost } from "../gpu/loop_budget.ts";
import { copyStrided } from "./elementwise.ts";
import type { FactorStatus } from "./status.ts";
import type { MatrixView } from "./view.ts";

/** Register-blocked product kernels (syrk, trmm_lower): T x T outputs per invocation, WG x WG invocations. */
const TILE = { T: 8, WG: 8 } as const;
/** One-element-per-invocation kernels. */
const ELEM = { WG_X: 16, WG_Y: 16 } as const;
/** Invocations of the panel kernel's single workgroup. */
const PANEL_WG = 64;

/** dst = J·src·J: dst[i, j] = src[rows−1−i, cols−1−j] (same shape, distinct buffers). */
export function copyReversed(src: MatrixView, dst: MatrixView): Promise<void> {
  const last = src.offset + (src.rows - 1) * src.ld + src.cols - 1;
  return copyStrided({ tensor: src.tensor, offset: last, rowStride: -src.ld, colStride: -1 }, dst);
}

/** A[i, j] = 0 for j > i on a square window. */
export async function zeroUpper(a: MatrixView): Promise<void> {
  if (a.rows <= 1) return;
  await launch(a.tensor.gpu, "zero_upper", { a: a.tensor }, {
    grid: [Math.ceil(a.rows / ELEM.WG_X), Math.ceil(a.rows / ELEM.WG_Y)],
    params: { n: a.rows, off: a.offset, ld: a.ld },
    constants: ELEM,
  });
}

/**
 * Factors the small square block `a` in place (A = L·Lᵀ, zeros above the diagonal) and writes
 * D = L⁻¹ into `d` (distinct buffer). A non-positive pivot j is reported to `status` under `op`
 * with key `key0 + j`.
 */
export async function cholPanel(
  a: MatrixView,
  d: MatrixView,
  status: FactorStatus,
  op: number,
  key0: number,
): Promise<void> {
  await launch(a.tensor.gpu, "chol_panel", { a: a.tensor, d: d.tensor, status: status.tensor }, {
    grid: [1],
    params: { n: a.rows, offA: a.offset, ldA: a.ld, offD: d.offset, ldD: d.ld, op, key0 },
    constants: { WG: PANEL_WG },
  });
}

export interface SyrkOptions {
  /** default 1 */
  alpha?: number;
  /** C += … instead of C = … */
  accumulate?: boolean;
  /** also write the upper triangle (C[j, i] = C[i, j]), leaving C exactly symmetric */
  mirror?: boolean;
  /** A is lower triangular (A[k, i] = 0 for k < i): sum over k ≥ max(i, j) only (C = AᵀA of a factor) */
  lowerA?: boolean;
}

/** True when a view's offset and leading dimension allow vec4 loads (multiples of 4). */
export function isAligned(v: MatrixView): boolean {
  return v.offset % 4 === 0 && v.ld % 4 === 0;
}

/** x rounded up to a multiple of 4 (leading dimensions of scratch matrices, for vec4 loads). */
export function roundUp4(x: number): number {
  return Math.ceil(x / 4) * 4;
}

function needAligned(kernel: string, name: string, v: MatrixView): void {
  if (!isAligned(v)) {
    throw new Error(`${kernel}: ${name} (offset ${v.offset}, ld ${v.ld}) must be 16-byte aligned (internal error)`);
  }
}

/**
 * Lower triangle of C (n x n) = alpha·AᵀA (+ C) for A = `a` [k, n] (an aligned view, not sharing
 * a buffer with `c`).
 */
export async function syrk(a: MatrixView, c: MatrixView, options: SyrkOptions = {}): Promise<void> {
  const { alpha = 1, accumulate = false, mirror = false, lowerA = false } = options;
  const n = a.cols;
  if (n === 0) return;
  needAligned("syrk", "A", a);
  // an invocation walks k in steps of 4 (after at most 8 single steps on a triangular A): k is a
  // block size or the order of a matrix that fits one binding, far within the loop budget
  checkLoopBudget(
    "syrk",
    loopCost(TILE.T) + loopCost(Math.ceil(a.rows / 4)) + 2 * TILE.T,
    `products over k = ${a.rows}`,
  );
  const tiles = Math.ceil(n / (TILE.T * TILE.WG));
  await launch(c.tensor.gpu, "syrk", { a: a.tensor, c: c.tensor }, {
    grid: grid1d(c.tensor.gpu, tiles * (tiles + 1) / 2, 1),
    // the tiles on or below the diagonal
    params: { N: n, K: a.rows, offA: a.offset, ldA: a.ld, offC: c.offset, ldC: c.ld, alpha, tri: lowerA ? 1 : 0 },
    constants: { WG: TILE.WG, ACCUMULATE: Number(accumulate), MIRROR: Number(mirror) },
  });
}

/**
 * C = alpha·A·B with A (M x M) lower triangular — its upper triangle is never used — and B, C
 * M x N. `a` and `b` must be aligned views; `c` must not share a buffer with them.
 */
export async function trmmLower(a: MatrixView, b: MatrixView, c: MatrixView, alpha = 1): Promise<void> {
  if (c.rows === 0 || c.cols === 0) return;
  needAligned("trmmLower", "A", a);
  needAligned("trmmLower", "B", b);
  checkLoopBudget("trmmLower", loopCost(Math.ceil(c.rows / 4)) + 2 * TILE.T, `products over k = ${c.rows}`); // k ≤ i < M
  await launch(c.tensor.gpu, "trmm_lower", { a: a.tensor, b: b.tensor, c: c.tensor }, {
    grid: [Math.ceil(c.cols / (TILE.T * TILE.WG)), Math.ceil(c.rows / (TILE.T * TILE.WG))],
    params: {
      M: c.rows,
      N: c.cols,
      offA: a.offset,
      ldA: a.ld,
      offB: b.offset,
      ldB: b.ld,
      offC: c.offset,
      ldC: c.ld,
      alpha,
    },
    constants: { WG_X: TILE.WG, WG_Y: TILE.WG },
  });
}
