/**
 * Hugging Face `config.json` → one internal {@link ModelConfig}.
 *
 * One zod schema per family reads the keys that family's `config.json` uses (with the defaults of
 * the matching `transformers` config class); one table of normalisers maps each onto the same
 * shape. The families: `llama` (TinyLlama, SmolLM, Llama-2, Llama-3, Llama-3.2), `opt` (OPT-125m …
 * OPT-66b, including OPT-350m's project_in/out and post-LayerNorm), `gpt2`. Any other `model_type`,
 * and any setting inside a family that the forward pass does not implement (a rope scaling type,
 * an activation), is rejected with the supported values.
 *
 * @module
 */

import { z } from "zod";
import { isDirectory } from "../util/fs.ts";

/** Families this project implements, keyed by `model_type`. */
export const SUPPORTED_MODEL_TYPES = ["llama", "opt", "gpt2"] as const;
export type ModelFamily = (typeof SUPPORTED_MODEL_TYPES)[number];

/** Activations of the MLP (`gelu_new` is GPT-2's tanh approximation; `gelu` the exact erf form). */
export const ACTIVATIONS = ["silu", "relu", "gelu", "gelu_new"] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** Fields every family has, in one vocabulary. */
export interface ModelConfigBase {
  family: ModelFamily;
  vocabSize: number;
  /** width of the residual stream */
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** key/value heads (grouped-query attention); equals numHeads for OPT and GPT-2 */
  numKvHeads: number;
  headDim: number;
  /** width of the MLP's hidden layer */
  intermediateSize: number;
  /** longest sequence the position scheme supports */
  maxPositions: number;
  norm: "rmsnorm" | "layernorm";
  normEps: number;
  activation: Activation;
  /** lm_head shares the token embedding's weights */
  tiedEmbeddings: boolean;
  bosTokenId: number | null;
  /** end-of-sequence ids (Llama-3 lists several) */
  eosTokenIds: number[];
  /** the original config.json object, kept so a pruned checkpoint can be written back faithfully */
  raw: Readonly<Record<string, unknown>>;
}

/** Rotary embedding scaling of Llama-3.x (`rope_type: "llama3"`): frequency-dependent interpolation. */
export interface Llama3RopeScaling {
  type: "llama3";
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

/** Linear position interpolation (`rope_type: "linear"`): positions divided by `factor`. */
export interface LinearRopeScaling {
  type: "linear";
  factor: number;
}

export type RopeScaling = Llama3RopeScaling | LinearRopeScaling;

export interface LlamaConfig extends ModelConfigBase {
  family: "llama";
  norm: "rmsnorm";
  rope: { theta: number; scaling: RopeScaling | null };
  /** q/k/v/o projections have biases */
  attentionBias: boolean;
  /** gate/up/down projections have biases */
  mlpBias: boolean;
}

export interface OptConfig extends ModelConfigBase {
  family: "opt";
  norm: "layernorm";
  /** learned positions are looked up at position + 2 (a fairseq legacy) */
  positionOffset: 2;
  /** pre-LayerNorm blocks (true for all OPT sizes except 350m) */
  preLayerNorm: boolean;
  /** a final LayerNorm after the last block (pre-LN models only) */
  finalLayerNorm: boolean;
  /** width of the token embedding (512 for OPT-350m, else hiddenSize) */
  wordEmbedProjDim: number;
  /** project_in [hidden, wordEmbedProjDim] and project_out [wordEmbedProjDim, hidden] exist */
  projectInOut: boolean;
  /** all linear layers have biases */
  enableBias: boolean;
  /** LayerNorms have weight and bias */
  layerNormAffine: boolean;
}

export interface Gpt2Config extends ModelConfigBase {
  family: "gpt2";
  norm: "layernorm";
  /** weights are stored as Conv1D, i.e. [in, out] (transposed relative to nn.Linear) */
  conv1d: true;
}

/** The normalised configuration; narrow on `family` for the family-specific parts. */
export type ModelConfig = LlamaConfig | OptConfig | Gpt2Config;

const int = z.number().int().positive();
const tokenId = z.number().int().nonnegative().nullish();
const tokenIds = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]).nullish();

const ropeScalingSchema = z.object({
  rope_type: z.string().optional(),
  type: z.string().optional(),
  factor: z.number().positive().optional(),
  low_freq_factor: z.number().positive().optional(),
  high_freq_factor: z.number().positive().optional(),
  original_max_position_embeddings: int.optional(),
  rope_theta: z.number().positive().optional(), // transformers v5 `rope_parameters`
});

const llamaSchema = z.object({
  model_type: z.literal("llama"),
  vocab_size: int,
  hidden_size: int,
  intermediate_size: int,
  num_hidden_layers: int,
  num_attention_heads: int,
  num_key_value_heads: int.nullish(),
  head_dim: int.nullish(),
  max_position_embeddings: int.default(2048),
  rms_norm_eps: z.number().positive().default(1e-6),
  hidden_act: z.string().default("silu"),
  tie_word_embeddings: z.boolean().default(false),
  rope_theta: z.number().positive().optional(),
  rope_scaling: ropeScalingSchema.nullish(),
  rope_parameters: ropeScalingSchema.nullish(),
  attention_bias: z.boolean().default(false),
  mlp_bias: z.boolean().default(false),
  bos_token_id: tokenId,
  eos_token_id: tokenIds,
});

