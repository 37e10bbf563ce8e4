/**
 * Batched gathered solves: Thanos's per-row systems. For each of `rows` rows r,
 *
 *   A[q_r, q_r]·λ_r = b_r,   q_r = idx[r, 0..n_r),  n_r = counts[r]
 *
 * where A is one shared SPD matrix (Hinv of the current block), q_r the row's removal set and
 * b_r = W[r, q_r]ᵀ. λ_r fills out[r, 0..n_r) and out[r, n_r..maxQ) is zero (the official code pads
 * the gathered matrix with the identity, which solves to the same zeros).
 *
 * Kernel: shaders/gathered_solve.wgsl, one invocation per row: a left-looking Cholesky of the
 * gathered matrix by 4-column blocks on 4 x 4 register tiles (read from A on the fly, L kept in a
 * scratch buffer) that solves L·y = b alongside (its block rows need the tiles the diagonal update
 * loads), then the blocked triangular solve Lᵀ·λ = y. Measured on llvmpipe (2 cores, shared):
 * - one workgroup per row with the threads cooperating on each column (a barrier per column) was
 *   3–5x slower than an invocation per row with scalar loops: barriers cost a context switch per 8
 *   invocations there, while independent rows fill the SIMD lanes with one instruction stream;
 * - the 4 x 4 register tiles (two vec4 loads per 16 multiply-adds instead of three scalar accesses
 *   per multiply-add) made the invocation-per-row kernel another ~8x faster: 768 rows x 128 in
 *   0.32 s (2.8 s before), 4096 x 128 in 1.2 s.
 * - then (profiled inside Thanos's block loop, see thanos/prune/thanos.ts): the tiles below the
 *   diagonal two at a time (8 x 4: three vec4 loads per 32 multiply-adds), the inner loop by
 *   4-column blocks with the addresses stepped instead of recomputed, and scratch interleaved by
 *   groups of 32 rows instead of across all rows (a row's consecutive words were `slots`·16 bytes,
 *   a page, apart): 768 rows at n = 64 and 128 in ~0.84x and ~0.80x the CPU time (process CPU
 *   seconds, the machine shared at load ~18), results bit for bit the same (same operations in the
 *   same order). The kernel still runs at ~1/3 of matmul's multiply-adds per CPU second;
 * - work grows as n³ per row and a SIMD vector's 8 rows run as long as the longest of them, so with
 *   varying counts each vector of 8 slots solves rows of adjacent rank by count, and every
 *   workgroup a spread of ranks (llvmpipe gives each thread a contiguous range of workgroups:
 *   plain sorted order cut the CPU time but not the wall time, one thread got the heavy rows) —
 *   shaders/count_order.wgsl. 768 rows of a 128-column block, wall per call (8 calls between syncs,
 *   alternating trees, a quiet machine): counts ~ Binomial(128, 1/2) 29–31 ms against 35–38, counts
 *   spread over 8..120 36–38 against 46–59. Each row's λ is the same bit for bit whichever slot
 *   solves it.
 * On a real GPU one workgroup per row with the tile in workgroup memory would likely win; not done.
 *
 * Mesa's llvmpipe silently ends an invocation after 65535 loop iterations in total; a row's work
 * (~cap³/512 iterations: ~30k at cap = 256, ~200k at 512) fits in one dispatch for every cap ≤ 256,
 * and {@link plan} spreads larger ones — or any within a smaller `loopBudget`, for tests — over
 * several (see thanos/gpu/loop_budget.ts); rows are processed in chunks whose scratch stays under
 * {@link SCRATCH_BYTES}. The scratch and the work follow `cap`, the bound on every row's count, not
 * the row stride maxQ: n:m Thanos on a block of 512 columns solves sets of exactly 256 (2:4).
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { grid1d, launch } from "../gpu/launch.ts";
import { LOOP_BUDGET, loopCost } from "../gpu/loop_budget.ts";
import { empty, type Tensor } from "../gpu/tensor.ts";
import { checkNoAlias, checkSquare, checkTensor } from "./checks.ts";
import { singleWorkgroupSize } from "./select.ts";
import { type FactorStatus, withStatus } from "./status.ts";
import { describe, type MatrixView } from "./view.ts";

/**
 * Largest removal-set size: the paper's Thanos blocks of 512 columns (`construct_tables.py`) remove up
 * to 512 weights of a row at once (the status key packs the pivot index into 9 bits).
 */
