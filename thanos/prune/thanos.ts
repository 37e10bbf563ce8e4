/**
 * Thanos (Ilin & Richtárik 2025, arXiv 2504.05346): block-wise pruning that removes many weights per
 * row at once and compensates the rest by solving one small linear system per row.
 *
 * With H the damped Hessian and, before block [i1, i2), Hinv = (H[i1:, i1:])⁻¹ (local indices):
 *
 *   mask   unstructured: Wanda scores |W_ij|·‖X_j‖ over ALL remaining columns i1…; the globally
 *          smallest (target − zeros so far) are selected and only those inside the block pruned now
 *          (the dynamic mask: the layer-wide budget moves between blocks as W changes);
 *          n:m: per row, per group of m inside the block, the n lowest Wanda scores; the
 *          floor(alpha·rows) outlier rows (largest Σ_j W_ij²‖X_j‖²) stay dense;
 *   solve  for each row r with removal set q_r:  Hinv[q_r, q_r]·λ_r = W[r, q_r]ᵀ
 *   update W[r, i1:] −= λ_rᵀ·Hinv[q_r, i1:]   — done for all rows as one matmul Λ·Hinv[0:B, :], where
 *          Λ [rows, B] holds λ_r at the columns q_r and zeros elsewhere; then W[r, q_r] = 0 exactly
 *   Hinv   never formed whole: with UᵀU = H⁻¹ (U upper triangular, SparseGPT's factor), every
 *          trailing inverse is (H[i1:, i1:])⁻¹ = U[i1:, i1:]ᵀ·U[i1:, i1:], and the block needs only
 *          its rows 0..B: Hinv[0:B, :] = U[i1:i2, i1:i2]ᵀ·U[i1:i2, i1:] (a B x B x m product).
 *
 * Structured: the ceil(s·cols/(1−alpha)) columns P with the lowest ‖X_j‖²·Σ_{non-outlier r} W_rj² are
 * removed from every non-outlier row in one solve: W −= W[:, P]·Hinv[P, P]⁻¹·Hinv[P, :].
 *
 * Differences from the official code (INTENT): it re-inverts H[i2:, i2:] after every block (here:
 * the same matrix's rows from one Cholesky factor of H⁻¹, as above — 2n³/3 flops for the whole
 * layer); its n:m/structured paths keep num_outliers + 1 rows dense (here exactly floor(alpha·rows));
 * its outlier/column metrics use a squared-input sum reset every batch (here the accumulated
 * ‖X_j‖²); ties in its top-k are unordered (here broken by position).
 *
 * Where the time goes (issue 16: Thanos ≤ SparseGPT per layer): each kernel of the first block of a
 * 768 x 768 layer (B = 128, m = 768 remaining columns), timed alone in process CPU seconds — the
 * machine's 2 cores were shared by ~18 other jobs, so wall times were ~7x these — against
 * SparseGPT's same block:
 *
 *   Thanos    per-row solves 200 ms (160 after the kernel change in linalg/solve.ts), update matmul
 *             [768 x 128]·[128 x 768] 115, exact k-smallest over all of W[:, i1:] (12 dispatches)
 *             ~100, Wanda scores 16, Hinv rows 15, removal sets / scatter / mask / count 3–5 each;
 *   SparseGPT sweep 115, update [768 x 128]·[128 x 640] 100, k-smallest over the block 26.
 *
 * So two costs that SparseGPT has no counterpart of decide it, both in the algorithm: the per-row
 * Cholesky of Hinv[q_r, q_r] (~q³/3 flops per row: 5x the sweep's multiply-adds at q = B/2; its
 * kernel reaches ~1/3 of matmul's rate, and llvmpipe runs it one row per SIMD lane), and the
 * dynamic mask's selection over every remaining column (the official code's topk over W[:, i1:]),
 * ~4x SparseGPT's selection within the block. Both are exact as they are: the same masks need the
 * same global k-smallest, and the per-row systems have no shared factor (each row's set differs).
 *
 * Since then (`deno task bench:layer --shapes 768x768 --profile`, process CPU seconds of the whole
 * layer, a quiet machine): the selection reads vec4s and writes only the block's columns of the
 * mask, and the solves run rows by decreasing count (linalg/solve.ts). Thanos unstructured 0.79 s
 * against SparseGPT's 0.51: per-row solves 0.153 against the sweep's 0.157 — no longer the gap —
 * radix histograms over W[:, i1:] 0.124 against 0.051 (the first pass's workgroup atomics 5.5 ns an
 * element, each later read-only pass 2.6 ns), Wanda scores, removal sets, masks, counts and scatter
 * ~0.08, the block's Hinv rows product 0.03. Closing it needs a selection that reads fewer of the
 * remaining scores (e.g. counting against the previous block's threshold digit and compacting the
 * candidates, the full radix select as the fallback).
 *
 * That is what the selection does now (linalg/select.ts `SelectBracket`): the threshold moves
 * 0.1–0.5% from block to block, so one walk counts the scores below [T − w, T + w] around the last
 * block's T and collects those inside (~n/256 of them once w has adapted), one workgroup selects the
 * k-th among them, and the four radix passes are not launched (indirect dispatch); the walk computes
 * the Wanda scores from the weights itself and writes them only where they are still read (the
 * block's columns, unless the bracket misses or ties must be ranked); and kernels with workgroup histograms launch two
 * workgroups a CPU on llvmpipe (zero-initialising workgroup memory costs every workgroup ~23 µs
 * there). At 768² the selection's kernels now cost Thanos what SparseGPT's cost it (~0.1 s of CPU in
 * `--profile`, whose per-launch cost dominates both). What is left is Thanos's own work — Wanda
 * scores and the bracket walk over every remaining column, removal sets, scatter, counts, masks, the
 * Hinv rows product — and ~50 more dispatches a 768² layer (~0.3 ms each on llvmpipe whatever they
 * do): Thanos / SparseGPT 1.00–1.30 depending on the host's moment (README).
 *
 * Then (each phase timed by submitting around it, since llvmpipe runs a submission inside
 * `queue.submit`; 768², min of 5): the solves write Λ directly (no scatter pass), the budget is
 * computed by select_init and counted by the solves' ordering kernel (no k_from_budget, no
 * count_mask), the walk stores the block's scores, removal sets store a vec4 pair per four
 * columns, n:m selects and gathers in one pass, and the forward solve rides in the factorization:
 * 43 dispatches a 768² layer more than SparseGPT (was 67). Per layer, Thanos against SparseGPT:
 * solves 72 ms against the sweep's 75, selection 20 against 20, and Thanos's own Hinv rows ~2.4,
 * removal sets ~1.5, wider update +3.5, final zeroing 1.3 against SparseGPT's scores 3.8 —
 * Thanos / SparseGPT 0.93–1.12 at 768² by the host's moment, 1.00–1.03 at 768x3072, where the
 * walk over every remaining weight is the largest of Thanos's own costs (README, Performance).
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { empty, type Tensor, zeros } from "../gpu/tensor.ts";
import { spdInverse, upperCholeskyOfInverse } from "../linalg/cholesky.ts";
import { FactorStatus } from "../linalg/status.ts";
import { scale } from "../linalg/elementwise.ts";
import { matmul } from "../linalg/matmul.ts";
import { applyMask, colSumsWeighted, countMask, kFromBudget, rowSumsWeighted, wandaScores } from "../linalg/mask.ts";
import { type KBudget, kSmallestMask, nmMask, SelectBracket } from "../linalg/select.ts";
import { countedRowsLimit, gatheredSolve } from "../linalg/solve.ts";
import { mat, type MatrixView, sub } from "../linalg/view.ts";
import { dampedHessian } from "./hessian.ts";
import { layerShape, type LayerWeight, type MethodObserver, type PruneMethod, scratch, workingCopy } from "./method.ts";
import {
  broadcastRow,
  compactFlags,
  gather2d,
  nmRemovalSets,
  nmRemovalSetsFit,
  type RemovalSets,
  removalSets,
  zeroRows,
} from "./ops.ts";
import type { PruneOptions } from "./options.ts";
import type { LayerStats } from "./stats.ts";

export const thanos: PruneMethod = async (layer, stats, options, observer) => {
  const [rows, cols] = layerShape(layer);
  const gpu = layer.weight.gpu;
  const weight = await workingCopy(layer);
  const mask = zeros(gpu, [rows, cols], "u32", `${layer.name}.mask`);
  using h = await dampedHessian(stats, weight, options.percdamp, layer.name);
  if (options.pattern.kind === "structured") {
    await structured(layer.name, mat(weight), mat(mask), h, stats, options);
  } else {
    await blockwise(layer, mat(weight), mat(mask), h, stats, options, observer);
  }
  return { weight, mask };
};

/** Unstructured and n:m Thanos: the block loop. */
async function blockwise(
  layer: LayerWeight,
  W: MatrixView,
  M: MatrixView,
  h: Tensor,
  stats: LayerStats,
  options: PruneOptions,
  observer?: MethodObserver,
): Promise<void> {
  const { rows, cols } = W;
  const gpu = W.tensor.gpu;
  const label = layer.name;
  const B = Math.min(options.blocksize, cols);
  const rowBatch = Math.min(options.rowBatch, rows);
  const norms = stats.colSqNorms;
  const nm = options.pattern.kind === "nm" ? options.pattern : null;

  // non-positive pivots are recorded on the GPU and checked once, after the layer (no readback per block)
  using status = new FactorStatus(gpu, `${label}.factorStatus`);
  using u = await upperCholeskyOfInverse(mat(h), { status }); //       UᵀU = (H + λI)⁻¹, U upper [cols, cols]
  const U = mat(u);
  // working buffers that every block writes before it reads them are not cleared (a clear costs
  // llvmpipe ~0.3 ms a MB: ~4 ms a 3072 x 768 layer); the mask and the count start at zero
  using hinvRows = empty(gpu, [B * cols], "f32", `${label}.HinvRows`); // (H[i1:, i1:])⁻¹[0:B, :] per block
  using outliers = nm ? await outlierRows(gpu, W, norms, options.alpha, label) : null;
  using setsOwner = new DisposableStack();
  const sets: RemovalSets = {
    idx: setsOwner.use(empty(gpu, [rowBatch * B], "u32", `${label}.removalIdx`)),
    counts: setsOwner.use(empty(gpu, [rowBatch], "u32", `${label}.removalCounts`)),
    rhs: setsOwner.use(empty(gpu, [rowBatch * B], "f32", `${label}.removalRhs`)),
  };
  // n:m in one pass a block (mask and removal sets from the weights) where the sets hold every row
  const fusedNm = nm !== null && rowBatch >= rows && nmRemovalSetsFit(W, norms, nm, M, sets);
  using scores = empty(gpu, [fusedNm ? 1 : nm ? rows * B : rows * cols], "f32", `${label}.scores`);
  using zerosSoFar = zeros(gpu, [1], "u32", `${label}.zerosSoFar`); // added to by the solves (countInto)
  using k = observer?.onBlock && !nm ? zeros(gpu, [1], "u32", `${label}.k`) : null; // shown to the observer
  using bracket = new SelectBracket(gpu, `${label}.selectBracket`); // the last block's threshold
  using Lambda = empty(gpu, [rowBatch * B], "f32", `${label}.Lambda`); // λ_r at its columns q_r
  const target = Math.floor(options.sparsity * rows * cols);
  // unstructured: the solves' ordering kernel counts the block's removal sets — its pruned weights
  const counted = !nm && rowBatch <= countedRowsLimit(gpu);

  for (let i1 = 0; i1 < cols; i1 += B) {
    const i2 = Math.min(i1 + B, cols), count = i2 - i1, m = cols - i1;
    const maxCount = nm ? Math.min(count, Math.ceil(count / nm.m) * nm.n) : count;
    // the block's rows of (H[i1:, i1:])⁻¹ = U[i1:, i1:]ᵀ·U[i1:, i1:] (U upper triangular): only
    // U's rows i1..i2 reach them, so Hinv[0:B, :] = U[i1:i2, i1:i2]ᵀ·U[i1:i2, i1:]
    const Hinv = scratch(hinvRows, count, m); //                  [B, m], local indices
    await matmul(sub(U, i1, i1, count, count), sub(U, i1, i1, count, m), Hinv, { transA: true });
    const Wtail = sub(W, 0, i1, rows, m); //                     W[:, i1:]
    const Wblock = sub(W, 0, i1, rows, count); //                W[:, i1:i2]
    const Mblock = sub(M, 0, i1, rows, count); //                mask[:, i1:i2]

    if (fusedNm) await nmRemovalSets(Wblock, norms, i1, nm, outliers, Mblock, sets);
    else if (nm) await selectNm(Wblock, Mblock, norms, i1, nm, outliers, scratch(scores, rows, count));
    else {
      const budget = { target, spent: zerosSoFar };
      await selectDynamic(W, M, norms, i1, i2, budget, bracket, scratch(scores, rows, m), observer?.tentativeMasks);
    }

    if (k) await kFromBudget(target, zerosSoFar, k); //           the budget this block's selection had
    const step = { method: "thanos", i1, i2, weight: W, mask: M, hinv: Hinv, budget: k ?? undefined } as const;
    await observer?.onBlock?.({ ...step, phase: "selected" });

    // per-row solves Hinv[q_r, q_r]·λ_r = W[r, q_r]ᵀ, then W[:, i1:] −= Λ·Hinv[0:B, :]
    let lastR0 = 0, nr = 0; //                                   the last row batch, for the observer
    for (let r0 = 0; r0 < rows; r0 += rowBatch) {
      lastR0 = r0;
      nr = Math.min(rowBatch, rows - r0);
      if (!fusedNm) await removalSets(sub(Mblock, r0, 0, nr, count), sub(Wblock, r0, 0, nr, count), sets);
      await gatheredSolve(sub(Hinv, 0, 0, count, count), sets.idx, sets.counts, sets.rhs, Lambda, count, {
        rows: nr,
        maxCount, //                                             n:m: n of every m, the factors' size
        orderRows: !nm, //                                       n:m: every row's count is the same
        scatter: true, //                                        Λ [nr, count]: λ_r at the columns q_r
        countInto: counted ? zerosSoFar : undefined, //          the block's pruned weights, counted
        status,
      });
      if (!nm && !counted) await countMask(sub(Mblock, r0, 0, nr, count), zerosSoFar, { accumulate: true });
      await matmul(scratch(Lambda, nr, count), sub(Hinv, 0, 0, count, m), sub(Wtail, r0, 0, nr, m), {
        alpha: -1,
        accumulate: true,
      });
    }
    if (observer?.onBlock) {
      await applyMask(Wblock, Mblock); //                        W[r, q_r] = 0 exactly, for the observer now
      const removal = { r0: lastR0, rows: nr, ...sets, lambda: Lambda };
      await observer.onBlock({ ...step, phase: "compensated", removal });
    }
  }
  // W[r, q_r] = 0 exactly: once for the layer (no later block reads a finished block's columns, so
  // the same bits as block by block, with one dispatch instead of one a block)
  if (!observer?.onBlock) await applyMask(W, M);
  await status.check();
}