const optSchema = z.object({
  model_type: z.literal("opt"),
  vocab_size: int.default(50272),
  hidden_size: int.default(768),
  num_hidden_layers: int.default(12),
  ffn_dim: int.default(3072),
  num_attention_heads: int.default(12),
  max_position_embeddings: int.default(2048),
  do_layer_norm_before: z.boolean().default(true),
  _remove_final_layer_norm: z.boolean().default(false),
  word_embed_proj_dim: int.nullish(),
  activation_function: z.string().default("relu"),
  enable_bias: z.boolean().default(true),
  layer_norm_elementwise_affine: z.boolean().default(true),
  tie_word_embeddings: z.boolean().default(true),
  bos_token_id: tokenId.default(2),
  eos_token_id: tokenIds.default(2),
});

const gpt2Schema = z.object({
  model_type: z.literal("gpt2"),
  vocab_size: int.default(50257),
  n_positions: int.default(1024),
  n_embd: int.default(768),
  n_layer: int.default(12),
  n_head: int.default(12),
  n_inner: int.nullish(),
  activation_function: z.string().default("gelu_new"),
  layer_norm_epsilon: z.number().positive().default(1e-5),
  tie_word_embeddings: z.boolean().default(true),
  scale_attn_weights: z.boolean().default(true),
  scale_attn_by_inverse_layer_idx: z.boolean().default(false),
  bos_token_id: tokenId.default(50256),
  eos_token_id: tokenIds.default(50256),
});

type Raw = Record<string, unknown>;

function fail(source: string, family: string, message: string): never {
  throw new Error(`${source} (${family}): ${message}`);
}

function parseWith<S extends z.ZodType>(schema: S, raw: Raw, source: string, family: string): z.infer<S> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => {
      const key = i.path.join(".") || "(root)";
      return `${key}: ${i.message} (found ${JSON.stringify(valueAt(raw, i.path))})`;
    });
    fail(source, family, issues.join("; "));
  }
  return result.data;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const key of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[key];
  return v;
}

function activationOf(name: string, source: string, family: string): Activation {
  if (!(ACTIVATIONS as readonly string[]).includes(name)) {
    fail(source, family, `activation "${name}" is not supported; supported: ${ACTIVATIONS.join(", ")}`);
  }
  return name as Activation;
}

function eosList(eos: number | number[] | null | undefined): number[] {
  if (eos === null || eos === undefined) return [];
  return Array.isArray(eos) ? eos : [eos];
}

function checkHeads(source: string, family: string, hidden: number, heads: number, headDim?: number | null): number {
  if (headDim) return headDim;
  if (hidden % heads !== 0) {
    fail(source, family, `hidden size ${hidden} is not divisible by ${heads} attention heads`);
  }
  return hidden / heads;
}

const SUPPORTED_ROPE_TYPES = ["default", "linear", "llama3"];

function normaliseLlama(raw: Raw, source: string): LlamaConfig {
  const c = parseWith(llamaSchema, raw, source, "llama");
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  if (c.num_attention_heads % numKvHeads !== 0) {
    fail(
      source,
      "llama",
      `num_attention_heads ${c.num_attention_heads} is not a multiple of num_key_value_heads ${numKvHeads}`,
    );
  }
  const headDim = checkHeads(source, "llama", c.hidden_size, c.num_attention_heads, c.head_dim);
  // transformers ≤ 4.x: rope_theta + rope_scaling; transformers 5: rope_parameters {rope_type, rope_theta, …}
  const params = c.rope_scaling ?? c.rope_parameters ?? null;
  const theta = c.rope_theta ?? c.rope_parameters?.rope_theta ?? 10000;
  let scaling: RopeScaling | null = null;
  if (params) {
    const type = params.rope_type ?? params.type ?? "default";
    const need = (key: keyof typeof params): number => {
      const v = params[key];
      if (typeof v !== "number") {
        fail(source, "llama", `rope_scaling type "${type}" needs ${String(key)} (found ${JSON.stringify(v)})`);
      }
      return v;
    };
    if (type === "linear") {
      scaling = { type: "linear", factor: need("factor") };
    } else if (type === "llama3") {
      scaling = {
        type: "llama3",
        factor: need("factor"),
        lowFreqFactor: need("low_freq_factor"),
        highFreqFactor: need("high_freq_factor"),
        originalMaxPositions: need("original_max_position_embeddings"),
      };
      if (scaling.highFreqFactor <= scaling.lowFreqFactor) {
        fail(
          source,
          "llama",
          `rope_scaling high_freq_factor ${scaling.highFreqFactor} must exceed low_freq_factor ${scaling.lowFreqFactor}`,
        );
      }
    } else if (type !== "default") {
      fail(
        source,
        "llama",
        `rope_scaling type "${type}" is not supported; supported: ${SUPPORTED_ROPE_TYPES.join(", ")}`,
      );
    }
  }
  return {
    family: "llama",
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads,
    headDim,
    intermediateSize: c.intermediate_size,
    maxPositions: c.max_position_embeddings,
    norm: "rmsnorm",
    normEps: c.rms_norm_eps,
    activation: activationOf(c.hidden_act, source, "llama"),
    tiedEmbeddings: c.tie_word_embeddings,
    bosTokenId: c.bos_token_id ?? null,
    eosTokenIds: eosList(c.eos_token_id),
    raw,
    rope: { theta, scaling },
    attentionBias: c.attention_bias,
    mlpBias: c.mlp_bias,
  };
}

