/**
 * Watching a block-wise method (SparseGPT, Thanos) work, block by block, for notebooks and
 * experiments: {@link BlockTrace} is a `MethodObserver` that records, for every column block
 * [i1, i2), how many weights it pruned and — for Thanos's dynamic unstructured mask — the
 * layer-wide budget it started from, and on request full snapshots of chosen blocks (the weight
 * before and after the block's compensation, its mask, the per-row removal sets q_r with their
 * multipliers λ_r, and the block of H⁻¹ the solves used). {@link blockStepErrors} then measures
 * what the compensation of one block bought: ‖ΔW·Xᵀ‖² of pruning the block by its mask alone
 * against pruning it with Thanos's (or SparseGPT's) update.
 *
 * Reading the method's live state costs one GPU round trip per block (after its compensation),
 * and one more after its selection when something is read there (Thanos's budget, `masks`, a
 * snapshot's weight); each reads all it needs at once. Snapshotted blocks copy the whole weight
 * and mask: fine for a layer in a notebook, not meant for whole-model runs.
 *
 * @module
 */

import { readAll, type Tensor, upload, zeros } from "./gpu/tensor.ts";
import { applyMask, countMask } from "./linalg/mask.ts";
import { mat, type MatrixView, sub } from "./linalg/view.ts";
import type { BlockStep, MethodObserver } from "./prune/method.ts";
import { outputEnergy, reconstructionError } from "./prune/prune.ts";
import type { LayerStats } from "./prune/stats.ts";

/** Options of {@link BlockTrace}. */
export interface BlockTraceOptions {
  /** blocks (0-based block numbers) to snapshot in full (default none) */
  snapshots?: readonly number[];
  /**
   * keep the whole mask as it stands right after each block's selection (default false): for
   * Thanos unstructured the columns after i2 hold the tentative layer-wide choice of that moment
   */
  masks?: boolean;
}

/** Per-row removal sets of a Thanos block and their multipliers, rows [r0, r0 + rows). */
export interface RemovalSnapshot {
  /** first layer row covered (Thanos solves rows in batches of `rowBatch`; the last batch is kept) */
  r0: number;
  rows: number;
  /** the block width B = i2 − i1: the row stride of idx, rhs and lambda */
  width: number;
  /** |q_r| for each row */
  counts: Uint32Array;
  /** [rows, width]: q_r = idx[r, 0..counts[r]) (block-local columns) */
  idx: Uint32Array;
  /** [rows, width]: W[r, q_r] before the update (the right-hand sides) */
  rhs: Float32Array;
  /** [rows, width]: λ_r solving Hinv[q_r, q_r]·λ_r = W[r, q_r]ᵀ */
  lambda: Float32Array;
}

/** One block in full. Matrices are row-major copies on the CPU. */
export interface BlockSnapshot {
  rows: number;
  cols: number;
  i1: number;
  i2: number;
  /** the whole weight [rows, cols] after the block's selection, before its update */
  weightBefore: Float32Array;
  /** the whole weight [rows, cols] after the block's update (columns before i2 are final) */
  weightAfter: Float32Array;
  /** the block's mask [rows, i2 − i1], 1 = pruned */
  mask: Uint32Array;
  /**
   * [i2 − i1, i2 − i1]: Thanos: the leading block of (H[i1:, i1:])⁻¹, whose principal submatrices
   * the per-row solves use; SparseGPT: the block of the upper Cholesky factor of H⁻¹
   */
  hinv: Float32Array;
  /** Thanos only (null for SparseGPT) */
  removal: RemovalSnapshot | null;
}

/** What a {@link BlockTrace} records for every block. */
export interface BlockRecord {
  /** block number, 0-based */
  index: number;
  method: BlockStep["method"];
  /** the block's columns [i1, i2) */
  i1: number;
  i2: number;
  /** weights pruned in columns [i1, i2) */
  pruned: number;
  /** weights pruned in the columns before i1 */
  prunedBefore: number;
  /**
   * Thanos unstructured: weights still to prune when the block started (target − prunedBefore),
   * read from the method's budget tensor; null for other methods and patterns
   */
  budget: number | null;
  /** with `masks: true`: the whole mask [rows, cols] right after the block's selection */
  selectedMask?: Uint32Array;
  /** for blocks named in `snapshots` */
  snapshot?: BlockSnapshot;
}

/**
 * Reads several tensors with one GPU round trip (`readAll`); `null` entries are skipped and read
 * back as undefined.
 */
async function readSome(
  ...tensors: (Tensor | null | undefined)[]
): Promise<(Float32Array | Uint32Array | Int32Array | undefined)[]> {
  const present = tensors.filter((t): t is Tensor => !!t);
  const data = present.length > 0 ? await readAll(...present) : [];
  let next = 0;
  return tensors.map((t) => (t ? data[next++] : undefined));
}

