/**
 * Experiments as the paper runs them: calibration windows sampled from one corpus, perplexity on
 * another, and "prune this checkpoint with these options, then evaluate" as one call — shared by
 * `deno task prune`, `deno task table` and the notebooks.
 *
 * @module
 */

import { evaluateZeroShot, type PreparedTask, type ZeroShotResult } from "./zeroshot/evaluate.ts";
import { evalWindows, sampleCalibration, type TokenWindows } from "./data/calibration.ts";
import { loadCorpus } from "./data/corpus.ts";
import { cachedCorpusTokens } from "./data/token_cache.ts";
import { loadTokenizer } from "./data/tokenizer.ts";
import { perplexity, type PerplexityProgress } from "./eval.ts";
import { type Checkpoint, openCheckpoint } from "./model/checkpoint.ts";
import type { CausalLM } from "./model/forward.ts";
import { loadModel } from "./model/load.ts";
import {
  checkModelFits,
  type LayerReport,
  type PipelineProgress,
  pruneModel,
  type SharedFirstBlock,
} from "./pipeline.ts";
import { type PruneOptions, type PruneOptionsInput, resolvePruneOptions } from "./prune/options.ts";

/** Where calibration and evaluation tokens come from (defaults in {@link DATA_DEFAULTS}). */
export interface DataSpec {
  /** calibration corpus: a name (sotu-calib, …) or a path (see `loadCorpus`) */
  calibration?: string;
  /** calibration windows */
  nsamples?: number;
  /** window length of calibration and evaluation (default min(context, 2048), as the references) */
  seqlen?: number;
  /** seed of the calibration sampler */
  seed?: number;
  /** evaluation corpus */
  eval?: string;
  /** evaluation windows (0 = all of the corpus) */
  maxWindows?: number;
}

/**
 * Defaults: 128 calibration windows, as the references; they evaluate every window, here the
 * first 64 (pass maxWindows 0 for all), which keeps the bundled model's default run around
 * 1.5 minutes on a 2-core software adapter.
 */
export const DATA_DEFAULTS = {
  calibration: "sotu-calib",
  nsamples: 128,
  seed: 0,
  eval: "sotu-eval",
  maxWindows: 64,
  maxSeqlen: 2048,
} as const;

/**
 * The default window length for a model with `context` positions: min(context, 2048), as the
 * references calibrate and evaluate (`deno task prune`, `deno task eval` and {@link prepareData}).
 * @example
 * ```ts
 * defaultSeqlen(checkpoint.config.maxPositions); // 256 for the bundled tiny models
 * ```
 */
export function defaultSeqlen(context: number): number {
  return Math.min(context, DATA_DEFAULTS.maxSeqlen);
}

/** Calibration and evaluation windows, tokenized for one checkpoint. */
export interface ExperimentData {
  calibration: TokenWindows;
  evaluation: TokenWindows;
  spec: Required<DataSpec>;
}

/**
 * Checks the sizes of a data spec against the model's context, before any work (the memory plan
 * and the corpora both read them).
 *
 * @throws RangeError naming the value and what was expected
 */
export function checkDataSizes(spec: { nsamples: number; seqlen: number; maxWindows: number }, context: number): void {
  const { nsamples, seqlen, maxWindows } = spec;
  if (!Number.isInteger(nsamples) || nsamples < 1) throw new RangeError(`Expected nsamples >= 1 but found ${nsamples}`);
  if (!Number.isInteger(seqlen) || seqlen < 2) throw new RangeError(`Expected seqlen >= 2 but found ${seqlen}`);
  if (seqlen > context) throw new RangeError(`seqlen ${seqlen} exceeds the model's context of ${context} tokens`);
  if (!Number.isInteger(maxWindows) || maxWindows < 0) {
    throw new RangeError(`Expected maxWindows >= 0 (0 = all) but found ${maxWindows}`);
  }
}

/**
 * Loads and tokenizes the corpora and samples the windows, validating everything first.
 * @param checkpoint the model's checkpoint (its tokenizer and context length)
 * @throws RangeError for nsamples/seqlen out of range (≤ 0, beyond the context), a checkpoint
 *   without a tokenizer, or a corpus too small for nsamples x seqlen (or one evaluation window)
 * @example
 * ```ts
 * const data = await prepareData(await openCheckpoint("models/tiny-llama"), { nsamples: 16 });
 * ```
 */
