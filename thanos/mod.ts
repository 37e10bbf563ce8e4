/**
 * Thanos on WebGPU: block-wise pruning of LLM linear layers (Ilin & Richtárik, arXiv 2504.05346),
 * with the magnitude, Wanda and SparseGPT baselines.
 *
 * This module re-exports what a user of the library calls: open and load a model, prepare
 * calibration and evaluation data, prune one layer or a whole model, evaluate, save, and look
 * inside (layer captures, block traces), generate text. Kernels, factorizations, file formats and the model
 * internals stay importable from their own modules (`thanos/gpu/mod.ts`, `thanos/linalg/mod.ts`,
 * `thanos/model/mod.ts`, `thanos/prune/mod.ts`, `thanos/data/mod.ts`) for tests and notebooks
 * that dig deeper.
 *
 * Callbacks follow one convention everywhere: an optional `on<Event>` member of an options (or
 * hooks) object — `onProgress`, `onLayerPruned`, `onLinearInput` — or an observer object whose
 * methods are called the same way (`MethodObserver.onBlock`, implemented by `BlockTrace`). It is
 * called with the event's record first and the GPU data it concerns after; it may return a
 * promise, which is awaited before the work goes on; GPU tensors and views it receives are valid
 * only during the call and are not its to release.
 *
 * @module
 */

// GPU: the device and the tensors results come back in
export { getGpu, type Gpu } from "./gpu/device.ts";
export { readAll, type Tensor, upload, zeros } from "./gpu/tensor.ts";
export { mat, type MatrixView, sub } from "./linalg/view.ts";

// data
export { loadTokenizer, type TextTokenizer } from "./data/tokenizer.ts";
export { CORPUS_NAMES, type CorpusName, corpusTokens, loadCorpus } from "./data/corpus.ts";
export { evalWindows, sampleCalibration, type TokenWindows } from "./data/calibration.ts";

// models
export { type Checkpoint, openCheckpoint, writeCheckpoint, type WriteCheckpointOptions } from "./model/checkpoint.ts";
export { forwardNll, loadModel, type LoadModelOptions } from "./model/load.ts";
export type { CausalLM, ForwardHooks, LinearGroup, LinearWeights } from "./model/forward.ts";
export type { ModelConfig, ModelFamily } from "./model/config.ts";

// pruning one layer
export { CalibrationStats, type LayerStats } from "./prune/stats.ts";
export {
  checkLayerFits,
  METHOD_NAMES,
  type MethodName,
  type Pattern,
  patternName,
  type PruneOptions,
  type PruneOptionsInput,
  resolvePruneOptions,
} from "./prune/options.ts";
export { pruneLayer, type PruneResult } from "./prune/prune.ts";
export type { BlockStep, MethodObserver } from "./prune/method.ts";
export { wandaScores } from "./linalg/mask.ts";

// generating text
export { Decoder, type DecoderOptions } from "./decode/decoder.ts";
export { generate, type GenerateOptions, type GenerateResult, type StopReason } from "./decode/generate.ts";
export { continuationLogProbs } from "./decode/score.ts";
export type { SamplingOptions } from "./decode/sampling.ts";

// pruning a model, evaluating, experiments
export * from "./pipeline.ts";
export * from "./eval.ts";
export * from "./experiment.ts";
export { checkPaperCorpora, PAPER_SETTINGS, type PaperCorpora, preparePaperData } from "./paper.ts";
export * from "./comparison.ts";

// looking inside
export * from "./inspect.ts";
export * from "./block_trace.ts";

// zero-shot evaluation (lm-evaluation-harness tasks)
export * from "./zeroshot/mod.ts";