function normaliseOpt(raw: Raw, source: string): OptConfig {
  const c = parseWith(optSchema, raw, source, "opt");
  const headDim = checkHeads(source, "opt", c.hidden_size, c.num_attention_heads);
  const wordEmbedProjDim = c.word_embed_proj_dim ?? c.hidden_size;
  return {
    family: "opt",
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads: c.num_attention_heads,
    headDim,
    intermediateSize: c.ffn_dim,
    maxPositions: c.max_position_embeddings,
    norm: "layernorm",
    normEps: 1e-5, // nn.LayerNorm's default; OPT's config has no epsilon key
    activation: activationOf(c.activation_function, source, "opt"),
    tiedEmbeddings: c.tie_word_embeddings,
    bosTokenId: c.bos_token_id ?? null,
    eosTokenIds: eosList(c.eos_token_id),
    raw,
    positionOffset: 2,
    preLayerNorm: c.do_layer_norm_before,
    finalLayerNorm: c.do_layer_norm_before && !c._remove_final_layer_norm,
    wordEmbedProjDim,
    projectInOut: wordEmbedProjDim !== c.hidden_size,
    enableBias: c.enable_bias,
    layerNormAffine: c.layer_norm_elementwise_affine,
  };
}

function normaliseGpt2(raw: Raw, source: string): Gpt2Config {
  const c = parseWith(gpt2Schema, raw, source, "gpt2");
  if (!c.scale_attn_weights) fail(source, "gpt2", "scale_attn_weights false is not supported; expected true");
  if (c.scale_attn_by_inverse_layer_idx) {
    fail(source, "gpt2", "scale_attn_by_inverse_layer_idx true is not supported; expected false");
  }
  const headDim = checkHeads(source, "gpt2", c.n_embd, c.n_head);
  return {
    family: "gpt2",
    vocabSize: c.vocab_size,
    hiddenSize: c.n_embd,
    numLayers: c.n_layer,
    numHeads: c.n_head,
    numKvHeads: c.n_head,
    headDim,
    intermediateSize: c.n_inner ?? 4 * c.n_embd,
    maxPositions: c.n_positions,
    norm: "layernorm",
    normEps: c.layer_norm_epsilon,
    activation: activationOf(c.activation_function, source, "gpt2"),
    tiedEmbeddings: c.tie_word_embeddings,
    bosTokenId: c.bos_token_id ?? null,
    eosTokenIds: eosList(c.eos_token_id),
    raw,
    conv1d: true,
  };
}

/** The one table of family normalisers. */
const NORMALISERS: Record<ModelFamily, (raw: Raw, source: string) => ModelConfig> = {
  llama: normaliseLlama,
  opt: normaliseOpt,
  gpt2: normaliseGpt2,
};

/**
 * Normalises a parsed `config.json` object.
 *
 * @param raw the JSON object
 * @param source where it came from, for error messages
 * @returns the {@link ModelConfig} of its family
 * @throws Error naming the source for an unsupported `model_type` (listing the supported ones), a
 *   missing or mistyped key, or a setting the forward pass does not implement
 * @example
 * ```ts
 * const config = parseConfig({ model_type: "gpt2", n_embd: 64, n_layer: 2, n_head: 4 });
 * config.intermediateSize; // 256 (n_inner defaults to 4·n_embd)
 * ```
 */
export function parseConfig(raw: unknown, source = "config.json"): ModelConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`${source}: expected a JSON object`);
  }
  const modelType = (raw as Raw).model_type;
  if (typeof modelType !== "string" || !Object.hasOwn(NORMALISERS, modelType)) {
    throw new Error(
      `${source}: model_type ${JSON.stringify(modelType)} is not supported; supported: ${
        SUPPORTED_MODEL_TYPES.join(", ")
      }`,
    );
  }
  return NORMALISERS[modelType as ModelFamily](raw as Raw, source);
}

/**
 * Reads and normalises `config.json`.
 *
 * @param pathOrDir the file, or a checkpoint directory that holds it
 * @returns the normalised config
 * @throws Error when the file is missing or is not valid JSON, or as {@link parseConfig}
 * @example
 * ```ts
 * const config = await loadConfig("models/tiny-llama");
 * console.log(config.family, config.numLayers);
 * ```
 */
export async function loadConfig(pathOrDir: string): Promise<ModelConfig> {
  const path = (await isDirectory(pathOrDir)) ? `${pathOrDir.replace(/\/+$/, "")}/config.json` : pathOrDir;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new Error(`config: ${path} not found`);
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return parseConfig(json, path);
}
