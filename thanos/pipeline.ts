/**
 * Whole-model pruning, block by block — the reference procedure of SparseGPT, Wanda and Thanos:
 *
 *   x = embed(calibration windows)
 *   for each decoder block b:
 *     forward block b on x; every linear layer's input X is folded into its statistics
 *       (H = (2/n)·XᵀX and ‖X_j‖², once per distinct input: q/k/v share one, gate/up share one)
 *     prune every linear layer of the block from those statistics (dense weights within the block,
 *       as the reference does: all statistics are gathered before any layer of the block is pruned)
 *     x = forward block b again, with the pruned weights  → the next block's inputs (not after
 *       the last block: nothing reads its outputs)
 *
 * Only the current block's activations (its inputs and outputs, in batches of windows:
 * `BlockInputs`) live on the GPU; with a streaming model only one block's weights do too (the
 * model's `WeightStore` decides). Every GPU tensor here is owned by a `using` declaration or a
 * `DisposableStack`, so an error anywhere frees them. Nothing here prints: progress goes to an
 * optional callback, and the result carries a per-layer report and timings.
 *
 * @module
 */

import { defaultBatchSize } from "./eval.ts";
import { filledBy, type Tensor } from "./gpu/tensor.ts";
import type { CausalLM, ForwardHooks, LinearGroup } from "./model/forward.ts";
import type { ModelLayout } from "./model/layout.ts";
import {
  checkLayerFits,
  patternName,
  type PruneOptions,
  type PruneOptionsInput,
  resolvePruneOptions,
} from "./prune/options.ts";
import { pruneLayer, type PruneResult } from "./prune/prune.ts";
import { CalibrationStats } from "./prune/stats.ts";

/** Calibration token windows: `count` windows of `seqlen` ids, window-major (e.g. `sampleCalibration`). */
export interface CalibrationWindows {
  tokens: Uint32Array;
  count: number;
  seqlen: number;
}

/** One pruned linear layer. */
export interface LayerReport {
  block: number;
  /** module path inside the block, e.g. "self_attn.q_proj" */
  name: string;
  /** [outFeatures, inFeatures] */
  shape: [number, number];
  /** achieved fraction of zeros from the mask */
  sparsity: number;
  /** ‖(W′−W)Xᵀ‖²/‖WXᵀ‖² on this block's calibration inputs; NaN when not measured (measureError: false) */
  relativeError: number;
  /** wall time of pruning this layer (method + error measurement) */
  seconds: number;
}

/** Where the pipeline is, for progress displays (CLI: stderr; notebooks: an updating bar). */
export interface PipelineProgress {
  stage: "calibrate" | "prune" | "propagate";
  /** decoder block being processed, 0-based */
  block: number;
  numBlocks: number;
  /** linear layer being pruned (stage "prune") */
  layer?: string;
  /** units of work done / total, over the whole run (one unit per batch forward or layer) */
  done: number;
  total: number;
  /** seconds since the start */
  seconds: number;
  /** estimated seconds remaining, from the pace so far */
  eta: number;
  message: string;
}

export interface PruneModelOptions {
  /** method, sparsity, pattern, blocksize, percdamp, alpha (validated before any work) */
  prune: PruneOptionsInput | PruneOptions;
  /** windows per forward batch (default: `defaultBatchSize`, ~64 MiB of activations per pass) */
  batchSize?: number;
  /** Called before each unit of work (awaited when it returns a promise). */
  onProgress?: (progress: PipelineProgress) => Promise<void> | void;
  /**
   * Block 0's dense statistics, shared by the runs that prune fresh copies of one checkpoint on
   * the same calibration windows (the comparison table's cells): the first run computes them, the
   * others reuse them instead of a calibration pass. See {@link SharedFirstBlock}.
   */
  shared?: SharedFirstBlock;
  /**
   * Whether magnitude's layers report their relative reconstruction error (default true), which is
   * what its calibration passes are for. false: a magnitude prune, whose masks depend on the weights
   * alone, runs no calibration and no propagation pass — the same pruned model without the forward
   * passes — and reports NaN errors (the comparison table, which shows perplexities only, asks for
   * this). The other methods calibrate, and so measure their errors, either way.
   */
  measureError?: boolean;
  /**
   * Called with each layer's result once the model holds its pruned weight — for notebooks that
   * plot masks. The result's tensors are valid only during the call (the mask is freed after it);
   * the callback must not release them.
   */
  onLayerPruned?: (report: LayerReport, result: PruneResult) => Promise<void> | void;
}