/** n:m: n of every m in each row of the block W[:, i1:i2], by Wanda score; outlier rows stay dense. */
async function selectNm(
  Wblock: MatrixView,
  Mblock: MatrixView,
  norms: Tensor,
  i1: number,
  nm: { n: number; m: number },
  outliers: Tensor<"u32"> | null,
  scores: MatrixView,
): Promise<void> {
  await wandaScores(Wblock, norms, i1, scores);
  await nmMask(scores, nm.n, nm.m, Mblock);
  if (outliers) await zeroRows(Mblock, outliers);
}

/**
 * Unstructured, the dynamic global mask: the (target − zeros so far) smallest Wanda scores of
 * W[:, i1:], of which only the block's part mask[:, i1:i2] is written (all of mask[:, i1:] with
 * `tentative`, for an observer that shows the layer-wide choice; later blocks select again). The
 * block's zeros are added to `budget.spent` after it, by the solves (their removal sets are them).
 */
async function selectDynamic(
  W: MatrixView,
  M: MatrixView,
  norms: Tensor,
  i1: number,
  i2: number,
  budget: KBudget,
  bracket: SelectBracket,
  scores: MatrixView,
  tentative = false,
): Promise<void> {
  const { rows, cols } = W;
  if (!bracket.used) await seedBracket(W, M, norms, i1, budget.target, bracket, scores);
  await kSmallestMask(scores, budget, sub(M, 0, i1, rows, cols - i1), {
    writeCols: tentative ? cols - i1 : i2 - i1,
    bracket, //                                                  the threshold moves little from block to block
    wanda: { weight: sub(W, 0, i1, rows, cols - i1), norms, colOffset: i1 }, // scores written where still read
  });
}