export async function prepareData(checkpoint: Checkpoint, spec: DataSpec = {}): Promise<ExperimentData> {
  const context = checkpoint.config.maxPositions;
  const full: Required<DataSpec> = {
    calibration: spec.calibration ?? DATA_DEFAULTS.calibration,
    nsamples: spec.nsamples ?? DATA_DEFAULTS.nsamples,
    seqlen: spec.seqlen ?? defaultSeqlen(context),
    seed: spec.seed ?? DATA_DEFAULTS.seed,
    eval: spec.eval ?? DATA_DEFAULTS.eval,
    maxWindows: spec.maxWindows ?? DATA_DEFAULTS.maxWindows,
  };
  checkDataSizes(full, context);
  const { nsamples, seqlen, maxWindows } = full;
  if (!checkpoint.tokenizerPath) {
    throw new RangeError(`${checkpoint.dir} has no tokenizer.json (or vocab.json + merges.txt); corpora need one`);
  }
  const tokenizer = await loadTokenizer(checkpoint.tokenizerPath);
  const calibTokens = await cachedCorpusTokens(await loadCorpus(full.calibration), tokenizer);
  if (calibTokens.length < nsamples * seqlen) {
    throw new RangeError(
      `Calibration corpus "${full.calibration}" has ${calibTokens.length} tokens, fewer than ` +
        `nsamples x seqlen = ${nsamples} x ${seqlen} = ${nsamples * seqlen}`,
    );
  }
  const evalTokens = await cachedCorpusTokens(await loadCorpus(full.eval), tokenizer);
  if (evalTokens.length < seqlen) {
    throw new RangeError(
      `Evaluation corpus "${full.eval}" has ${evalTokens.length} tokens, fewer than one window of ${seqlen}`,
    );
  }
  return {
    calibration: sampleCalibration(calibTokens, { nsamples, seqlen, seed: full.seed }),
    evaluation: evalWindows(evalTokens, seqlen, maxWindows === 0 ? undefined : maxWindows),
    spec: full,
  };
}

/** Progress of {@link pruneAndEvaluate}: the pipeline's, or the evaluation's. */
export type ExperimentProgress =
  | ({ kind: "prune" } & PipelineProgress)
  | ({ kind: "eval" } & PerplexityProgress);

export interface RunResult {
  /** null for the dense model */
  options: PruneOptions | null;
  perplexity: number;
  /** fraction of zeros over the pruned linear weights (0 for dense) */
  sparsity: number;
  layers: LayerReport[];
  seconds: { prune: number; eval: number; zeroshot?: number };
  /** zero-shot accuracy, when {@link pruneAndEvaluate} was given prepared tasks */
  zeroshot?: ZeroShotResult;
}

/**
 * Loads the checkpoint, prunes it (unless `prune` is null: the dense baseline) on the calibration
 * windows and returns its perplexity on the evaluation windows. The model is released at the end.
 * @throws RangeError before any work for invalid options or a pattern that does not fit the model
 * @example
 * ```ts
 * const ckpt = await openCheckpoint("models/tiny-llama");
 * const data = await prepareData(ckpt);
 * const dense = await pruneAndEvaluate(ckpt, data, null);
 * const thanos = await pruneAndEvaluate(ckpt, data, { method: "thanos", sparsity: 0.5 });
 * ```
 */
export async function pruneAndEvaluate(
  source: string | Checkpoint,
  data: ExperimentData,
  prune: PruneOptionsInput | PruneOptions | null,
  options: {
    onProgress?: (p: ExperimentProgress) => Promise<void> | void;
    streaming?: boolean;
    /** also score these zero-shot tasks (thanos/zeroshot/) after perplexity */
    zeroshot?: readonly PreparedTask[];
    /** block 0's dense statistics shared with other runs on this checkpoint and data (pipeline.ts) */
    shared?: SharedFirstBlock;
    /** false: magnitude prunes without calibration passes (no per-layer errors; PruneModelOptions.measureError) */
    measureError?: boolean;
  } = {},
): Promise<RunResult> {
  const checkpoint = typeof source === "string" ? await openCheckpoint(source) : source;
  const resolved = prune === null ? null : resolvePruneOptions(prune);
  if (resolved) checkModelFits(checkpoint.layout, resolved);
  const model: CausalLM = await loadModel(checkpoint, { streaming: options.streaming });
  try {
    let layers: LayerReport[] = [], sparsity = 0, pruneSeconds = 0;
    if (resolved) {
      const r = await pruneModel(model, data.calibration, {
        prune: resolved,
        onProgress: (p) => options.onProgress?.({ kind: "prune", ...p }),
        shared: options.shared,
        measureError: options.measureError,
      });
      layers = r.layers;
      sparsity = r.sparsity;
      pruneSeconds = r.timings.total;
    }
    const ppl = await perplexity(model, data.evaluation, {
      onProgress: (p) => options.onProgress?.({ kind: "eval", ...p }),
    });
    const zeroshot = options.zeroshot ? await evaluateZeroShot(model, options.zeroshot) : undefined;
    return {
      options: resolved,
      perplexity: ppl.perplexity,
      sparsity,
      layers,
      seconds: { prune: pruneSeconds, eval: ppl.seconds, ...(zeroshot ? { zeroshot: zeroshot.seconds } : {}) },
      ...(zeroshot ? { zeroshot } : {}),
    };
  } finally {
    model.release();
  }
}