export interface PruneModelResult {
  options: PruneOptions;
  layers: LayerReport[];
  /** fraction of zeros over all pruned linear weights */
  sparsity: number;
  calibration: { windows: number; seqlen: number; tokens: number };
  /** wall-clock seconds per stage and in total */
  timings: { calibrate: number; prune: number; propagate: number; total: number };
}

/**
 * Prunes every linear layer of every decoder block of `model` in place (the model's weights are
 * replaced by their pruned versions).
 *
 * @param model the model (e.g. from `loadModel`)
 * @param calibration calibration windows (e.g. `sampleCalibration(tokens, {nsamples, seqlen, seed})`)
 * @param options pruning options, batch size, progress and per-layer callbacks
 * @returns the per-layer report, overall sparsity and timings
 * @throws RangeError before any work for invalid options, a pattern that does not fit some layer,
 *   or calibration windows longer than the model's context
 * @example
 * ```ts
 * const model = await loadModel("models/tiny-llama");
 * const calib = sampleCalibration(tokens, { nsamples: 32, seqlen: 256, seed: 0 });
 * const result = await pruneModel(model, calib, { prune: { method: "thanos", sparsity: 0.5 } });
 * console.log(result.layers.map((l) => `${l.block}.${l.name}: ${l.relativeError}`));
 * ```
 */
export async function pruneModel(
  model: CausalLM,
  calibration: CalibrationWindows,
  options: PruneModelOptions,
): Promise<PruneModelResult> {
  const prune = resolvePruneOptions(options.prune); // validated here, once; everything below takes it as is
  checkCalibration(model, calibration);
  checkModelFits(model.layout, prune);
  const batchSize = options.batchSize ?? defaultBatchSize(model, calibration.seqlen);
  const layersPerBlock = model.linearGroups.reduce((s, g) => s + g.names.length, 0);
  // magnitude without the error measurement: masks from the weights alone, no forward pass at all
  const calibrate = !(prune.method === "magnitude" && options.measureError === false);
  const batches = calibrate ? Math.ceil(calibration.count / batchSize) : 0;
  const reuse = options.shared?.available ?? false; //                block 0's calibration pass skipped
  // units: batch forwards (calibration of every block, propagation through all but the last) and layers
  const total = model.numBlocks * (2 * batches + layersPerBlock) - batches - (reuse ? batches : 0);
  const clock = new PipelineClock(model.gpu, model.numBlocks, total, options.onProgress);
  const layers: LayerReport[] = [];

  using x = calibrate ? await BlockInputs.embed(model, calibration, batchSize) : null; // block 0's inputs
  for (let b = 0; b < model.numBlocks; b++) {
    // (a) H = (2/n)·XᵀX and ‖X_j‖² of every linear layer's input, from the dense block (block 0's
    // from an earlier run of the same checkpoint and windows when shared)
    const first = x && b === 0 && options.shared ? options.shared.adopt(model, calibration, batchSize) : null;
    if (x) await model.gpu.releaseSpares(); // each stage allocates other shapes than the one before it
    using stats = x ? first ?? await calibrateBlock(model, b, x, clock) : null;
    if (stats && b === 0 && options.shared && !first) options.shared.keep(model, calibration, batchSize, stats);
    // (b) prune every linear layer of the block from those statistics
    layers.push(...await pruneBlock(model, b, stats, prune, clock, options.onLayerPruned));
    // (c) the next block's inputs, through the pruned block — none after the last block, whose
    // outputs nothing reads (the official code computes them and drops them)
    if (!x || b === model.numBlocks - 1) continue;
    const step = (i: number) => clock.unit("propagate", b, `forward with pruned weights ${i + 1}/${batches}`);
    await model.gpu.releaseSpares();
    await clock.stage("propagate", () => x.advance(b, step));
    await model.checkActivations(); // NaN/Inf recorded at this block's boundaries (a tiny readback)
  }
  if (x) await model.checkActivations(); // the last block's calibration pass
  const stage = x ? "propagate" : "prune";
  await clock.report(stage, model.numBlocks - 1, `pruned ${layers.length} layers in ${model.numBlocks} blocks`);
  return {
    options: prune,
    layers,
    sparsity: overallSparsity(layers),
    calibration: { windows: calibration.count, seqlen: calibration.seqlen, tokens: calibration.tokens.length },
    timings: clock.timings(),
  };
}

