/**
 * Whole-model pruning, block by block — the reference procedure of SparseGPT, Wanda and Thanos:
 *
 *   x = embed(calibration windows)
 *   for each decoder block b:
 *     forward block b on x; every linear layer's input X is folded into its statistics
 *       (H = (2/n)·XᵀX and ‖X_j‖², once per distinct input: q/k/v share one, gate/up share one)
 *     prune every linear layer of the block from those statistics (dense weights within the block,
 *       as the reference does: all statistics are gathered before any layer of the block is pruned)
 *     x = forward block b again, with the pruned weights  → the next block's inputs
 *
 * Only the current block's activations (its inputs and outputs, in batches of windows) live on the
 * GPU; with a streaming model only one block's weights do too. Nothing here prints: progress goes to
 * an optional callback, and the result carries a per-layer report and timings.
 *
 * @module
 */

import { defaultBatchSize } from "./eval.ts";
import type { Tensor } from "./gpu/tensor.ts";
import type { CausalLM, ForwardHooks } from "./model/forward.ts";
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
  /** ‖(W′−W)Xᵀ‖²/‖WXᵀ‖² on this block's calibration inputs */
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
  onProgress?: (progress: PipelineProgress) => void;
  /**
   * Called with each layer's result before its GPU tensors are handed to the model (the weight) or
   * released (the mask) — for notebooks that plot masks. Must not release them.
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
  const prune = resolvePruneOptions(options.prune as PruneOptionsInput);
  const { count, seqlen, tokens } = calibration;
  checkCalibration(model, calibration);
  checkModelFits(model.layout, prune);
  const batchSize = options.batchSize ?? defaultBatchSize(model, seqlen);
  const batches: [number, number][] = [];
  for (let w0 = 0; w0 < count; w0 += batchSize) batches.push([w0, Math.min(batchSize, count - w0)]);

  const started = performance.now();
  const numBlocks = model.numBlocks;
  const layersPerBlock = model.linearGroups.reduce((s, g) => s + g.names.length, 0);
  const total = numBlocks * (2 * batches.length + layersPerBlock);
  let done = 0;
  const times = { calibrate: 0, prune: 0, propagate: 0 };
  const report = (stage: PipelineProgress["stage"], block: number, message: string, layer?: string) => {
    if (!options.onProgress) return;
    const seconds = (performance.now() - started) / 1000;
    options.onProgress({
      stage,
      block,
      numBlocks,
      layer,
      done,
      total,
      seconds,
      eta: done > 0 ? seconds / done * (total - done) : NaN,
      message,
    });
  };

  // block 0's inputs: the embeddings of every calibration window, in batches
  let inputs: Tensor[] = [];
  const layers: LayerReport[] = [];
  let zeros = 0, weights = 0;
  try {
    for (const [w0, n] of batches) {
      inputs.push(await model.embed(tokens.subarray(w0 * seqlen, (w0 + n) * seqlen), n, seqlen));
    }
    for (let b = 0; b < numBlocks; b++) {
      // (a) statistics of every linear layer's input, from the dense block
      let t0 = performance.now();
      const stats = new Map<string, CalibrationStats>();
      try {
        const hooks: ForwardHooks = {
          onLinearInput: async (group, x) => {
            let s = stats.get(group.input);
            if (!s) {
              stats.set(group.input, s = new CalibrationStats(model.gpu, group.inFeatures, `block${b}.${group.input}`));
            }
            await s.addBatch(x);
          },
        };
        for (let i = 0; i < batches.length; i++) {
          report("calibrate", b, `block ${b + 1}/${numBlocks}: calibration forward ${i + 1}/${batches.length}`);
          const out = await model.runBlock(b, inputs[i], batches[i][1], seqlen, hooks);
          out.release();
          done++;
        }
        await model.gpu.sync(); //                                      so the stage timings are honest
        times.calibrate += (performance.now() - t0) / 1000;

        // (b) prune every linear layer of the block
        t0 = performance.now();
        const groupOf = new Map<string, string>();
        for (const g of model.linearGroups) for (const name of g.names) groupOf.set(name, g.input);
        for (const linear of await model.blockLinears(b)) {
          report("prune", b, `block ${b + 1}/${numBlocks}: pruning ${linear.name}`, linear.name);
          const layerStarted = performance.now();
          const s = stats.get(groupOf.get(linear.name)!)!;
          const result = await pruneLayer({ name: `${b}.${linear.name}`, weight: linear.weight }, s, prune);
          const entry: LayerReport = {
            block: b,
            name: linear.name,
            shape: [result.rows, result.cols],
            sparsity: result.sparsity,
            relativeError: result.relativeError,
            seconds: (performance.now() - layerStarted) / 1000,
          };
          try {
            await options.onLayerPruned?.(entry, result);
          } finally {
            result.mask.release();
          }
          await model.setLinearWeight(b, linear.name, result.weight);
          layers.push(entry);
          zeros += result.sparsity * result.rows * result.cols;
          weights += result.rows * result.cols;
          done++;
        }
        times.prune += (performance.now() - t0) / 1000;
      } finally {
        for (const s of stats.values()) s.release();
      }

      // (c) the next block's inputs, through the pruned block
      t0 = performance.now();
      const outputs: Tensor[] = [];
      for (let i = 0; i < batches.length; i++) {
        report("propagate", b, `block ${b + 1}/${numBlocks}: forward with pruned weights ${i + 1}/${batches.length}`);
        outputs.push(await model.runBlock(b, inputs[i], batches[i][1], seqlen));
        inputs[i].release();
        done++;
      }
      await model.gpu.sync();
      inputs = outputs;
      await model.checkActivations(); //  NaN/Inf recorded at this block's boundaries (a tiny readback)
      times.propagate += (performance.now() - t0) / 1000;
    }
    report("propagate", numBlocks - 1, `pruned ${layers.length} layers in ${numBlocks} blocks`); // done == total
  } finally {
    for (const t of inputs) t.release();
  }
  return {
    options: prune,
    layers,
    sparsity: weights > 0 ? zeros / weights : 0,
    calibration: { windows: count, seqlen, tokens: count * seqlen },
    timings: { ...times, total: (performance.now() - started) / 1000 },
  };
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
