/**
 * Per-family tables of tensor names: which tensors a checkpoint holds, their shapes as the config
 * implies them, and every linear layer of every block in the order a forward pass uses it.
 *
 * A linear layer computes `y = x Wᵀ + b` with W of shape [outFeatures, inFeatures]. GPT-2 stores its
 * weights as Conv1D, i.e. [inFeatures, outFeatures]; those layers are marked `transposed`. GPT-2's
 * fused `attn.c_attn` is ONE layer [3·d, d] for pruning, as in the reference Thanos/Wanda/SparseGPT
 * code, which prunes every nn.Linear / Conv1D module of a block.
 *
 * Checkpoints name tensors with or without the wrapper module's prefix (`model.layers.0…` from
 * LlamaForCausalLM, `layers.0…` from LlamaModel); {@link detectPrefix} finds which one a file uses.
 *
 * @module
 */

import type { Gpt2Config, LlamaConfig, ModelConfig, ModelFamily, OptConfig } from "./config.ts";

/** One prunable linear layer. */
export interface LinearLayer {
  /** module path inside the block (or model), e.g. "self_attn.q_proj", "attn.c_attn" */
  name: string;
  /** tensor name of the weight, e.g. "model.layers.0.self_attn.q_proj.weight" */
  weight: string;
  /** tensor name of the bias, or null */
  bias: string | null;
  /** stored as [inFeatures, outFeatures] (GPT-2 Conv1D) instead of [outFeatures, inFeatures] */
  transposed: boolean;
  outFeatures: number;
  inFeatures: number;
  /**
   * Which activation feeds this layer; layers of a block with the same `input` see the same X
   * (q/k/v share one, gate/up share one), so their calibration statistics are identical.
   * One of "attn_in", "attn_out", "mlp_in", "mlp_hidden", or "model" for project_in/out.
   */
  input: string;
}

/** A normalisation layer (RMSNorm: weight only; LayerNorm: weight and bias, or neither). */
export interface NormLayer {
  /** module path, e.g. "input_layernorm" */
  name: string;
  kind: "rmsnorm" | "layernorm";
  weight: string | null;
  bias: string | null;
  size: number;
  eps: number;
}

/** One decoder block. */
export interface BlockLayout {
  index: number;
  /** tensor name prefix of the block, e.g. "model.layers.3." */
  prefix: string;
  /**
   * The norm around attention: before it in pre-LN blocks (Llama, GPT-2, OPT except 350m),
   * after the residual add in post-LN blocks (OPT-350m).
   */
  attentionNorm: NormLayer;
  /** The norm around the MLP, placed like attentionNorm. */
  mlpNorm: NormLayer;
  /** every linear layer, in forward order */
  linears: LinearLayer[];
}

/** A tensor the checkpoint must hold, with the shape the config implies (as stored). */
export interface ExpectedTensor {
  name: string;
  shape: number[];
}

export interface EmbeddingLayout {
  name: string;
  shape: [number, number];
}

/** Everything the forward pass and the loader need to know about tensor names. */
export interface ModelLayout {
  family: ModelFamily;
  /** prefix of the wrapped model's tensors ("model.", "model.decoder.", "transformer." or "") */
  prefix: string;
  tokenEmbedding: EmbeddingLayout;
  /** learned positions (OPT: looked up at position + offset), or null for rotary models */
  positionEmbedding: (EmbeddingLayout & { offset: number }) | null;
  /** OPT-350m's embedding projections (not pruned: the reference prunes decoder blocks only) */
  projectIn: LinearLayer | null;
  projectOut: LinearLayer | null;
  finalNorm: NormLayer | null;
  /** the output projection; `tied` → use tokenEmbedding's weight (name then equals it) */
  lmHead: { weight: string; tied: boolean; shape: [number, number] };
  blocks: BlockLayout[];
  /** every tensor the model needs, stored shapes, in a stable order */
  tensors: ExpectedTensor[];
}

/** Prefixes a checkpoint may use for each family, most common first. */
export const PREFIXES: Record<ModelFamily, readonly string[]> = {
  llama: ["model.", ""],
  opt: ["model.decoder.", "decoder."],
  gpt2: ["transformer.", ""],
};

/** Token-embedding tensor (relative to the prefix) that identifies a prefix. */
const EMBEDDING: Record<ModelFamily, string> = {
  llama: "embed_tokens.weight",
  opt: "embed_tokens.weight",
  gpt2: "wte.weight",
};

/**
 * Finds the prefix a checkpoint's tensor names use.
 * @param family the model family
 * @param names every tensor name in the checkpoint
 * @returns one of {@link PREFIXES}[family]
 * @throws Error listing the token-embedding names looked for when none is present
 * @example
 * ```ts
 * detectPrefix("gpt2", ["wte.weight", "h.0.attn.c_attn.weight"]); // ""
 * ```
 */
