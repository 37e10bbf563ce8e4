/**
 * Config normalisation and tensor layouts of the three families, on config.json samples copied
 * from the real checkpoints (TinyLlama-1.1B-Chat-v1.0, Llama-3.2-1B, OPT-125m, OPT-350m, gpt2).
 */
import { assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { loadConfig, parseConfig } from "../thanos/model/config.ts";
import { detectPrefix, modelLayout, storedShape } from "../thanos/model/layout.ts";

const TINYLLAMA = {
  architectures: ["LlamaForCausalLM"],
  attention_bias: false,
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: "silu",
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 5632,
  max_position_embeddings: 2048,
  model_type: "llama",
  num_attention_heads: 32,
  num_hidden_layers: 22,
  num_key_value_heads: 4,
  pretraining_tp: 1,
  rms_norm_eps: 1e-05,
  rope_scaling: null,
  rope_theta: 10000.0,
  tie_word_embeddings: false,
  torch_dtype: "bfloat16",
  transformers_version: "4.35.0",
  use_cache: true,
  vocab_size: 32000,
};

const LLAMA_32_1B = {
  architectures: ["LlamaForCausalLM"],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 128000,
  eos_token_id: 128001,
  head_dim: 64,
  hidden_act: "silu",
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: "llama",
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  pretraining_tp: 1,
  rms_norm_eps: 1e-05,
  rope_scaling: {
    factor: 32.0,
    high_freq_factor: 4.0,
    low_freq_factor: 1.0,
    original_max_position_embeddings: 8192,
    rope_type: "llama3",
  },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  transformers_version: "4.45.0.dev0",
  use_cache: true,
  vocab_size: 128256,
};

const OPT_125M = {
  _name_or_path: "facebook/opt-125m",
  activation_dropout: 0.0,
  activation_function: "relu",
  architectures: ["OPTForCausalLM"],
  attention_dropout: 0.0,
  bos_token_id: 2,
  do_layer_norm_before: true,
  dropout: 0.1,
  eos_token_id: 2,
  ffn_dim: 3072,
  hidden_size: 768,
  init_std: 0.02,
  layerdrop: 0.0,
  max_position_embeddings: 2048,
  model_type: "opt",
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 1,
  prefix: "</s>",
  torch_dtype: "float16",
  transformers_version: "4.21.0.dev0",
  use_cache: true,
  vocab_size: 50272,
  word_embed_proj_dim: 768,
};

const OPT_350M = {
  ...OPT_125M,
  _name_or_path: "facebook/opt-350m",
  do_layer_norm_before: false,
  ffn_dim: 4096,
  hidden_size: 1024,
  num_attention_heads: 16,
  num_hidden_layers: 24,
  word_embed_proj_dim: 512,
};

const GPT2 = {
  activation_function: "gelu_new",
  architectures: ["GPT2LMHeadModel"],
  attn_pdrop: 0.1,
  bos_token_id: 50256,
  embd_pdrop: 0.1,
  eos_token_id: 50256,
  initializer_range: 0.02,
  layer_norm_epsilon: 1e-05,
  model_type: "gpt2",
  n_ctx: 1024,
  n_embd: 768,
  n_head: 12,
  n_layer: 12,
  n_positions: 1024,
  resid_pdrop: 0.1,
  summary_activation: null,
  summary_first_dropout: 0.1,
  summary_proj_to_labels: true,
  summary_type: "cls_index",
  summary_use_proj: true,
  task_specific_params: { "text-generation": { do_sample: true, max_length: 50 } },
  vocab_size: 50257,
};

/** The common fields, for comparing without `raw` and the family parts. */
function common(c: ReturnType<typeof parseConfig>) {
  const { raw: _raw, ...rest } = c;
  return rest;
}

Deno.test("TinyLlama-1.1B normalises: GQA 32/4 heads, untied head, no rope scaling", () => {
  const c = parseConfig(TINYLLAMA);
  assertEquals(common(c), {
    family: "llama",
    vocabSize: 32000,
    hiddenSize: 2048,
    numLayers: 22,
    numHeads: 32,
    numKvHeads: 4,
    headDim: 64,
    intermediateSize: 5632,
    maxPositions: 2048,
    norm: "rmsnorm",
    normEps: 1e-5,
    activation: "silu",
    tiedEmbeddings: false,
    bosTokenId: 1,
    eosTokenIds: [2],
    rope: { theta: 10000, scaling: null },
    attentionBias: false,
    mlpBias: false,
  });
  assertEquals(c.raw, TINYLLAMA);
});

Deno.test("Llama-3.2-1B normalises: llama3 rope scaling, tied embeddings, explicit head_dim", () => {
  const c = parseConfig(LLAMA_32_1B);
  if (c.family !== "llama") throw new Error("expected llama");
  assertEquals(c.rope, {
    theta: 500000,
    scaling: { type: "llama3", factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 },
  });
  assertEquals([c.tiedEmbeddings, c.headDim, c.numKvHeads, c.maxPositions, c.bosTokenId], [
    true,
    64,
    8,
    131072,
    128000,
  ]);
  // Instruct variants list several end-of-sequence ids
  assertEquals(parseConfig({ ...LLAMA_32_1B, eos_token_id: [128001, 128008, 128009] }).eosTokenIds, [
    128001,
    128008,
    128009,
  ]);
  // linear scaling and the transformers-5 `rope_parameters` spelling
  const linear = parseConfig({ ...TINYLLAMA, rope_scaling: { type: "linear", factor: 4 } });
  assertEquals(linear.family === "llama" && linear.rope.scaling, { type: "linear", factor: 4 });
  const v5 = parseConfig({
    ...TINYLLAMA,
    rope_theta: undefined,
    rope_parameters: { rope_type: "default", rope_theta: 1e6 },
  });
  assertEquals(v5.family === "llama" && v5.rope, { theta: 1e6, scaling: null });
});

Deno.test("OPT-125m and OPT-350m normalise: position offset 2, pre/post-LN, project_in/out", () => {
  const small = parseConfig(OPT_125M);
  if (small.family !== "opt") throw new Error("expected opt");
  assertEquals(
    [small.hiddenSize, small.numHeads, small.headDim, small.intermediateSize, small.activation, small.normEps],
    [768, 12, 64, 3072, "relu", 1e-5],
  );
  assertEquals(
    [small.positionOffset, small.preLayerNorm, small.finalLayerNorm, small.projectInOut, small.tiedEmbeddings],
    [2, true, true, false, true],
  );
  assertEquals([small.enableBias, small.layerNormAffine, small.wordEmbedProjDim], [true, true, 768]);
  const c = parseConfig(OPT_350M);
  if (c.family !== "opt") throw new Error("expected opt");
  assertEquals([c.preLayerNorm, c.finalLayerNorm, c.wordEmbedProjDim, c.projectInOut], [false, false, 512, true]);
  const noBias = parseConfig({ ...OPT_125M, enable_bias: false, layer_norm_elementwise_affine: false });
  assertEquals(noBias.family === "opt" && [noBias.enableBias, noBias.layerNormAffine], [false, false]);
});

Deno.test("gpt2 normalises: Conv1D, n_inner = 4·n_embd, gelu_new, layer_norm_epsilon", () => {
  const c = parseConfig(GPT2);
  assertEquals(common(c), {
    family: "gpt2",
    vocabSize: 50257,
    hiddenSize: 768,
    numLayers: 12,
    numHeads: 12,
    numKvHeads: 12,
    headDim: 64,
    intermediateSize: 3072,
    maxPositions: 1024,
    norm: "layernorm",
    normEps: 1e-5,
    activation: "gelu_new",
    tiedEmbeddings: true,
    bosTokenId: 50256,
    eosTokenIds: [50256],
    conv1d: true,
  });
  assertEquals(parseConfig({ ...GPT2, n_inner: 1000 }).intermediateSize, 1000);
});

Deno.test("unsupported model types and settings are rejected with what is supported", () => {
  assertThrows(
    () => parseConfig({ model_type: "mistral" }),
    Error,
    'config.json: model_type "mistral" is not supported; supported: llama, opt, gpt2',
  );
  assertThrows(() => parseConfig({}, "x/config.json"), Error, "x/config.json: model_type undefined is not supported");
  assertThrows(() => parseConfig([1]), Error, "config.json: expected a JSON object");
  assertThrows(
    () => parseConfig({ ...TINYLLAMA, rope_scaling: { rope_type: "yarn", factor: 4 } }),
    Error,
    'config.json (llama): rope_scaling type "yarn" is not supported; supported: default, linear, llama3',
  );
  assertThrows(
    () => parseConfig({ ...LLAMA_32_1B, rope_scaling: { rope_type: "llama3", factor: 8 } }),
    Error,
    'config.json (llama): rope_scaling type "llama3" needs low_freq_factor (found undefined)',
  );
  assertThrows(
    () => parseConfig({ ...TINYLLAMA, hidden_act: "swiglu" }),
    Error,
    'config.json (llama): activation "swiglu" is not supported; supported: silu, relu, gelu, gelu_new',
  );
  assertThrows(
    () => parseConfig({ ...TINYLLAMA, num_attention_heads: undefined }),
    Error,
    "config.json (llama): num_attention_heads: Invalid input: expected number, received undefined (found undefined)",
  );
  assertThrows(
    () => parseConfig({ ...TINYLLAMA, hidden_size: "2048" }),
    Error,
    'config.json (llama): hidden_size: Invalid input: expected number, received string (found "2048")',
  );
  assertThrows(
    () => parseConfig({ ...TINYLLAMA, num_key_value_heads: 5 }),
    Error,
    "num_attention_heads 32 is not a multiple of num_key_value_heads 5",
  );
  assertThrows(
    () => parseConfig({ ...OPT_125M, hidden_size: 100 }),
    Error,
    "config.json (opt): hidden size 100 is not divisible by 12 attention heads",
  );
  assertThrows(
    () => parseConfig({ ...GPT2, scale_attn_by_inverse_layer_idx: true }),
    Error,
    "config.json (gpt2): scale_attn_by_inverse_layer_idx true is not supported; expected false",
  );
});

Deno.test("loadConfig reads a file or a directory and names what is missing", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(GPT2));
  assertEquals((await loadConfig(dir)).family, "gpt2");
  assertEquals((await loadConfig(`${dir}/config.json`)).numLayers, 12);
  await assertRejects(() => loadConfig(`${dir}/nope`), Error, `config: ${dir}/nope not found`);
  await Deno.writeTextFile(`${dir}/config.json`, "{");
  await assertRejects(() => loadConfig(dir), Error, `${dir}/config.json: not valid JSON`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("TinyLlama layout: 201 tensors, linears in forward order with GQA shapes", () => {
  const layout = modelLayout(parseConfig(TINYLLAMA));
  assertEquals(layout.tensors.length, 1 + 22 * 9 + 1 + 1);
  assertEquals(layout.lmHead, { weight: "lm_head.weight", tied: false, shape: [32000, 2048] });
  assertEquals(layout.finalNorm?.weight, "model.norm.weight");
  const b3 = layout.blocks[3];
  assertEquals(b3.attentionNorm.weight, "model.layers.3.input_layernorm.weight");
  assertEquals(b3.mlpNorm.weight, "model.layers.3.post_attention_layernorm.weight");
  assertEquals(
    b3.linears.map((l) => [l.name, l.outFeatures, l.inFeatures, l.input]),
    [
      ["self_attn.q_proj", 2048, 2048, "attn_in"],
      ["self_attn.k_proj", 256, 2048, "attn_in"],
      ["self_attn.v_proj", 256, 2048, "attn_in"],
      ["self_attn.o_proj", 2048, 2048, "attn_out"],
      ["mlp.gate_proj", 5632, 2048, "mlp_in"],
      ["mlp.up_proj", 5632, 2048, "mlp_in"],
      ["mlp.down_proj", 2048, 5632, "mlp_hidden"],
    ],
  );
  assertEquals(b3.linears[5], {
    name: "mlp.up_proj",
    weight: "model.layers.3.mlp.up_proj.weight",
    bias: null,
    transposed: false,
    outFeatures: 5632,
    inFeatures: 2048,
    input: "mlp_in",
  });
  const biased = modelLayout(parseConfig({ ...TINYLLAMA, attention_bias: true }));
  assertEquals(biased.blocks[0].linears[0].bias, "model.layers.0.self_attn.q_proj.bias");
  assertEquals(biased.blocks[0].linears[4].bias, null);
});

Deno.test("Llama-3.2-1B layout: tied head reads the embedding, 146 tensors", () => {
  const layout = modelLayout(parseConfig(LLAMA_32_1B));
  assertEquals(layout.lmHead, { weight: "model.embed_tokens.weight", tied: true, shape: [128256, 2048] });
  assertEquals(layout.tensors.length, 146);
  assertEquals(layout.blocks[15].linears[1].outFeatures, 8 * 64);
});

Deno.test("OPT layouts: learned positions (+2), biases, OPT-350m project_in/out and no final norm", () => {
  const small = modelLayout(parseConfig(OPT_125M));
  assertEquals(small.tensors.length, 2 + 12 * 16 + 2);
  assertEquals(small.positionEmbedding, {
    name: "model.decoder.embed_positions.weight",
    shape: [2050, 768],
    offset: 2,
  });
  assertEquals(small.blocks[0].linears.map((l) => l.name), [
    "self_attn.q_proj",
    "self_attn.k_proj",
    "self_attn.v_proj",
    "self_attn.out_proj",
    "fc1",
    "fc2",
  ]);
  assertEquals(small.blocks[0].linears[4].bias, "model.decoder.layers.0.fc1.bias");
  assertEquals(small.finalNorm?.bias, "model.decoder.final_layer_norm.bias");
  assertEquals(small.lmHead.weight, "model.decoder.embed_tokens.weight");

  const big = modelLayout(parseConfig(OPT_350M));
  assertEquals(big.tokenEmbedding, { name: "model.decoder.embed_tokens.weight", shape: [50272, 512] });
  assertEquals([big.projectIn?.weight, big.projectIn && storedShape(big.projectIn)], [
    "model.decoder.project_in.weight",
    [1024, 512],
  ]);
  assertEquals([big.projectOut?.weight, big.projectOut && storedShape(big.projectOut)], [
    "model.decoder.project_out.weight",
    [512, 1024],
  ]);
  assertEquals(big.finalNorm, null);
  assertEquals(big.lmHead.shape, [50272, 512]);
  assertEquals(big.tensors.length, 2 + 2 + 24 * 16);
  const noAffine = modelLayout(parseConfig({ ...OPT_125M, layer_norm_elementwise_affine: false, enable_bias: false }));
  assertEquals([noAffine.blocks[0].attentionNorm.weight, noAffine.blocks[0].linears[0].bias], [null, null]);
  assertEquals(noAffine.tensors.length, 2 + 12 * 6);
});

Deno.test("gpt2 layout: Conv1D weights stored [in, out], fused c_attn is one [3d, d] layer", () => {
  const layout = modelLayout(parseConfig(GPT2));
  assertEquals(layout.tensors.length, 2 + 12 * 12 + 2);
  const [cAttn, cProj, cFc, mlpProj] = layout.blocks[0].linears;
  assertEquals([cAttn.weight, cAttn.outFeatures, cAttn.inFeatures, cAttn.transposed], [
    "transformer.h.0.attn.c_attn.weight",
    2304,
    768,
    true,
  ]);
  assertEquals(storedShape(cAttn), [768, 2304]);
  assertEquals(cAttn.bias, "transformer.h.0.attn.c_attn.bias");
  assertEquals([cProj.name, cFc.name, mlpProj.name], ["attn.c_proj", "mlp.c_fc", "mlp.c_proj"]);
  assertEquals([storedShape(cFc), storedShape(mlpProj)], [[768, 3072], [3072, 768]]);
  assertEquals(layout.tensors.find((t) => t.name === "transformer.h.0.mlp.c_fc.bias")?.shape, [3072]);
  assertEquals(modelLayout(parseConfig(GPT2), "").blocks[1].linears[0].weight, "h.1.attn.c_attn.weight");
});

Deno.test("detectPrefix finds the wrapper prefix or says what it looked for", () => {
  assertEquals(detectPrefix("llama", ["model.embed_tokens.weight"]), "model.");
  assertEquals(detectPrefix("llama", ["embed_tokens.weight"]), "");
  assertEquals(detectPrefix("opt", ["decoder.embed_tokens.weight"]), "decoder.");
  assertEquals(detectPrefix("gpt2", ["wte.weight", "h.0.attn.bias"]), "");
  assertThrows(
    () => detectPrefix("gpt2", ["foo"]),
    Error,
    'gpt2 checkpoint: no token embedding found; expected a tensor named "transformer.wte.weight" or "wte.weight"',
  );
  assertThrows(
    () => modelLayout(parseConfig(GPT2), "model."),
    RangeError,
    'prefix "model." is not one of "transformer.", "" for gpt2',
  );
});