/** The statistics of each linear group's input in block `b` (by {@link LinearGroup.input}). */
class BlockStats implements Disposable {
  readonly #byInput: Map<string, CalibrationStats>;
  #owner = new DisposableStack();

  /** @param shared statistics another run computed (owned by a {@link SharedFirstBlock}) */
  constructor(readonly model: CausalLM, readonly block: number, shared?: Map<string, CalibrationStats>) {
    this.#byInput = new Map(shared);
  }

  /** The statistics by input name; their ownership moves to the caller (disposing this frees nothing). */
  takeAll(): Map<string, CalibrationStats> {
    this.#owner.move();
    this.#owner = new DisposableStack();
    return new Map(this.#byInput);
  }

  /** The statistics of `group`'s input, created on first use. */
  of(group: LinearGroup): CalibrationStats {
    let s = this.#byInput.get(group.input);
    if (!s) {
      s = this.#owner.use(new CalibrationStats(this.model.gpu, group.inFeatures, `block${this.block}.${group.input}`));
      this.#byInput.set(group.input, s);
    }
    return s;
  }

  /** The statistics of the input of linear layer `name`. */
  ofLayer(name: string): CalibrationStats {
    const group = this.model.linearGroups.find((g) => g.names.includes(name));
    const s = group && this.#byInput.get(group.input);
    if (!s) throw new Error(`block ${this.block}: no calibration statistics reached linear layer "${name}"`);
    return s;
  }

  [Symbol.dispose](): void {
    this.#owner.dispose();
  }
}

/**
 * Block 0's statistics, computed once for several {@link pruneModel} runs. Every method's block 0
 * sees the same inputs (the calibration windows' embeddings) through the same dense weights, so
 * H and ‖X_j‖² of each of its linear inputs are the same for all — bit for bit, as long as the
 * runs prune fresh copies of one checkpoint on the same windows in the same forward batches
 * (checked: the windows object, the batch size and the model's linear inputs; the checkpoint is the
 * caller's promise). Later blocks see inputs that the pruned blocks before them produced, so they
 * are not shared. `deno task table` shares one across its cells. It holds block 0's statistics
 * (d² floats per distinct linear input: ~0.7 GB for a 7B LLaMA) for as long as it lives, on top of
 * what the memory plan (memory_plan.ts) counts for one run.
 * @example
 * ```ts
 * using shared = new SharedFirstBlock();
 * for (const options of cells) await pruneAndEvaluate(checkpoint, data, options, { shared });
 * ```
 */
export class SharedFirstBlock implements Disposable {
  #stats: Map<string, CalibrationStats> | null = null;
  #owner = new DisposableStack();
  #calibration: CalibrationWindows | null = null;
  #batchSize = 0;
  #signature = "";
  /** how many runs reused the statistics */
  reused = 0;

  /** Whether a run has computed the statistics. */
  get available(): boolean {
    return this.#stats !== null;
  }