/** The window of view `v` as a compact row-major array, from `all`, the data of its tensor. */
function windowOf<A extends Float32Array | Uint32Array | Int32Array>(all: A, v: MatrixView): A {
  if (v.offset === 0 && v.ld === v.cols && v.rows * v.cols === all.length) return all;
  const out = new (all.constructor as new (n: number) => A)(v.rows * v.cols);
  for (let r = 0; r < v.rows; r++) {
    const from = v.offset + r * v.ld;
    out.set(all.subarray(from, from + v.cols), r * v.cols);
  }
  return out;
}

/**
 * A `MethodObserver` that records what a block-wise method does in each column block. Use one
 * trace per `pruneLayer` call; magnitude and Wanda have no blocks and leave it empty.
 *
 * @example
 * ```ts
 * const trace = new BlockTrace({ snapshots: [0] });
 * const r = await pruneLayer(layer, stats, { method: "thanos", sparsity: 0.5 }, trace);
 * trace.blocks.map((b) => [b.pruned, b.budget]);      // weights pruned per block, budget before it
 * const { maskOnly, compensated } = await blockStepErrors(trace.snapshot(0), stats);
 * ```
 */
export class BlockTrace implements MethodObserver {
  /** one record per block, in order */
  readonly blocks: BlockRecord[] = [];
  readonly #snapshots: ReadonlySet<number>;
  /** the `masks` option: keep each block's whole selected mask (Thanos then writes its whole tentative choice) */
  readonly tentativeMasks: boolean;
  #counter: Tensor<"u32"> | null = null;
  #pending: { record: BlockRecord; weightBefore?: Float32Array } | null = null;
  #finished = false;

  /**
   * @param options blocks to snapshot in full, and whether to keep each block's selected mask
   * @throws RangeError for a snapshot block that is not a non-negative integer
   */
  constructor(options: BlockTraceOptions = {}) {
    for (const b of options.snapshots ?? []) {
      if (!Number.isInteger(b) || b < 0) {
        throw new RangeError(`BlockTrace: snapshot block ${b} is invalid; expected a non-negative integer`);
      }
    }
    this.#snapshots = new Set(options.snapshots ?? []);
    this.tentativeMasks = options.masks ?? false;
  }

  /**
   * The snapshot of block `index`.
   * @throws RangeError when the block was not snapshotted (naming the blocks that were, and how
   *   many blocks the layer had)
   */
  snapshot(index: number): BlockSnapshot {
    const s = this.blocks[index]?.snapshot;
    if (s) return s;
    const taken = this.blocks.filter((b) => b.snapshot).map((b) => b.index);
    throw new RangeError(
      `BlockTrace: block ${index} has no snapshot; the layer had ${this.blocks.length} blocks (0..${
        this.blocks.length - 1
      }) and snapshots were taken of [${taken.join(", ")}]; pass the block in options.snapshots`,
    );
  }

  /** Called by the method; see `BlockStep`. */
  async onBlock(step: BlockStep): Promise<void> {
    if (step.phase === "selected") await this.#selected(step);
    else await this.#compensated(step);
  }

