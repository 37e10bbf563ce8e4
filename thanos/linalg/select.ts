/**
 * Exact selection masks: the k smallest scores of a whole view, the k smallest of every row, and
 * n:m (the n smallest of every group of m consecutive columns). These choose what a pruning method
 * removes: magnitude |W|, Wanda |W_ij|·‖X_j‖, SparseGPT w²/d².
 *
 * Every selection is exact in count and deterministic: scores are ordered by value, and equal
 * scores by position (the lower row-major index of the view — for per-row and n:m selections, the
 * lower column — is selected first), so the result equals a stable sort by (score, index).
 * Ordering details: −0 and +0 are equal (a tie, broken by index); NaN sorts after +Infinity (NaN
 * scores are selected last and tie with each other). Masks are u32 with 1 = selected (pruned),
 * 0 = kept; every element of the mask view is written (kSmallestMask: the columns below `writeCols`).
 *
 * Method: floats are mapped to order-preserving u32 keys, and the k-th smallest key is found by
 * radix select (four 8-bit histogram passes, most significant digit first); ties at the threshold
 * are then ranked by index with a prefix count. Views whose rows are whole vec4s (offset, leading
 * dimension and columns multiples of 4) are read four scores a load (the `_vec4` kernels: llvmpipe
 * loads storage lane by lane, so loads, not bytes, bound these passes); the result is the same. Nothing is read back to the CPU, so selections can
 * be chained with a GPU-resident k (see {@link kFromBudget} in mask.ts, or a {@link KBudget} that
 * select_init turns into k on the GPU). A {@link SelectBracket}
 * carries one selection's threshold to the next over similar scores: when the k-th smallest lies
 * near it, the radix select runs over the few scores there instead of all of them.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { fitsStorageBindings, grid1d, indirectArgs, launch } from "../gpu/launch.ts";
import { checkLoopBudget, LOOP_BUDGET, loopCost } from "../gpu/loop_budget.ts";
import { empty, type Tensor, zeros } from "../gpu/tensor.ts";
import { describe, type MatrixView, sub, wholeVec4s } from "./view.ts";
import { checkWandaArguments, wandaGrid, wandaScores, wandaVec4 } from "./mask.ts";
import { checkSameShape, checkTensor, checkView } from "./checks.ts";

/** Invocations per workgroup of the chunked global-select kernels. */
const WG = 256;
/** Fewest flat elements per invocation of the chunked global-select kernels. */
const MIN_ITEMS = 16;
/**
 * Most flat elements per invocation of the chunked global-select kernels (a multiple of 16):
 * select_mask walks its elements twice (tie count, then mask) around a workgroup scan, and
 * llvmpipe allows an invocation 65535 loop iterations (thanos/gpu/loop_budget.ts); past this, more
 * workgroups are launched instead. (On llvmpipe, with two workgroups a CPU, reached from ~15M
 * elements a CPU: Llama-2-7B's MLP scores on two cores.)
 */
const MAX_ITEMS = 16 * Math.floor((LOOP_BUDGET - loopCost(Math.log2(WG)) - 2 * loopCost(0)) / 32);
/** Workgroup size of the per-row select. */
const ROW_WG = 64;
/** u32 slots of the global select's state (layout in shaders/lib/select_state.wgsl). */
const STATE_SLOTS = 12;
/**
 * The bracket's first half-width, in order-key units: 2^19 keys are ±3.1–6.3% of a positive score
 * (2^23 keys span a factor of 2). Thanos's threshold moved 0.1–0.5% a block on the benchmark
 * layers, but 1.4–2.6% (240k–430k keys) from the first block to the second on tiny-llama's, where
 * 2^18 missed 18 of the 28 second blocks, just (the k-th key a few dozen ranks above the bracket).
 * Later widths follow the drift and the density the last selection saw.
 */
const BRACKET_WIDTH = 1 << 19;
/** A hit bracket is resized to hold about n / BRACKET_TARGET keys next time (each costs an atomic). */
const BRACKET_TARGET = 256;
/** Fewest keys a bracketed selection can collect (the capacity is otherwise n / 16). */
const MIN_CAPACITY = 1024;
/** 8-bit digits of a 32-bit key. */
const RADIX_PASSES = 4;

