/**
 * Text generation: KV cache, prefill + one-token decode step, sampling, `generate`.
 *
 * This module only re-exports; see the files it names.
 *
 * @module
 */

export { Decoder, type DecoderOptions } from "./decoder.ts";
export {
  checkGenerationLength,
  generate,
  type GenerateOptions,
  type GenerateResult,
  type StopReason,
} from "./generate.ts";
export { type CacheChunk, KvCache } from "./kv_cache.ts";
export { continuationLogProbs } from "./score.ts";
export {
  bitmaskMatvec,
  type BitmaskWeight,
  pack24Index,
  sparse24Matvec,
  type Sparse24Weight,
  type SparseMatvecOptions,
  upload24,
  uploadBitmask,
} from "./sparse_ops.ts";
export { argmaxOf, type ResolvedSampling, resolveSampling, Sampler, type SamplingOptions } from "./sampling.ts";
