/**
 * Random-weight LLaMA checkpoints with a real model's widths, for the benchmarks that need a model
 * larger than the bundled fixtures and cannot download one (bench:generate, bench:scale, bench:gpu).
 *
 * Widths come from the published configs (TinyLlama-1.1B-Chat-v1.0, Llama-2-7b-hf); only the number
 * of decoder blocks is cut. Norm weights are 1, every other weight N(0, 0.02²) (the configs'
 * `initializer_range`) drawn from a seeded generator, so a run can be repeated exactly. The bundled
 * 4096-token tokenizer (models/tokenizer.json) is copied in so the CLI tasks can tokenize their
 * corpora: its ids are a prefix of the model's vocabulary, the rest of the embedding rows are unused.
 *
 * ```sh
 * deno run -A tools/random_model.ts --preset llama-2-7b --layers 1 --dtype F16 --out /tmp/l7b
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { writeCheckpoint } from "../thanos/model/checkpoint.ts";
import { parseConfig } from "../thanos/model/config.ts";
import { modelLayout } from "../thanos/model/layout.ts";
import { randn } from "../thanos/util/random.ts";
import { stringFlags } from "../bench/flags.ts";

/** The widths of the models the paper and the benchmarks name (Hugging Face config fields). */
export const PRESETS = {
  /** TinyLlama/TinyLlama-1.1B-Chat-v1.0: 22 blocks in the real model */
  "tinyllama-1.1b": {
    hidden_size: 2048,
    intermediate_size: 5632,
    num_attention_heads: 32,
    num_key_value_heads: 4,
    vocab_size: 32000,
    max_position_embeddings: 2048,
  },
  /** meta-llama/Llama-2-7b-hf: 32 blocks in the real model */
  "llama-2-7b": {
    hidden_size: 4096,
    intermediate_size: 11008,
    num_attention_heads: 32,
    num_key_value_heads: 32,
    vocab_size: 32000,
    max_position_embeddings: 4096,
  },
  /** a small stand-in with the same structure (for llvmpipe runs of the scale benchmarks) */
  "small": {
    hidden_size: 512,
    intermediate_size: 1376,
    num_attention_heads: 8,
    num_key_value_heads: 8,
    vocab_size: 4096,
    max_position_embeddings: 512,
  },
} as const;

export type Preset = keyof typeof PRESETS;

/** Options of {@link writeRandomLlama}. */
export interface RandomModelOptions {
  preset: Preset;
  /** decoder blocks (default 2) */
  layers?: number;
  /** storage dtype (default F32) */
  dtype?: "F32" | "F16" | "BF16";
  /** seed of the weights (default 0) */
  seed?: number;
  /** copy the bundled tokenizer in (default true) */
  tokenizer?: boolean;
}

/** The config.json of a random model with `preset`'s widths and `layers` blocks. */
export function randomLlamaConfig(preset: Preset, layers: number): Record<string, unknown> {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    ...PRESETS[preset],
    num_hidden_layers: layers,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    hidden_act: "silu",
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
    initializer_range: 0.02,
  };
}

/**
 * Writes a random-weight LLaMA checkpoint to `dir` (which must not exist), one tensor in memory at a
 * time. Returns the number of parameters.
 */
export async function writeRandomLlama(dir: string, options: RandomModelOptions): Promise<number> {
  const { preset, layers = 2, dtype = "F32", seed = 0, tokenizer = true } = options;
  if (!(preset in PRESETS)) {
    throw new Error(`random model: unknown preset "${preset}"; expected one of ${Object.keys(PRESETS).join(", ")}`);
  }
  if (!Number.isInteger(layers) || layers < 1) {
    throw new Error(`random model: layers ${layers}; expected an integer ≥ 1`);
  }
  const config = randomLlamaConfig(preset, layers);
  const layout = modelLayout(parseConfig(config));
  let parameters = 0;
  const tensors = new Map(layout.tensors.map(({ name, shape }, i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    parameters += n;
    const data = () => {
      if (name.endsWith("norm.weight")) return new Float32Array(n).fill(1);
      const w = randn(n, seed * 100003 + i + 1);
      for (let j = 0; j < n; j++) w[j] *= 0.02;
      return w;
    };
    return [name, { dtype: "F32" as const, shape, data }];
  }));
  const root = new URL("../models/", import.meta.url).pathname;
  await writeCheckpoint(dir, {
    config,
    tensors,
    dtype,
    tokenizer: tokenizer ? join(root, "tokenizer.json") : null,
  });
  return parameters;
}

if (import.meta.main) {
  const values = stringFlags(Deno.args, {
    preset: "tinyllama-1.1b",
    layers: "2",
    dtype: "F32",
    seed: "0",
    out: undefined,
  });
  if (!values.out) {
    console.error("random_model: --out DIR is required");
    Deno.exit(2);
  }
  const dtype = values.dtype.toUpperCase();
  if (dtype !== "F32" && dtype !== "F16" && dtype !== "BF16") {
    console.error(`random_model: --dtype ${values.dtype}; expected F32, F16 or BF16`);
    Deno.exit(2);
  }
  try {
    const n = await writeRandomLlama(values.out, {
      preset: values.preset as Preset,
      layers: Number(values.layers),
      dtype,
      seed: Number(values.seed),
    });
    console.error(`wrote ${join(values.out, "model.safetensors")}: ${(n / 1e6).toFixed(1)}M parameters, ${dtype}`);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
}