/** Rows of the first block's scores in the sample that seeds the dynamic mask's bracket: every SEED_EVERY-th. */
const SEED_EVERY = 16;
/**
 * Fewest sampled scores for a seed (below, the first selection reads every score instead): the
 * sample's quantile then lies within ~±0.3% of the whole's in rank (one standard error), well
 * inside the first bracket's ~±1%; with 11k samples (tiny-llama's 256x688 layers) it missed.
 */
const SEED_MIN = 32768;

/**
 * The first block's selection would read every score four times (no threshold to bracket yet):
 * instead, the Wanda scores of every SEED_EVERY-th row are written and their quantile at the
 * budget's rank is selected first (SelectBracket.seed), so that the first block brackets as the
 * later ones do. The first block's k is the whole target (nothing pruned yet). Same masks.
 */
async function seedBracket(
  W: MatrixView,
  M: MatrixView,
  norms: Tensor,
  i1: number,
  target: number,
  bracket: SelectBracket,
  scores: MatrixView,
): Promise<void> {
  const sampleRows = Math.ceil(W.rows / SEED_EVERY), m = W.cols - i1;
  if (sampleRows * m < SEED_MIN || target === 0) return;
  const strided = (v: MatrixView): MatrixView => ({ ...v, rows: sampleRows, ld: v.ld * SEED_EVERY });
  const sample = strided(scores);
  await wandaScores(strided(sub(W, 0, i1, W.rows, m)), norms, i1, sample);
  const k = Math.min(sampleRows * m, Math.max(1, Math.round(target * sampleRows / W.rows)));
  await bracket.seed(sample, k, strided(sub(M, 0, i1, M.rows, m)));
}