/**
 * The most workgroups a kernel with a workgroup histogram launches (the chunked global select
 * grows its chunks, the per-row select loops over rows, to stay within it). A GPU wants thousands.
 * A software adapter (llvmpipe) runs workgroups one after another on its threads (one a CPU), and
 * there every workgroup pays for the WGSL zero-initialisation of its workgroup memory, which
 * llvmpipe runs in every 8-lane fiber of the workgroup: measured ~23 µs a workgroup of 256 for a
 * 256-word histogram and ~135 µs for 1024 words, against ~5 ns a score read — a dispatch of 64
 * such workgroups cost 1.5 ms before it read anything. So on llvmpipe: two workgroups a CPU
 * (`navigator.hardwareConcurrency`), enough to keep every thread busy.
 * (Shared with mask.ts and finite.ts; not re-exported from mod.ts.)
 */
export function maxWorkgroups(gpu: Gpu): number {
  return gpu.info.isFallback ? 2 * Math.max(1, navigator.hardwareConcurrency || 1) : 4096;
}

/**
 * Workgroup size of the global select's single-workgroup steps (select_init, select_bracket_check,
 * select_digit, select_tie_scan): 256 on a GPU; 64 on a software adapter, where every 8-lane fiber
 * of a workgroup pays for zero-initialising its workgroup memory (see {@link maxWorkgroups}), so a
 * quarter of the fibers, each with a quarter of the scan's scratch, cost a fraction of a 256-wide
 * workgroup for the same few-hundred-bin work. (Internal; exported for tests.)
 */
export function singleWorkgroupSize(gpu: Gpu): number {
  return gpu.info.isFallback ? 64 : WG;
}

/**
 * Flat elements per invocation of the chunked global select (and of countMask): enough that at
 * most `maxGroups` workgroups of {@link WG} cover `n`, at least {@link MIN_ITEMS}, and at most
 * {@link MAX_ITEMS} (then more workgroups are launched), rounded up to a multiple of `multiple`
 * (4 for the vec4 kernels, whose invocations take whole vec4s; MAX_ITEMS is a multiple of 16).
 * Internal; exported for tests.
 */
export function chunkItems(n: number, maxGroups: number, multiple = 1): number {
  const items = Math.min(MAX_ITEMS, Math.max(MIN_ITEMS, Math.ceil(n / (WG * maxGroups))));
  return multiple * Math.ceil(items / multiple);
}

/**
 * Workgroups of the per-row select: one per row up to `maxGroups`, each then taking every
 * G-th row — but never more rows per workgroup than fit in one invocation's loop budget
 * (thanos/gpu/loop_budget.ts), so tall matrices get more workgroups. A row costs an invocation
 * ~6·ceil(cols / 64) + 104 loop iterations (four radix passes over its share of the row, the
 * tie-ranking pass, and the 256-bin histogram and scan loops of each pass).
 * @throws RangeError when a single row is too long for the budget (~640k columns)
 */
export function rowSelectWorkgroups(rows: number, cols: number, maxGroups: number): number {
  const n = Math.ceil(cols / ROW_WG), bins = 256 / ROW_WG, scan = loopCost(Math.log2(ROW_WG));
  const pass = loopCost(bins) + loopCost(n) + 2 * loopCost(bins) + scan; // clear, histogram, find the bin
  const perRow = 1 + RADIX_PASSES * pass + 1 + 2 * loopCost(n) + scan; //   + the ties' ranks and the mask
  checkLoopBudget("rowKSmallestMask", perRow, `rows of ${cols} columns`);
  const rowsPerGroup = Math.floor((LOOP_BUDGET - 1) / perRow);
  return Math.max(Math.min(rows, maxGroups), Math.ceil(rows / rowsPerGroup));
}