  /**
   * The kept statistics for this run (null before a run has computed them).
   * @throws RangeError when they were computed for other windows, batches or model shapes
   */
  adopt(model: CausalLM, calibration: CalibrationWindows, batchSize: number): BlockStats | null {
    if (!this.#stats) return null;
    if (calibration !== this.#calibration || batchSize !== this.#batchSize || signature(model) !== this.#signature) {
      throw new RangeError(
        "SharedFirstBlock: block 0's statistics were computed for other calibration windows, forward batches " +
          "or model; share one only between runs on the same checkpoint and data",
      );
    }
    this.reused++;
    return new BlockStats(model, 0, this.#stats);
  }

  /** Takes over the statistics the first run computed. */
  keep(model: CausalLM, calibration: CalibrationWindows, batchSize: number, stats: BlockStats): void {
    this.#stats = stats.takeAll();
    for (const s of this.#stats.values()) this.#owner.use(s);
    this.#calibration = calibration;
    this.#batchSize = batchSize;
    this.#signature = signature(model);
  }

  [Symbol.dispose](): void {
    this.#owner.dispose();
    this.#owner = new DisposableStack();
    this.#stats = null;
  }
}

/** The linear inputs of a model's blocks and their widths. */
function signature(model: CausalLM): string {
  return JSON.stringify([model.numBlocks, model.linearGroups.map((g) => [g.input, g.inFeatures, g.names])]);
}

/** Step (a): forwards the dense block `b` on every batch, folding each linear input into its statistics. */
function calibrateBlock(model: CausalLM, b: number, x: BlockInputs, clock: PipelineClock): Promise<BlockStats> {
  return clock.stage("calibrate", () =>
    filledBy(new BlockStats(model, b), async (stats) => {
      const hooks: ForwardHooks = { onLinearInput: (group, input) => stats.of(group).addBatch(input) };
      await x.forEach(async (hidden, windows, i) => {
        await clock.unit("calibrate", b, `calibration forward ${i + 1}/${x.batches}`);
        await model.observeBlock(b, hidden, windows, x.seqlen, hooks); // its output is not needed
      });
    }));
}

/**
 * Step (b): prunes each linear layer of block `b` and hands its pruned weight to the model (from
 * no statistics: magnitude without the error measurement).
 */
function pruneBlock(
  model: CausalLM,
  b: number,
  stats: BlockStats | null,
  prune: PruneOptions,
  clock: PipelineClock,
  onLayerPruned: PruneModelOptions["onLayerPruned"],
): Promise<LayerReport[]> {
  return clock.stage("prune", async () => {
    const reports: LayerReport[] = [];
    let previousShape = "";
    for (const linear of await model.blockLinears(b)) {
      await clock.unit("prune", b, `pruning ${linear.name}`, linear.name);
      // a layer of another shape reuses none of the previous layer's scratch: free it first
      const shape = linear.weight.shape.join("x");
      if (shape !== previousShape) await model.gpu.releaseSpares();
      previousShape = shape;
      const started = performance.now();
      const result = await pruneLayer(
        { name: `${b}.${linear.name}`, weight: linear.weight },
        stats?.ofLayer(linear.name) ?? null,
        prune,
      );
      using _mask = result.mask;
      await model.setLinearWeight(b, linear.name, result.weight); // the model owns the pruned weight now
      const seconds = (performance.now() - started) / 1000;
      const report: LayerReport = {
        block: b,
        name: linear.name,
        shape: [result.rows, result.cols],
        sparsity: result.sparsity,
        relativeError: result.relativeError,
        seconds,
      };
      await onLayerPruned?.(report, result);
      reports.push(report);
    }
    return reports;
  });
}

/** Fraction of zeros over every pruned layer's weights. */
function overallSparsity(layers: readonly LayerReport[]): number {
  let zeros = 0, weights = 0;
  for (const { shape: [rows, cols], sparsity } of layers) zeros += sparsity * rows * cols, weights += rows * cols;
  return weights > 0 ? zeros / weights : 0;
}

/**
 * The hidden states entering the current block for every calibration window, in forward batches of
 * at most `batchSize` windows; {@link advance} replaces them by the block's outputs.
 */
class BlockInputs implements Disposable {
  #hidden: Tensor[] = [];
  #owner = new DisposableStack();

  private constructor(
    readonly model: CausalLM,
    /** windows per batch */
    readonly windows: readonly number[],
    readonly seqlen: number,
  ) {}

  /** Block 0's inputs: the embeddings of every calibration window. */
  static embed(model: CausalLM, calibration: CalibrationWindows, batchSize: number): Promise<BlockInputs> {
    const { count, seqlen, tokens } = calibration;
    const windows: number[] = [];
    for (let w0 = 0; w0 < count; w0 += batchSize) windows.push(Math.min(batchSize, count - w0));
    return filledBy(new BlockInputs(model, windows, seqlen), async (x) => {
      let w0 = 0;
      for (const n of windows) {
        x.#hidden.push(x.#owner.use(await model.embed(tokens.subarray(w0 * seqlen, (w0 + n) * seqlen), n, seqlen)));
        w0 += n;
      }
    });
  }

  /** Number of batches. */
  get batches(): number {
    return this.windows.length;
  }

  /** Calls `fn` on each batch in order: hidden [windows·seqlen, hiddenSize]. */
  async forEach(fn: (hidden: Tensor, windows: number, i: number) => Promise<void>): Promise<void> {
    for (const [i, hidden] of this.#hidden.entries()) await fn(hidden, this.windows[i], i);
  }

  /** Replaces every batch by its output of block `b`; `beforeBatch(i)` runs before batch i. */
  async advance(b: number, beforeBatch: (i: number) => Promise<void>): Promise<void> {
    using next = new DisposableStack();
    const outputs: Tensor[] = [];
    await this.forEach(async (hidden, windows, i) => {
      await beforeBatch(i);
      outputs.push(next.use(await this.model.runBlock(b, hidden, windows, this.seqlen)));
    });
    using _previous = this.#owner; // the inputs are freed when this returns
    this.#owner = next.move();
    this.#hidden = outputs;
  }

  [Symbol.dispose](): void {
    this.#owner.dispose();
  }
}

/** Progress events and per-stage wall time of one {@link pruneModel} run. */
class PipelineClock {
  readonly #started = performance.now();
  readonly #seconds = { calibrate: 0, prune: 0, propagate: 0 };
  #done = 0;

  constructor(
    readonly gpu: CausalLM["gpu"],
    readonly numBlocks: number,
    /** units of work in the run: one per batch forward and one per layer */
    readonly total: number,
    readonly onProgress?: PruneModelOptions["onProgress"],
  ) {}

  /** Runs one stage of a block and adds its wall time (the GPU work included) to the stage's total. */
  async stage<T>(stage: PipelineProgress["stage"], work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const result = await work();
    await this.gpu.sync(); // so the stage timings are honest
    this.#seconds[stage] += (performance.now() - t0) / 1000;
    return result;
  }

  /** Reports the start of one unit of work, then counts it as done. */
  async unit(stage: PipelineProgress["stage"], block: number, message: string, layer?: string): Promise<void> {
    await this.report(stage, block, `block ${block + 1}/${this.numBlocks}: ${message}`, layer);
    this.#done++;
  }

  async report(stage: PipelineProgress["stage"], block: number, message: string, layer?: string): Promise<void> {
    if (!this.onProgress) return;
    const seconds = (performance.now() - this.#started) / 1000, done = this.#done, total = this.total;
    const eta = done > 0 ? seconds / done * (total - done) : NaN;
    await this.onProgress({ stage, block, numBlocks: this.numBlocks, layer, done, total, seconds, eta, message });
  }

  timings(): PruneModelResult["timings"] {
    return { ...this.#seconds, total: (performance.now() - this.#started) / 1000 };
  }
}

/** Validates calibration windows against the model before any work. */
export function checkCalibration(model: CausalLM, calibration: CalibrationWindows): void {
  const { count, seqlen, tokens } = calibration;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`Expected at least 1 calibration window but found ${count}`);
  }
  if (!Number.isInteger(seqlen) || seqlen < 1) throw new RangeError(`Expected seqlen >= 1 but found ${seqlen}`);
  if (seqlen > model.config.maxPositions) {
    throw new RangeError(`seqlen ${seqlen} exceeds the model's context of ${model.config.maxPositions} tokens`);
  }
  if (tokens.length !== count * seqlen) {
    throw new RangeError(`Calibration has ${tokens.length} tokens; expected count·seqlen = ${count}·${seqlen}`);
  }
}

/**
 * Checks before any work that every linear layer of a model can take the pattern of `options`
 * (n:m needs each layer's input columns divisible by m); the blocks of a model have the same
 * layers, so block 0 stands for all.
 * @param layout the model's layout (`model.layout`, `checkpoint.layout`)
 * @param options resolved pruning options
 * @throws RangeError naming the first layer that cannot, as {@link checkLayerFits}
 * @example
 * ```ts
 * checkModelFits(checkpoint.layout, resolvePruneOptions({ method: "thanos", pattern: "2:4" }));
 * ```
 */
export function checkModelFits(layout: ModelLayout, options: PruneOptions): void {
  for (const layer of layout.blocks[0]?.linears ?? []) {
    checkLayerFits(layer.name, layer.outFeatures, layer.inFeatures, options);
  }
}

/** "thanos 2:4 alpha 0.1" — a short description of pruning options for logs and tables. */
export function describeOptions(o: PruneOptions): string {
  return `${o.method} ${patternName(o.pattern)}${o.pattern.kind === "nm" ? "" : ` ${o.sparsity}`}` +
    (o.alpha ? ` alpha ${o.alpha}` : "");
}
