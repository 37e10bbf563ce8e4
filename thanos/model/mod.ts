/**
 * Models: safetensors reading/writing, config normalisation, per-family tensor tables,
 * checkpoints (local directories and the Hugging Face cache).
 *
 * This module only re-exports; see the files it names.
 * @module
 */
export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./half.ts";
export {
  type ArrayOfDType,
  type FloatDType,
  openSafetensors,
  SAFETENSORS_DTYPE_BYTES,
  type SafetensorsDType,
  SafetensorsFile,
  SafetensorsReader,
  type ShardOptions,
  SUPPORTED_DTYPES,
  type SupportedDType,
  type TensorData,
  type TensorEntry,
  type TensorInput,
  type WriteOptions,
  writeSafetensors,
  writeSafetensorsSharded,
} from "./safetensors.ts";
export {
  type Activation,
  ACTIVATIONS,
  type Gpt2Config,
  type LinearRopeScaling,
  type Llama3RopeScaling,
  type LlamaConfig,
  loadConfig,
  type ModelConfig,
  type ModelConfigBase,
  type ModelFamily,
  type OptConfig,
  parseConfig,
  type RopeScaling,
  SUPPORTED_MODEL_TYPES,
} from "./config.ts";
export {
  type BlockLayout,
  detectPrefix,
  type EmbeddingLayout,
  type ExpectedTensor,
  type LinearLayer,
  type ModelLayout,
  modelLayout,
  type NormLayer,
  PREFIXES,
  storedShape,
} from "./layout.ts";
export {
  type Checkpoint,
  openCheckpoint,
  storageDtype,
  writeCheckpoint,
  type WriteCheckpointOptions,
} from "./checkpoint.ts";
export {
  type CompressionBytes,
  type CompressionConfig,
  type CompressionPlan,
  type LayerCompression,
  type SparseFormat,
  type SparsityConfig,
} from "./compressed.ts";
export { type ShrinkResult, shrinkStructured } from "./shrink.ts";
export {
  findCachedModel,
  hubCacheDir,
  type HubModelId,
  type HubOptions,
  isHubId,
  parseHubId,
  repoCacheDir,
  resolveHubModel,
} from "./hub.ts";
export {
  type BlockWeights,
  type CausalLM,
  DecoderModel,
  type ForwardHooks,
  type GlobalWeights,
  type LinearGroup,
  type LinearWeights,
  type ModelOptions,
  type NormWeights,
} from "./forward.ts";
export { LlamaModel } from "./llama.ts";
export { OptModel } from "./opt.ts";
export { Gpt2Model } from "./gpt2.ts";
export { forwardHidden, forwardNll, loadModel, type LoadModelOptions } from "./load.ts";
export { ropeInverseFrequencies, type RopeSettings, ropeTables } from "./rope.ts";
export {
  activation,
  type AttentionShape,
  biasAdd,
  causalAttention,
  gatedActivation,
  gatherRows,
  type HeadShape,
  layerNorm,
  MAX_HEAD_DIM,
  nllUpdate,
  residualAdd,
  rmsNorm,
  rope,
  type RowChunks,
} from "./ops.ts";