export function detectPrefix(family: ModelFamily, names: Iterable<string>): string {
  const set = new Set(names);
  for (const prefix of PREFIXES[family]) if (set.has(prefix + EMBEDDING[family])) return prefix;
  const tried = PREFIXES[family].map((p) => `"${p}${EMBEDDING[family]}"`).join(" or ");
  throw new Error(`${family} checkpoint: no token embedding found; expected a tensor named ${tried}`);
}

function linear(
  block: string,
  name: string,
  outFeatures: number,
  inFeatures: number,
  bias: boolean,
  input: string,
  transposed = false,
): LinearLayer {
  return {
    name,
    weight: `${block}${name}.weight`,
    bias: bias ? `${block}${name}.bias` : null,
    transposed,
    outFeatures,
    inFeatures,
    input,
  };
}

function norm(
  prefix: string,
  name: string,
  kind: "rmsnorm" | "layernorm",
  size: number,
  eps: number,
  affine = true,
): NormLayer {
  return {
    name,
    kind,
    weight: affine ? `${prefix}${name}.weight` : null,
    bias: affine && kind === "layernorm" ? `${prefix}${name}.bias` : null,
    size,
    eps,
  };
}

function llamaBlocks(c: LlamaConfig, prefix: string): BlockLayout[] {
  const d = c.hiddenSize, q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim, f = c.intermediateSize;
  return Array.from({ length: c.numLayers }, (_, i) => {
    const b = `${prefix}layers.${i}.`;
    return {
      index: i,
      prefix: b,
      attentionNorm: norm(b, "input_layernorm", "rmsnorm", d, c.normEps),
      mlpNorm: norm(b, "post_attention_layernorm", "rmsnorm", d, c.normEps),
      linears: [
        linear(b, "self_attn.q_proj", q, d, c.attentionBias, "attn_in"), // [nh·hd, d]
        linear(b, "self_attn.k_proj", kv, d, c.attentionBias, "attn_in"), // [nkv·hd, d]
        linear(b, "self_attn.v_proj", kv, d, c.attentionBias, "attn_in"), // [nkv·hd, d]
        linear(b, "self_attn.o_proj", d, q, c.attentionBias, "attn_out"), // [d, nh·hd]
        linear(b, "mlp.gate_proj", f, d, c.mlpBias, "mlp_in"), // [f, d]
        linear(b, "mlp.up_proj", f, d, c.mlpBias, "mlp_in"), // [f, d]
        linear(b, "mlp.down_proj", d, f, c.mlpBias, "mlp_hidden"), // [d, f]
      ],
    };
  });
}

function optBlocks(c: OptConfig, prefix: string): BlockLayout[] {
  const d = c.hiddenSize, f = c.intermediateSize, bias = c.enableBias;
  return Array.from({ length: c.numLayers }, (_, i) => {
    const b = `${prefix}layers.${i}.`;
    return {
      index: i,
      prefix: b,
      attentionNorm: norm(b, "self_attn_layer_norm", "layernorm", d, c.normEps, c.layerNormAffine),
      mlpNorm: norm(b, "final_layer_norm", "layernorm", d, c.normEps, c.layerNormAffine),
      linears: [
        linear(b, "self_attn.q_proj", d, d, bias, "attn_in"), // [d, d]
        linear(b, "self_attn.k_proj", d, d, bias, "attn_in"),
        linear(b, "self_attn.v_proj", d, d, bias, "attn_in"),
        linear(b, "self_attn.out_proj", d, d, bias, "attn_out"),
        linear(b, "fc1", f, d, bias, "mlp_in"), // [f, d]
        linear(b, "fc2", d, f, bias, "mlp_hidden"), // [d, f]
      ],
    };
  });
}

function gpt2Blocks(c: Gpt2Config, prefix: string): BlockLayout[] {
  const d = c.hiddenSize, f = c.intermediateSize;
  return Array.from({ length: c.numLayers }, (_, i) => {
    const b = `${prefix}h.${i}.`;
    return {
      index: i,
      prefix: b,
      attentionNorm: norm(b, "ln_1", "layernorm", d, c.normEps),
      mlpNorm: norm(b, "ln_2", "layernorm", d, c.normEps),
      linears: [
        linear(b, "attn.c_attn", 3 * d, d, true, "attn_in", true), // stored [d, 3d]
        linear(b, "attn.c_proj", d, d, true, "attn_out", true), // stored [d, d]
        linear(b, "mlp.c_fc", f, d, true, "mlp_in", true), // stored [d, f]
        linear(b, "mlp.c_proj", d, f, true, "mlp_hidden", true), // stored [f, d]
      ],
    };
  });
}

/**
 * Stored shape of a linear layer's weight.
 * @param layer a linear layer of a {@link ModelLayout}
 * @returns [outFeatures, inFeatures], or [inFeatures, outFeatures] for GPT-2's Conv1D
 * @example
 * ```ts
 * storedShape(layout.blocks[0].linears[0]); // gpt2: [768, 2304] for attn.c_attn
 * ```
 */
export function storedShape(layer: LinearLayer): [number, number] {
  return layer.transposed ? [layer.inFeatures, layer.outFeatures] : [layer.outFeatures, layer.inFeatures];
}