  async #selected(step: BlockStep): Promise<void> {
    if (this.#finished || (step.i1 === 0 && this.blocks.length > 0)) {
      throw new Error("BlockTrace: this trace already holds a pruned layer; use a new BlockTrace per pruneLayer call");
    }
    const index = this.blocks.length;
    const last = this.blocks[index - 1];
    const snapshot = this.#snapshots.has(index);
    const [budget, mask, weight] = await readSome( //                 one round trip
      step.budget,
      this.tentativeMasks ? step.mask.tensor : null,
      snapshot ? step.weight.tensor : null,
    );
    const record: BlockRecord = {
      index,
      method: step.method,
      i1: step.i1,
      i2: step.i2,
      pruned: 0,
      prunedBefore: last ? last.prunedBefore + last.pruned : 0,
      budget: budget ? budget[0] : null,
    };
    if (mask) record.selectedMask = windowOf(mask as Uint32Array, step.mask);
    this.#pending = { record, weightBefore: weight ? windowOf(weight as Float32Array, step.weight) : undefined };
  }

  async #compensated(step: BlockStep): Promise<void> {
    const pending = this.#pending;
    if (!pending || pending.record.i1 !== step.i1) {
      throw new Error(`BlockTrace: block [${step.i1}, ${step.i2}) was compensated without being selected first`);
    }
    this.#pending = null;
    const { record } = pending;
    const { rows, cols } = step.weight;
    const width = step.i2 - step.i1;
    const blockMask = sub(step.mask, 0, step.i1, rows, width);
    const gpu = step.weight.tensor.gpu;
    this.#counter ??= zeros(gpu, [1], "u32", "BlockTrace.count");
    await countMask(blockMask, this.#counter); //                   ones in mask[:, i1:i2]
    const snapshot = pending.weightBefore !== undefined;
    const removal = snapshot ? step.removal : undefined;
    const hinv = sub(step.hinv, 0, 0, width, width);
    const [count, weight, mask, hinvData, counts, idx, rhs, lambda] = await readSome( // one round trip
      this.#counter,
      snapshot ? step.weight.tensor : null,
      snapshot ? step.mask.tensor : null,
      snapshot ? hinv.tensor : null,
      removal?.counts,
      removal?.idx,
      removal?.rhs,
      removal?.lambda,
    );
    record.pruned = count![0];
    if (pending.weightBefore) {
      record.snapshot = {
        rows,
        cols,
        i1: step.i1,
        i2: step.i2,
        weightBefore: pending.weightBefore,
        weightAfter: windowOf(weight as Float32Array, step.weight),
        mask: windowOf(mask as Uint32Array, blockMask),
        hinv: windowOf(hinvData as Float32Array, hinv),
        removal: removal
          ? {
            r0: removal.r0,
            rows: removal.rows,
            width,
            counts: (counts as Uint32Array).slice(0, removal.rows),
            idx: (idx as Uint32Array).slice(0, removal.rows * width),
            rhs: (rhs as Float32Array).slice(0, removal.rows * width),
            lambda: compactRows(lambda as Float32Array, idx as Uint32Array, counts as Uint32Array, removal.rows, width),
          }
          : null,
      };
    }
    this.blocks.push(record);
    if (step.i2 === cols) this.#finish();
  }

  #finish(): void {
    this.#finished = true;
    this.#counter?.release();
    this.#counter = null;
  }
}

/** What one block's compensation bought (see {@link blockStepErrors}). */
export interface BlockStepErrors {
  /** ‖(W_mask − W_before)·Xᵀ‖²·(2/n): the block's mask applied, nothing updated */
  maskOnly: number;
  /** ‖(W_after − W_before)·Xᵀ‖²·(2/n): the block pruned and the remaining columns updated */
  compensated: number;
  /** ‖W_before·Xᵀ‖²·(2/n), to make both relative */
  energy: number;
}

/**
 * The reconstruction error of one block's step, measured from the weight the block started with
 * (for block 0, the dense weight): pruning the block's mask alone, against the method's update of
 * the columns i1… that compensates it. Uses the undamped H of `stats`, like `pruneLayer`'s
 * relative error.
 *
 * @param snapshot a block from {@link BlockTrace.snapshot}
 * @param stats the layer's calibration statistics (the ones the layer was pruned with)
 * @returns both errors and the output energy they can be divided by
 * @throws RangeError when the statistics do not match the snapshot's columns
 * @example
 * ```ts
 * const e = await blockStepErrors(trace.snapshot(0), stats);
 * console.log(e.maskOnly / e.energy, e.compensated / e.energy);
 * ```
 */
export async function blockStepErrors(snapshot: BlockSnapshot, stats: LayerStats): Promise<BlockStepErrors> {
  const { rows, cols, i1, i2 } = snapshot;
  if (stats.cols !== cols) {
    throw new RangeError(
      `blockStepErrors: the snapshot's layer has ${cols} input columns but the statistics have ${stats.cols}`,
    );
  }
  const gpu = stats.hessian.gpu;
  using before = upload(gpu, snapshot.weightBefore, [rows, cols], "blockStepErrors.before");
  using masked = upload(gpu, snapshot.weightBefore, [rows, cols], "blockStepErrors.maskOnly");
  using after = upload(gpu, snapshot.weightAfter, [rows, cols], "blockStepErrors.after");
  using mask = upload(gpu, snapshot.mask, [rows, i2 - i1], "blockStepErrors.mask");
  await applyMask(sub(mat(masked), 0, i1, rows, i2 - i1), mat(mask)); //  W_before with the block's weights zeroed
  return {
    maskOnly: await reconstructionError(before, masked, stats),
    compensated: await reconstructionError(before, after, stats),
    energy: await outputEnergy(before, stats),
  };
}

/** λ_r from the dense Λ [rows, width] (λ_r at its columns q_r): out[r, i] = Λ[r, q_r[i]], zeros after |q_r|. */
function compactRows(dense: Float32Array, idx: Uint32Array, counts: Uint32Array, rows: number, width: number) {
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < counts[r]; i++) out[r * width + i] = dense[r * width + idx[r * width + i]];
  }
  return out;
}
