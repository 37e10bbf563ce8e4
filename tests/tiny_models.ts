/**
 * Tiny random-weight checkpoints in the Hugging Face layout, written by tests: one config.json
 * per variant the forward pass must handle (GQA, rope_scaling llama3 / linear, biases, tied and
 * untied heads, OPT post-LN with project_in/out, GPT-2 Conv1D) and a model.safetensors of seeded
 * random tensors with the names and shapes the config implies.
 */

import { join } from "node:path";
import { specialAddedTokens } from "../thanos/data/tokenizer.ts";
import { parseConfig } from "../thanos/model/config.ts";
import { modelLayout } from "../thanos/model/layout.ts";
import { writeSafetensors } from "../thanos/model/safetensors.ts";
import type { Weights } from "./reference/forward.ts";
import { randn } from "./util.ts";

/** config.json objects of the tiny test models, by variant name. */
export const TINY_CONFIGS: Record<string, Record<string, unknown>> = {
  // GQA (4 query heads share 2 kv heads), untied lm_head, no biases — TinyLlama's shape of config
  "llama-gqa": {
    model_type: "llama",
    vocab_size: 67,
    hidden_size: 32,
    intermediate_size: 48,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 64,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    rope_scaling: null,
    hidden_act: "silu",
    tie_word_embeddings: false,
  },
  // Llama-3.x: rope_scaling llama3 (all three frequency bands occur for head_dim 8, original
  // context 64), tied embeddings, attention and MLP biases, multi-query attention
  "llama3-tied": {
    model_type: "llama",
    vocab_size: 59,
    hidden_size: 32,
    intermediate_size: 40,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 1,
    max_position_embeddings: 128,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    rope_scaling: {
      rope_type: "llama3",
      factor: 8,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 64,
    },
    hidden_act: "silu",
    tie_word_embeddings: true,
    attention_bias: true,
    mlp_bias: true,
  },
  // linear rope scaling, head_dim 12 with hidden 32 (q width 48 ≠ hidden), plain MHA
  "llama-linear": {
    model_type: "llama",
    vocab_size: 41,
    hidden_size: 32,
    intermediate_size: 24,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    num_key_value_heads: 4,
    head_dim: 12,
    max_position_embeddings: 64,
    rms_norm_eps: 1e-5,
    rope_theta: 500000,
    rope_scaling: { type: "linear", factor: 2 },
    hidden_act: "silu",
    tie_word_embeddings: false,
  },
  // OPT-125m's shape: pre-LN, tied, ReLU, biases
  "opt-pre-ln": {
    model_type: "opt",
    vocab_size: 53,
    hidden_size: 32,
    ffn_dim: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    max_position_embeddings: 32,
    do_layer_norm_before: true,
    word_embed_proj_dim: 32,
    activation_function: "relu",
    tie_word_embeddings: true,
  },
  // OPT-350m's shape: post-LN (no final LayerNorm), project_in/out (word_embed_proj_dim 16)
  "opt-post-ln-proj": {
    model_type: "opt",
    vocab_size: 47,
    hidden_size: 32,
    ffn_dim: 48,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    max_position_embeddings: 32,
    do_layer_norm_before: false,
    word_embed_proj_dim: 16,
    activation_function: "relu",
    tie_word_embeddings: true,
  },
  // GPT-2: Conv1D weights, fused c_attn, gelu_new, tied wte
  "gpt2": {
    model_type: "gpt2",
    vocab_size: 61,
    n_embd: 32,
    n_layer: 2,
    n_head: 4,
    n_positions: 32,
    n_inner: null,
    activation_function: "gelu_new",
    layer_norm_epsilon: 1e-5,
    tie_word_embeddings: true,
  },
  // GPT-2 over a byte-level vocabulary (ids 0..255 = bytes), written with a tokenizer.json
  "gpt2-bytes": {
    model_type: "gpt2",
    vocab_size: 256,
    n_embd: 16,
    n_layer: 1,
    n_head: 2,
    n_positions: 64,
    n_inner: null,
    activation_function: "gelu_new",
    layer_norm_epsilon: 1e-5,
    tie_word_embeddings: true,
  },
  // GPT-2 with an untied lm_head and exact-erf GELU
  "gpt2-untied": {
    model_type: "gpt2",
    vocab_size: 37,
    n_embd: 24,
    n_layer: 1,
    n_head: 3,
    n_positions: 32,
    n_inner: 40,
    activation_function: "gelu",
    layer_norm_epsilon: 1e-5,
    tie_word_embeddings: false,
  },
};

/**
 * Seeded random tensors for a config: norm gains near 1, biases and matrices small enough that
 * activations stay O(1) through the blocks.
 */
export function randomWeights(rawConfig: Record<string, unknown>, seed: number): Weights {
  const layout = modelLayout(parseConfig(rawConfig));
  const weights: Weights = new Map();
  layout.tensors.forEach(({ name, shape }, i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const r = randn(n, seed * 1000 + i);
    const isNorm = /norm|ln_|layer_norm/.test(name);
    if (shape.length === 1) {
      weights.set(name, isNorm && name.endsWith("weight") ? r.map((v) => 1 + 0.1 * v) : r.map((v) => 0.1 * v));
    } else {
      const fanIn = name.includes("embed") || name.includes("wte") || name.includes("wpe") ? 1 : Math.min(...shape);
      weights.set(name, r.map((v) => v / Math.sqrt(fanIn)));
    }
  });
  return weights;
}

/** GPT-2's reversible byte → printable character map (the byte-level BPE alphabet). */
function bytesToUnicode(): string[] {
  const map: string[] = [];
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  for (let b = 0; b < 256; b++) if (printable(b)) map[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (map[b] === undefined) map[b] = String.fromCharCode(256 + n++);
  return map;
}

/**
 * A byte-level BPE tokenizer.json in GPT-2's layout: ids 0..255 are the bytes, then one id per
 * merge, then the special tokens. Without options: no merges, token id = byte value (256 ids).
 * @param options `merges` (pairs of tokens), `special` tokens, a `postProcessor`
 */
export function byteTokenizerJson(
  options: { merges?: [string, string][]; special?: string[]; postProcessor?: unknown } = {},
) {
  const { merges = [], special = [], postProcessor = null } = options;
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((s, i) => (vocab[s] = i));
  merges.forEach(([a, b], r) => (vocab[a + b] = 256 + r));
  special.forEach((s, i) => (vocab[s] = 256 + merges.length + i));
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specialAddedTokens(special, vocab),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: postProcessor,
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/**
 * Writes a checkpoint directory (config.json + model.safetensors, and a byte-level tokenizer.json
 * when the vocabulary has 256 ids) under `parent`.
 * @returns its path and the weights written
 */
export async function writeTinyCheckpoint(
  parent: string,
  variant: string,
  seed = 1,
): Promise<{ dir: string; config: Record<string, unknown>; weights: Weights }> {
  const config = TINY_CONFIGS[variant];
  const dir = join(parent, variant);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config, null, 2));
  const weights = randomWeights(config, seed);
  const layout = modelLayout(parseConfig(config));
  await writeSafetensors(
    join(dir, "model.safetensors"),
    new Map(
      layout.tensors.map(({ name, shape }) => [name, { dtype: "F32" as const, shape, data: weights.get(name)! }]),
    ),
    { metadata: { format: "pt" } },
  );
  if (config.vocab_size === 256) {
    await Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify(byteTokenizerJson()));
  }
  return { dir, config, weights };
}