/**
 * The floor(alpha·rows) rows with the largest Σ_j W_ij²·‖X_j‖² (u32 flags [rows]), or null when
 * alpha·rows < 1.
 */
async function outlierRows(
  gpu: Gpu,
  W: MatrixView,
  colSqNorms: Tensor,
  alpha: number,
  label: string,
): Promise<Tensor<"u32"> | null> {
  const count = Math.floor(alpha * W.rows);
  if (count === 0) return null;
  using metric = zeros(gpu, [W.rows], "f32", `${label}.rowMetric`);
  await rowSumsWeighted(W, colSqNorms, metric);
  await scale(metric, -1); //                                      largest metric = smallest −metric
  const flags = zeros(gpu, [W.rows], "u32", `${label}.outlierRows`);
  await kSmallestMask(mat(metric), count, mat(flags));
  return flags;
}

/** Structured Thanos: remove whole columns from every non-outlier row in one solve. */
async function structured(
  label: string,
  W: MatrixView,
  M: MatrixView,
  h: Tensor,
  stats: LayerStats,
  options: PruneOptions,
): Promise<void> {
  const { rows, cols } = W;
  const gpu = W.tensor.gpu;
  const b = Math.ceil(options.sparsity * cols / (1 - options.alpha)); //  columns to remove
  if (b === 0) return;
  using outliers = await outlierRows(gpu, W, stats.colSqNorms, options.alpha, label);

  // P = the b columns of lowest ‖X_j‖²·Σ_{non-outlier r} W_rj²
  using colMetric = zeros(gpu, [cols], "f32", `${label}.colMetric`);
  await colSumsWeighted(W, stats.colSqNorms, outliers, colMetric);
  using colFlags = zeros(gpu, [cols], "u32", `${label}.prunedCols`);
  await kSmallestMask(mat(colMetric), b, mat(colFlags));
  using P = zeros(gpu, [cols], "u32", `${label}.prunedColIdx`);
  using pCount = zeros(gpu, [1], "u32", `${label}.prunedColCount`);
  await compactFlags(colFlags, P, pCount);

  // W −= W[:, P]·Hinv[P, P]⁻¹·Hinv[P, :]   on the non-outlier rows
  using status = new FactorStatus(gpu, `${label}.factorStatus`);
  using hinv = await spdInverse(mat(h), { status }); //                     [cols, cols]
  using hinvPP = zeros(gpu, [b, b], "f32", `${label}.HinvPP`);
  await gather2d(mat(hinv), P, P, mat(hinvPP));
  using hinvPPinv = await spdInverse(mat(hinvPP), { status }); //           [b, b]
  using hinvP = zeros(gpu, [b, cols], "f32", `${label}.HinvP`);
  await gather2d(mat(hinv), P, null, mat(hinvP)); //                        Hinv[P, :]
  using wP = zeros(gpu, [rows, b], "f32", `${label}.WP`);
  await gather2d(W, null, P, mat(wP)); //                                   W[:, P]
  if (outliers) await zeroRows(mat(wP), outliers); //                       outlier rows: no change
  using lambdaT = zeros(gpu, [rows, b], "f32", `${label}.LambdaT`);
  await matmul(mat(wP), mat(hinvPPinv), mat(lambdaT)); //                   Λᵀ = W[:, P]·Hinv[P, P]⁻¹
  await matmul(mat(lambdaT), mat(hinvP), W, { alpha: -1, accumulate: true });

  // mask = P for every non-outlier row; exact zeros there
  await broadcastRow(colFlags, M);
  if (outliers) await zeroRows(M, outliers);
  await applyMask(W, M);
  await status.check();
}