export const MAX_GATHERED = 512;
/** Scratch for the gathered factors of one chunk of rows. */
const SCRATCH_BYTES = 64 * 1024 * 1024;
const WG = 64;
/** Slots per interleaved scratch group (SG in shaders/gathered_solve.wgsl). */
const SLOT_GROUP = 32;
/** The most rows an invocation of count_order.wgsl places (loop budget; its workgroup is singleWorkgroupSize). */
const ORDER_ROWS = 20_000;
/**
 * Rows that run side by side and are kept together when the ranks are dealt out over the
 * workgroups (count_order.wgsl): llvmpipe's SIMD width in 32-bit lanes, which hands each thread a
 * contiguous range of workgroups; a GPU schedules workgroups as they free up and runs warps of 32
 * or 64, so there a whole workgroup takes adjacent ranks (lanes = group: plain sorted order).
 */
function orderLanes(gpu: Gpu): number {
  return gpu.info.isFallback ? 8 : WG;
}

export interface GatheredSolveOptions {
  /** number of rows (default: `counts.size`, or `idx.size / maxQ` with a uniform count) */
  rows?: number;
  /** record a non-positive pivot here instead of reading back and throwing before returning */
  status?: FactorStatus;
  /**
   * bound on every n_r, ≤ maxQ (default: the uniform count, else maxQ): sizes the factors' scratch
   * and the work planned per dispatch; counts above it are clamped to it
   */
  maxCount?: number;
  /**
   * most loop iterations per invocation and dispatch (default {@link LOOP_BUDGET}); a row's work is
   * split into as many dispatches as that needs ({@link plan}) — smaller values let tests exercise
   * the split, which every cap ≤ 256 fits without
   */
  loopBudget?: number;
  /**
   * with a counts tensor, solve the rows in order of decreasing count (default true;
   * shaders/count_order.wgsl): false where every count is known to be about the same (n:m), to save
   * the ordering's dispatch
   */
  orderRows?: boolean;
  /**
   * write each λ_r at its columns instead of compactly: out[r, q_i] = λ_i and zeros elsewhere
   * (default false) — Thanos's dense Λ [rows, maxQ] for the update W −= Λ·Hinv[0:B, :], without a
   * scatter pass. Needs every index < maxQ: A's size m ≤ maxQ is checked, the indices are not
   */
  scatter?: boolean;
  /**
   * u32 [1]: add Σ_r n_r (each clamped to maxCount) to it on the GPU — Thanos's count of the
   * weights pruned so far, whose removal sets are exactly the block's pruned weights. Needs a counts
   * tensor and at most {@link countedRowsLimit} rows (the ordering kernel sums them)
   */
  countInto?: Tensor<"u32">;
}

/** The most rows one gatheredSolve call orders by count, or sums into `countInto` (count_order.wgsl's loop budget). */
export function countedRowsLimit(gpu: Gpu): number {
  return singleWorkgroupSize(gpu) * ORDER_ROWS;
}

/**
 * Solves A[q_r, q_r]·λ_r = b_r for every row r, by Cholesky of each gathered matrix.
 *
 * @param a the shared SPD matrix, a square f32 view [m, m]; only entries A[q_i, q_k] are read
 * @param idx u32 [rows, maxQ] (row-major, at least rows·maxQ elements): q_r = idx[r, 0..n_r), indices < m
 * @param counts u32 [rows]: n_r ≤ maxQ per row — or one number for all rows (n:m and structured cases)
 * @param rhs f32 [rows, maxQ]: b_r in rhs[r, 0..n_r)
 * @param out f32 [rows, maxQ] (a tensor other than the inputs): λ_r, zero-padded to maxQ (with
 *   `scatter`: λ_r at its columns q_r, zeros elsewhere)
 * @param maxQ row stride of idx/rhs/out and bound on n_r, 1 ≤ maxQ ≤ 512
 * @param options `rows`, `maxCount`, `status`, `loopBudget`, `orderRows`, `scatter`, `countInto`
 * @throws RangeError/TypeError for bad shapes, dtypes, a count > maxQ given as a number, a maxCount
 *   outside [count, maxQ], or aliasing
 * @throws Error `gatheredSolve: A[q_r, q_r] of row r = … is not positive definite (pivot … ≤ 0)`
 *   (only without `status`). Indices ≥ m and per-row counts > maxCount are not checked on the GPU:
 *   counts are clamped to maxCount, and out-of-range indices read whatever lies there.
 * @example
 * ```ts
 * // Thanos block: Hinv[q_r, q_r]·λ_r = W[r, q_r]ᵀ for all rows of the batch
 * await gatheredSolve(sub(hinv, 0, 0, B, B), sets.idx, sets.counts, sets.rhs, lambda, B, { status });
 * ```
 */