/**
 * What one exact k-smallest selection leaves for the next one over similar scores: its threshold
 * and a bracket width. A {@link kSmallestMask} given a bracket that has seen a selection first
 * walks the scores once, counting those below [T − w, T + w] (T the previous threshold) and
 * collecting those inside; when the k-th smallest lies inside, its four radix passes read only the
 * collected keys instead of every score, which is most of a selection's cost. The result is exactly
 * the same either way: a bracket that misses (or overflows) costs one walk, and the passes read
 * everything as without one. The width adapts on the GPU: after a hit it is scaled to hold about
 * n / 256 keys next time (every collected key costs an atomic) but at least twice the distance the
 * threshold moved; after a miss it is doubled, or halved when more than capacity / 2 keys fell in
 * (capacity = n / 16).
 *
 * Thanos's dynamic mask selects again every block over the remaining columns, and its threshold
 * moves by a fraction of a percent from block to block: it keeps one bracket for the layer.
 * Nothing is read back; the bracket is a small GPU buffer. Dispose it (`using`) when done.
 */
export class SelectBracket implements Disposable {
  /** u32 [12]: a copy of the last selection's state (shaders/lib/select_state.wgsl) */
  readonly state: Tensor<"u32">;
  #used = false;

  /**
   * @param gpu the GPU context
   * @param label label of the state buffer (shown in GPU errors)
   */
  constructor(gpu: Gpu, label = "selectBracket") {
    this.state = zeros(gpu, [STATE_SLOTS], "u32", label);
  }

  /** whether a selection has recorded its state here (the next one then brackets) */
  get used(): boolean {
    return this.#used;
  }

  /** @internal called by kSmallestMask after recording the copy of its state */
  markUsed(): void {
    this.#used = true;
  }