/**
 * Builds the tensor-name table of a model.
 *
 * @param config the normalised config
 * @param prefix the checkpoint's prefix (see {@link detectPrefix}); defaults to the one
 *   `save_pretrained` of the *ForCausalLM / LMHead model writes
 * @returns embeddings, norms, lm_head, every block's linear layers in forward order, and the full
 *   list of expected tensors with their stored shapes
 * @example
 * ```ts
 * const layout = modelLayout(await loadConfig("models/tiny-llama"));
 * for (const layer of layout.blocks[0].linears) console.log(layer.weight, layer.outFeatures, layer.inFeatures);
 * ```
 */
export function modelLayout(config: ModelConfig, prefix: string = PREFIXES[config.family][0]): ModelLayout {
  if (!PREFIXES[config.family].includes(prefix)) {
    throw new RangeError(
      `modelLayout: prefix "${prefix}" is not one of ${
        PREFIXES[config.family].map((p) => `"${p}"`).join(", ")
      } for ${config.family}`,
    );
  }
  const v = config.vocabSize, d = config.hiddenSize;
  let layout: Omit<ModelLayout, "tensors">;
  switch (config.family) {
    case "llama": {
      const emb = `${prefix}embed_tokens.weight`;
      layout = {
        family: "llama",
        prefix,
        tokenEmbedding: { name: emb, shape: [v, d] },
        positionEmbedding: null,
        projectIn: null,
        projectOut: null,
        finalNorm: norm(prefix, "norm", "rmsnorm", d, config.normEps),
        lmHead: { weight: config.tiedEmbeddings ? emb : "lm_head.weight", tied: config.tiedEmbeddings, shape: [v, d] },
        blocks: llamaBlocks(config, prefix),
      };
      break;
    }
    case "opt": {
      const p = config.wordEmbedProjDim;
      const emb = `${prefix}embed_tokens.weight`;
      layout = {
        family: "opt",
        prefix,
        tokenEmbedding: { name: emb, shape: [v, p] },
        positionEmbedding: {
          name: `${prefix}embed_positions.weight`,
          shape: [config.maxPositions + config.positionOffset, d],
          offset: config.positionOffset,
        },
        projectIn: config.projectInOut ? linear(prefix, "project_in", d, p, false, "model") : null, // [d, p]
        projectOut: config.projectInOut ? linear(prefix, "project_out", p, d, false, "model") : null, // [p, d]
        finalNorm: config.finalLayerNorm
          ? norm(prefix, "final_layer_norm", "layernorm", d, config.normEps, config.layerNormAffine)
          : null,
        lmHead: { weight: config.tiedEmbeddings ? emb : "lm_head.weight", tied: config.tiedEmbeddings, shape: [v, p] },
        blocks: optBlocks(config, prefix),
      };
      break;
    }
    case "gpt2": {
      const emb = `${prefix}wte.weight`;
      layout = {
        family: "gpt2",
        prefix,
        tokenEmbedding: { name: emb, shape: [v, d] },
        positionEmbedding: { name: `${prefix}wpe.weight`, shape: [config.maxPositions, d], offset: 0 },
        projectIn: null,
        projectOut: null,
        finalNorm: norm(prefix, "ln_f", "layernorm", d, config.normEps),
        lmHead: { weight: config.tiedEmbeddings ? emb : "lm_head.weight", tied: config.tiedEmbeddings, shape: [v, d] },
        blocks: gpt2Blocks(config, prefix),
      };
      break;
    }
  }
  return { ...layout, tensors: expectedTensors(layout) };
}

function expectedTensors(layout: Omit<ModelLayout, "tensors">): ExpectedTensor[] {
  const out: ExpectedTensor[] = [];
  const addNorm = (n: NormLayer | null) => {
    if (n?.weight) out.push({ name: n.weight, shape: [n.size] });
    if (n?.bias) out.push({ name: n.bias, shape: [n.size] });
  };
  const addLinear = (l: LinearLayer | null) => {
    if (!l) return;
    out.push({ name: l.weight, shape: storedShape(l) });
    if (l.bias) out.push({ name: l.bias, shape: [l.outFeatures] });
  };
  out.push({ name: layout.tokenEmbedding.name, shape: [...layout.tokenEmbedding.shape] });
  if (layout.positionEmbedding) {
    out.push({ name: layout.positionEmbedding.name, shape: [...layout.positionEmbedding.shape] });
  }
  addLinear(layout.projectIn);
  for (const block of layout.blocks) {
    addNorm(block.attentionNorm);
    for (const l of block.linears) if (l.input.startsWith("attn")) addLinear(l);
    addNorm(block.mlpNorm);
    for (const l of block.linears) if (l.input.startsWith("mlp")) addLinear(l);
  }
  addNorm(layout.finalNorm);
  addLinear(layout.projectOut);
  if (!layout.lmHead.tied) out.push({ name: layout.lmHead.weight, shape: [...layout.lmHead.shape] });
  return out;
}