export async function gatheredSolve(
  a: MatrixView,
  idx: Tensor,
  counts: Tensor | number,
  rhs: Tensor,
  out: Tensor,
  maxQ: number,
  options: GatheredSolveOptions = {},
): Promise<void> {
  const op = "gatheredSolve";
  const { rows, cap } = checkArguments(a, idx, counts, rhs, out, maxQ, options);
  if (rows === 0) return;

  const gpu = a.tensor.gpu;
  const words = scratchWords(cap);
  // whole groups of SLOT_GROUP slots, within one storage binding where a group fits one: the hot loops
  // then index scratch directly, not through chunk accessors (gpu/chunked.ts)
  const group = 16 * words * SLOT_GROUP;
  const slots = Math.min(rows, Math.max(1, Math.floor(Math.min(SCRATCH_BYTES, gpu.bindingLimit) / group)) * SLOT_GROUP);
  const phases = plan(cap, options.loopBudget, maxQ);
  const what = describe(a);
  await withStatus(gpu, options.status, async (status) => {
    const id = status.register(({ key }) =>
      `${op}: A[q_r, q_r] of row r = ${Math.floor(key / MAX_GATHERED)} (A = ${what}) is not positive definite ` +
      `(pivot ${key % MAX_GATHERED} of the gathered matrix ≤ 0)`
    );
    // the shader interleaves scratch by groups of SLOT_GROUP slots: whole groups are allocated
    using scratch = empty(gpu, [4 * words * Math.ceil(slots / SLOT_GROUP) * SLOT_GROUP], "f32", `${op}.factors`);
    const countsTensor = typeof counts === "number" ? idx : counts; // bound but unread with a uniform count
    // varying counts: the rows by decreasing count, so that the rows run side by side do alike work
    const ordered = typeof counts !== "number" && (options.orderRows ?? true) && rows <= countedRowsLimit(gpu);
    // the ordering kernel reads every count: it also sums them for countInto (then the order may go unused)
    using order = ordered || options.countInto ? empty(gpu, [rows], "u32", `${op}.order`) : null;
    if (order) {
      const total = options.countInto;
      using unused = total ? null : empty(gpu, [1], "u32", `${op}.noTotal`);
      await launch(gpu, "count_order", { counts: countsTensor, order, total: total ?? unused! }, {
        grid: [1],
        params: { rows, cap, lanes: orderLanes(gpu), group: WG, add_total: total ? 1 : 0 },
        constants: { WG: singleWorkgroupSize(gpu) },
      });
    }
    for (let row0 = 0; row0 < rows; row0 += slots) {
      const n = Math.min(slots, rows - row0);
      for (const phase of phases) {
        await launch(gpu, "gathered_solve", {
          a: a.tensor,
          idx,
          counts: countsTensor,
          order: order ?? idx, //                                  bound but unread when not ordered
          rhs,
          out,
          scratch,
          status: status.tensor,
        }, {
          grid: grid1d(gpu, n, WG),
          params: {
            rows,
            row0,
            slots,
            maxQ,
            offA: a.offset,
            ldA: a.ld,
            count: typeof counts === "number" ? counts : 0xffffffff,
            op: id,
            kg0: phase.kg0,
            kg1: phase.kg1,
            backward: phase.backward ? 1 : 0,
            cap,
            ordered: ordered ? 1 : 0,
            scatter: options.scatter ? 1 : 0,
          },
          constants: { WG },
        });
      }
    }
  });
}