  /**
   * Places a bracket that has seen no selection yet from a sample, so that the first real
   * selection brackets too: selects the k-th smallest of `sample` exactly (a radix select over the
   * sample only; `mask`, of the sample's shape, is not written) and keeps its threshold, with the
   * first half-width (~±2–3% of the value; about ±3 standard errors of the quantile of a sample of
   * tens of thousands). Thanos's first block: every 16th row of its scores. When the sample's
   * quantile lies outside the bracket, the selection misses and runs its radix passes as without
   * a bracket (the width then doubles): the result is the same either way.
   * @param sample f32 view of sampled scores (e.g. rows strided over the scores: ld a multiple of theirs)
   * @param k the rank to estimate within the sample, in [1, sample size]
   * @param mask u32 view of the sample's shape (only bound, never written)
   * @throws Error when the bracket has seen a selection already
   */
  async seed(sample: MatrixView, k: number, mask: MatrixView): Promise<void> {
    if (this.#used) throw new Error("SelectBracket.seed: the bracket has seen a selection already");
    await kSmallestMask(sample, k, mask, { writeCols: 0, bracket: this });
  }

  [Symbol.dispose](): void {
    this.state.release();
  }
}

/**
 * A dynamic budget for {@link kSmallestMask}: k = max(0, target − spent[0]), read on the GPU when
 * the work runs (Thanos's layer-wide target less the weights pruned in earlier blocks).
 */
export interface KBudget {
  target: number;
  /** u32 [1] */
  spent: Tensor<"u32">;
}

/** Options of {@link kSmallestMask}. */
export interface KSmallestOptions {
  /**
   * write only the mask's columns j < writeCols (default: all); the selection is still over the
   * whole view, and the mask's other columns keep what they held. Thanos's block needs only its own
   * columns of the layer-wide choice, and where no ties must be ranked the rest are not even read.
   */
  writeCols?: number;
  /**
   * the previous selection over similar scores (see {@link SelectBracket}): the radix passes read
   * only the scores near its threshold when the k-th smallest lies there; the bracket is then
   * updated for the next call. Same result with or without.
   */
  bracket?: SelectBracket;
  /**
   * `scores` is to receive the Wanda scores of `weight` (a view of the same shape):
   * |w_ij|·sqrt(norms[colOffset + j]), as {@link wandaScores} writes them, and this call writes
   * them. With a bracket that has seen a selection (and rows of whole vec4s), the bracket's walk
   * computes them from the weights, and they are written only where the selection still reads
   * them: the mask's written columns — every score only when the bracket misses or ties must be
   * ranked. Thanos's dynamic mask: one pass over W[:, i1:] a block instead of one that writes the
   * scores and one that reads them. Same masks; scores outside the written columns (rounded up to
   * whole vec4s) may then be left as they were.
   */
  wanda?: { weight: MatrixView; norms: Tensor; colOffset: number };
}

/**
 * Marks exactly k elements of the whole view: the k smallest scores, ties broken by the lower
 * row-major index within the view (see the module notes for −0 and NaN).
 *
 * Runs entirely on the GPU (twelve small dispatches, fourteen with a bracket; no readback): radix
 * select of the k-th smallest key, then a prefix count among the elements equal to it. The radix
 * passes and the tie count are launched indirectly, with workgroup counts the GPU sets: the passes
 * do not run when a bracket found the threshold, nor the tie steps unless ties must be ranked.
 * Works on any view inside one tensor, up to the device's storage-binding limit; `scores` may be a
 * window with `ld > cols` (e.g. W[:, i1:]).
 *
 * @param scores f32 view of the scores
 * @param k how many to select: a number in [0, rows·cols], or a u32 tensor whose element 0 is read
 *   on the GPU when the work runs (so a caller can chain selections without a readback), or a
 *   {@link KBudget} (max(0, target − spent[0]), on the GPU); a GPU-resident k larger than rows·cols
 *   selects everything
 * @param mask u32 view of the same shape; receives 1 for the selected elements and 0 elsewhere
 *   (in its columns below `options.writeCols`)
 * @param options `writeCols`
 * @returns when the work is recorded (it runs at the next submission; read the mask to wait)
 * @throws RangeError when k is a number outside [0, rows·cols], writeCols outside [0, cols], the
 *   shapes differ, or a view does not fit in its tensor; TypeError on wrong element types
 * @example
 * ```ts
 * const gpu = await getGpu();
 * const s = upload(gpu, new Float32Array([3, 1, 2, 1]), [2, 2]);
 * const m = empty(gpu, [2, 2], "u32");
 * await kSmallestMask(mat(s), 2, mat(m));
 * console.log(await m.read()); // Uint32Array [0, 1, 0, 1]
 * ```
 */
export async function kSmallestMask(
  scores: MatrixView,
  k: number | Tensor<"u32"> | KBudget,
  mask: MatrixView,
  options: KSmallestOptions = {},
): Promise<void> {
  const op = "kSmallestMask";
  checkView(op, "scores", scores, "f32");
  checkView(op, "mask", mask, "u32");
  checkSameShape(op, "scores", scores, "mask", mask);
  const writeCols = options.writeCols ?? scores.cols;
  if (!Number.isInteger(writeCols) || writeCols < 0 || writeCols > scores.cols) {
    throw new RangeError(`${op}: writeCols = ${writeCols} is outside [0, ${scores.cols}] (the columns of the view)`);
  }
  const n = scores.rows * scores.cols;
  if (typeof k === "number") {
    if (!Number.isInteger(k) || k < 0 || k > n) {
      throw new RangeError(`${op}: k = ${k} is outside [0, ${n}] for scores ${describe(scores)}`);
    }
  } else if ("spent" in k) {
    if (!Number.isInteger(k.target) || k.target < 0 || k.target > 0xffffffff) {
      throw new RangeError(`${op}: budget target = ${k.target}; expected an integer in [0, ${0xffffffff}]`);
    }
    checkTensor(op, "budget.spent", k.spent, "u32", 1);
  } else {
    checkTensor(op, "k", k, "u32", 1);
  }
  if (n === 0) return;

  const gpu = scores.tensor.gpu;
  // four keys a load where the view's rows are whole vec4s (the chunks then hold multiples of 4)
  const vec4 = wholeVec4s(scores);
  const items = chunkItems(n, maxWorkgroups(gpu), vec4 ? 4 : 1);
  const chunks = Math.ceil(n / (WG * items));
  const grid = grid1d(gpu, chunks * WG, WG);
  const constants = { WG };
  const oneGroup = singleWorkgroupSize(gpu);
  const view = { n, cols: scores.cols, offset: scores.offset, ld: scores.ld, items };
  const histogramKernel = vec4 ? "select_histogram_vec4" : "select_histogram";
  const tieCountKernel = vec4 ? "select_tie_count_vec4" : "select_tie_count";
  const maskKernel = vec4 && wholeVec4s(mask) && writeCols % 4 === 0 ? "select_mask_vec4" : "select_mask";

  const bracket = options.bracket;
  if (bracket) checkTensor(op, "bracket.state", bracket.state, "u32", STATE_SLOTS);
  const wanda = options.wanda;
  if (wanda) checkWandaArguments(op, wanda.weight, wanda.norms, wanda.colOffset, scores);
  // Wanda scores on demand: the bracket's walk reads the weights, the scores are written after it
  const onDemand = wanda !== undefined && bracket?.used === true && vec4 &&
    wandaVec4(wanda.weight, scores, wanda.norms, wanda.colOffset);
  if (wanda && !onDemand) await wandaScores(wanda.weight, wanda.norms, wanda.colOffset, scores);
  const state = empty(gpu, [STATE_SLOTS], "u32", `${op}.state`);
  const hist = empty(gpu, [RADIX_PASSES * 256], "u32", `${op}.hist`);
  const counts = empty(gpu, [chunks], "u32", `${op}.counts`);
  // workgroup counts of the radix passes and of the tie steps, set on the GPU (lib/select_state.wgsl)
  const radixArgs = indirectArgs(gpu, 6, `${op}.radixArgs`);
  const tieArgs = indirectArgs(gpu, 6, `${op}.tieArgs`);
  const scoreArgs = indirectArgs(gpu, 3, `${op}.scoreArgs`);
  const [gridX, gridY] = grid;
  try {
    const budget = typeof k === "number" || !("spent" in k) ? null : k;
    const kTensor = typeof k === "number" ? null : budget ? budget.spent : k as Tensor<"u32">;
    if (kTensor) gpu.recorder.copy(kTensor.buffer, 0, state.buffer, 0, 4); // → state[K_IN]
    await launch(gpu, "select_init", { state, hist, radix_args: radixArgs, tie_args: tieArgs }, {
      grid: [1],
      params: {
        n,
        k: typeof k === "number" ? k : budget ? budget.target : 0,
        k_from_state: kTensor === null ? 0 : budget ? 2 : 1,
        width: BRACKET_WIDTH,
        grid_x: gridX,
        grid_y: gridY,
      },
      constants: { WG: oneGroup },
    });
    // a bracket that has seen a selection: collect the keys near its threshold, select there if it can
    let walkStores = false;
    if (bracket?.used) {
      const capacity = Math.max(MIN_CAPACITY, Math.ceil(n / 16));
      using cands = empty(gpu, [capacity], "u32", `${op}.candidates`); // released once recorded, as below
      if (onDemand) {
        const w = wanda.weight;
        // the walk stores the mask's columns' scores, unless binding the scores too would take more
        // storage bindings than the device has (weights and scores both past the binding limit)
        const sizes = [w.tensor, scores.tensor, wanda.norms, bracket.state, state, cands].map((t) => t.buffer.size);
        walkStores = fitsStorageBindings(gpu, sizes);
        using none = walkStores ? null : empty(gpu, [4], "f32", `${op}.noScores`); // bound, not written
        await launch(gpu, "select_bracket_wanda_vec4", {
          w: w.tensor,
          scores: walkStores ? scores.tensor : none!,
          norms: wanda.norms,
          bracket: bracket.state,
          state,
          cands,
        }, {
          grid,
          params: {
            ...view,
            offset: w.offset,
            ld: w.ld,
            capacity,
            col_offset: wanda.colOffset,
            s_offset: walkStores ? scores.offset : 0,
            s_ld: walkStores ? scores.ld : 0,
            write_cols: walkStores ? writeCols : 0, //           the mask's columns: select_mask reads their scores
          },
          constants,
        });
      } else {
        const bracketKernel = vec4 ? "select_bracket_vec4" : "select_bracket";
        await launch(gpu, bracketKernel, { scores: scores.tensor, bracket: bracket.state, state, cands }, {
          grid,
          params: { ...view, capacity },
          constants,
        });
      }
      const [scoreX, scoreY] = onDemand ? wandaGrid(wanda.weight, true) : [0, 1];
      await launch(gpu, "select_bracket_check", {
        bracket: bracket.state,
        state,
        cands,
        radix_args: radixArgs,
        tie_args: tieArgs,
        score_args: scoreArgs,
      }, {
        grid: [1],
        params: {
          capacity,
          aim: Math.max(MIN_CAPACITY / 4, Math.ceil(n / BRACKET_TARGET)),
          grid_x: gridX,
          grid_y: gridY,
          score_x: scoreX,
          score_y: scoreY,
        },
        constants: { WG: oneGroup },
      });
      if (onDemand && writeCols < scores.cols) {
        // every score when the passes or the tie ranks need them (the check says so); the walk wrote
        // the mask's columns
        await wandaScores(wanda.weight, wanda.norms, wanda.colOffset, scores, { indirect: scoreArgs });
      }
      if (onDemand && !walkStores && writeCols > 0) {
        const w = wanda.weight;
        const cols = (v: MatrixView) => sub(v, 0, 0, v.rows, writeCols);
        await wandaScores(cols(w), wanda.norms, wanda.colOffset, cols(scores));
      }
    }
    for (let pass = 0; pass < RADIX_PASSES; pass++) {
      const shift = 24 - 8 * pass;
      await launch(gpu, histogramKernel, { scores: scores.tensor, state, hist }, {
        grid,
        params: { ...view, radix_pass: pass, shift },
        constants,
        indirect: { buffer: radixArgs, offset: 0 },
      });
      await launch(gpu, "select_digit", { hist, state, tie_args: tieArgs }, {
        grid: [1],
        params: { radix_pass: pass, shift, last: pass === RADIX_PASSES - 1 ? 1 : 0, grid_x: gridX, grid_y: gridY },
        indirect: { buffer: radixArgs, offset: 12 },
        constants: { WG: oneGroup },
      });
    }
    await launch(gpu, tieCountKernel, { scores: scores.tensor, state, counts }, {
      grid,
      params: { ...view, chunks },
      constants,
      indirect: { buffer: tieArgs, offset: 0 },
    });
    await launch(gpu, "select_tie_scan", { state, counts }, {
      grid: [1],
      params: { chunks },
      indirect: { buffer: tieArgs, offset: 12 },
      constants: { WG: oneGroup },
    });
    if (writeCols > 0) {
      await launch(gpu, maskKernel, { scores: scores.tensor, state, counts, mask: mask.tensor }, {
        grid,
        params: { ...view, chunks, mask_offset: mask.offset, mask_ld: mask.ld, write_cols: writeCols },
        constants,
      });
    }
    if (bracket) {
      gpu.recorder.copy(state.buffer, 0, bracket.state.buffer, 0, 4 * STATE_SLOTS);
      bracket.markUsed();
    }
  } finally {
    // safe before the work runs: the pool hands these out again only to later-recorded work
    state.release();
    hist.release();
    counts.release();
    gpu.pool.release(radixArgs);
    gpu.pool.release(tieArgs);
    gpu.pool.release(scoreArgs);
  }
}

/**
 * Marks, in every row, exactly k elements: the k smallest scores of the row, ties broken by the
 * lower column index (see the module notes for −0 and NaN). Wanda's unstructured rule uses
 * k = floor(cols · sparsity).
 *
 * One dispatch: each workgroup does radix selects in workgroup memory, one row at a time (tall
 * matrices get more workgroups, so that none runs past the loop budget: {@link rowSelectWorkgroups}).
 *
 * @param scores f32 view of the scores
 * @param k how many to select per row, an integer in [0, cols]
 * @param mask u32 view of the same shape; receives 1 for the selected elements and 0 elsewhere
 * @returns when the work is recorded
 * @throws RangeError when k is outside [0, cols], the shapes differ, a view does not fit in its
 *   tensor, or rows are too long for one invocation's loop budget (~640k columns); TypeError on
 *   wrong element types
 * @example
 * ```ts
 * const s = upload(gpu, new Float32Array([3, 1, 2, 5, 5, 4]), [2, 3]);
 * const m = empty(gpu, [2, 3], "u32");
 * await rowKSmallestMask(mat(s), 1, mat(m));
 * console.log(await m.read()); // Uint32Array [0, 1, 0, 0, 0, 1]
 * ```
 */
export async function rowKSmallestMask(scores: MatrixView, k: number, mask: MatrixView): Promise<void> {
  const op = "rowKSmallestMask";
  checkView(op, "scores", scores, "f32");
  checkView(op, "mask", mask, "u32");
  checkSameShape(op, "scores", scores, "mask", mask);
  if (!Number.isInteger(k) || k < 0 || k > scores.cols) {
    throw new RangeError(
      `${op}: k = ${k} is outside [0, ${scores.cols}] (the row length of scores ${describe(scores)})`,
    );
  }
  if (scores.rows === 0 || scores.cols === 0) return;
  const gpu = scores.tensor.gpu;
  await launch(gpu, "row_select", { scores: scores.tensor, mask: mask.tensor }, {
    grid: grid1d(gpu, rowSelectWorkgroups(scores.rows, scores.cols, maxWorkgroups(gpu)), 1),
    params: {
      rows: scores.rows,
      cols: scores.cols,
      k,
      offset: scores.offset,
      ld: scores.ld,
      mask_offset: mask.offset,
      mask_ld: mask.ld,
    },
    constants: { WG: ROW_WG },
  });
}

/**
 * n:m selection: in every row, in every group of m consecutive columns (groups start at the view's
 * column 0), marks the n smallest scores, ties broken by the lower column index (see the module
 * notes for −0 and NaN). 2:4 sparsity is `nmMask(scores, 2, 4, mask)`.
 *
 * One invocation per element ranks it within its group (O(m) per element; meant for small m).
 *
 * @param scores f32 view of the scores
 * @param n how many to select per group, an integer in [0, m)
 * @param m group length, a positive integer dividing scores.cols
 * @param mask u32 view of the same shape; receives 1 for the selected elements and 0 elsewhere
 * @returns when the work is recorded
 * @throws RangeError when m does not divide the columns, n is outside [0, m), m is too large for one
 *   invocation's loop budget (> 59999), the shapes differ, or a view does not fit in its tensor;
 *   TypeError on wrong element types
 * @example
 * ```ts
 * const s = upload(gpu, new Float32Array([4, 3, 2, 1, 1, 2, 3, 4]), [1, 8]);
 * const m = empty(gpu, [1, 8], "u32");
 * await nmMask(mat(s), 2, 4, mat(m));
 * console.log(await m.read()); // Uint32Array [0, 0, 1, 1, 1, 1, 0, 0]
 * ```
 */
export async function nmMask(scores: MatrixView, n: number, m: number, mask: MatrixView): Promise<void> {
  const op = "nmMask";
  checkView(op, "scores", scores, "f32");
  checkView(op, "mask", mask, "u32");
  checkSameShape(op, "scores", scores, "mask", mask);
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`${op}: m = ${m}; expected a positive integer`);
  if (!Number.isInteger(n) || n < 0 || n >= m) {
    throw new RangeError(`${op}: n = ${n} with m = ${m}; expected an integer n with 0 <= n < m`);
  }
  if (scores.cols % m !== 0) {
    throw new RangeError(`${op}: cols = ${scores.cols} is not a multiple of m = ${m} (scores ${describe(scores)})`);
  }
  checkLoopBudget(op, loopCost(m), `groups of m = ${m}`); // each element ranks itself in its group
  const count = scores.rows * scores.cols;
  if (count === 0) return;
  const gpu = scores.tensor.gpu;
  await launch(gpu, "nm_mask", { scores: scores.tensor, mask: mask.tensor }, {
    grid: grid1d(gpu, count, WG),
    params: {
      count,
      cols: scores.cols,
      n,
      m,
      offset: scores.offset,
      ld: scores.ld,
      mask_offset: mask.offset,
      mask_ld: mask.ld,
    },
    constants: { WG },
  });
}