/** Validates gatheredSolve's arguments; returns the row count and the bound on every n_r. */
function checkArguments(
  a: MatrixView,
  idx: Tensor,
  counts: Tensor | number,
  rhs: Tensor,
  out: Tensor,
  maxQ: number,
  options: GatheredSolveOptions,
): { rows: number; cap: number } {
  const op = "gatheredSolve";
  checkSquare(op, "A", a);
  if (!Number.isInteger(maxQ) || maxQ < 1 || maxQ > MAX_GATHERED) {
    throw new RangeError(`${op}: maxQ is ${maxQ}; expected an integer in [1, ${MAX_GATHERED}]`);
  }
  if (options.countInto) {
    if (typeof counts === "number") throw new RangeError(`${op}: countInto needs a counts tensor, not one count`);
    checkTensor(op, "countInto", options.countInto, "u32", 1);
    checkNoAlias(op, "countInto", options.countInto, "counts", counts);
    checkNoAlias(op, "countInto", options.countInto, "idx", idx);
    const gpu = a.tensor.gpu, rows = options.rows ?? counts.size;
    if (rows > countedRowsLimit(gpu)) {
      throw new RangeError(`${op}: countInto sums at most ${countedRowsLimit(gpu)} rows a call; got ${rows}`);
    }
  }
  if (options.scatter && a.rows > maxQ) {
    throw new RangeError(`${op}: scatter needs A's size ≤ maxQ = ${maxQ} (λ_i lands at column q_i < ${a.rows})`);
  }
  if (typeof counts === "number" && (!Number.isInteger(counts) || counts < 0 || counts > maxQ)) {
    throw new RangeError(`${op}: count is ${counts}; expected an integer in [0, maxQ = ${maxQ}]`);
  }
  const cap = options.maxCount ?? (typeof counts === "number" ? Math.max(1, counts) : maxQ);
  const least = typeof counts === "number" ? counts : 1;
  if (!Number.isInteger(cap) || cap < least || cap > maxQ) {
    throw new RangeError(`${op}: maxCount is ${cap}; expected an integer in [${least}, maxQ = ${maxQ}]`);
  }
  const rows = options.rows ?? (typeof counts === "number" ? Math.floor(idx.size / maxQ) : counts.size);
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`${op}: rows is ${rows}; expected an integer >= 0`);
  checkTensor(op, "idx", idx, "u32", rows * maxQ);
  if (typeof counts !== "number") checkTensor(op, "counts", counts, "u32", rows);
  checkTensor(op, "rhs", rhs, "f32", rows * maxQ);
  checkTensor(op, "out", out, "f32", rows * maxQ);
  checkNoAlias(op, "out", out, "A", a);
  checkNoAlias(op, "out", out, "idx", idx);
  checkNoAlias(op, "out", out, "rhs", rhs);
  if (typeof counts !== "number") checkNoAlias(op, "out", out, "counts", counts);
  return { rows, cap };
}

/** Loop iterations of the skipped phase's loops in a dispatch (the backward solve's 5 loops, at most one test each). */
const SKIPPED_PHASES = 5;

/** One dispatch's share of a row's work (see shaders/gathered_solve.wgsl). */
export interface SolvePhase {
  /** factor the 4-column blocks kg0 ≤ kg < kg1 (and solve L·y = b for their rows of y) */
  kg0: number;
  kg1: number;
  /** solve Lᵀ·λ = y and write λ */
  backward: boolean;
}

/**
 * Splits the work of one row into dispatches of at most `budget` loop iterations each, packing
 * greedily. The counts are the kernel's loop iterations (a loop of t trips costs t + 1, see
 * thanos/gpu/loop_budget.ts) at the largest n = cap, Mq = ceil(cap/4) blocks: column block kg
 * 2 + (kg + 1) + (P + 1) + P·(kg + 1) + (kg + 1 or, with no odd tile left, 1) — its own update
 * (one trip per earlier 4-column block), then the P = floor((Mq − kg − 1)/2) pairs of tiles below
 * it and the odd one (a branch no lane takes still costs its loop's test); the loop probe measured
 * one iteration per block more than these loops (the 2; the forward solve rides in the update's
 * loop), backward Mq·(Mq − 1)/2 + 7·Mq + 1 + stride + 1 (the zero padding up to the row stride
 * maxQ, at most), and per dispatch 1 for
 * the block loop's exit plus {@link SKIPPED_PHASES} for the loops of the phases it skips (reached
 * under an all-off mask, they cost a test each). tests/loop_limit_test.ts measures the dispatches.
 */
export function plan(cap: number, budget = LOOP_BUDGET, stride = cap): SolvePhase[] {
  const mq = Math.ceil(cap / 4);
  const phases: SolvePhase[] = [];
  let cur: SolvePhase = { kg0: 0, kg1: 0, backward: false };
  const base = loopCost(0) + SKIPPED_PHASES;
  let used = base;
  const start = (kg: number) => {
    phases.push(cur);
    cur = { kg0: kg, kg1: kg, backward: false };
    used = base;
  };
  for (let kg = 0; kg < mq; kg++) {
    const below = mq - kg - 1, pairs = Math.floor(below / 2);
    const cost = 2 + loopCost(kg) + loopCost(pairs) + pairs * loopCost(kg) + (below % 2 ? loopCost(kg) : 1);
    if (used + cost > budget && cur.kg1 > cur.kg0) start(kg);
    cur.kg1 = kg + 1;
    used += cost;
  }
  const backward = (mq * (mq - 1)) / 2 + 7 * mq + 1 + loopCost(stride);
  if (used + backward > budget) start(mq);
  cur.backward = true;
  used += backward;
  phases.push(cur);
  return phases;
}

/** vec4 words of scratch per row: L (2·Mq·(Mq+1)) and y (Mq), Mq = ceil(cap/4). */
export function scratchWords(cap: number): number {
  const mq = Math.ceil(cap / 4);
  return 2 * mq * (mq + 1) + mq;
}
