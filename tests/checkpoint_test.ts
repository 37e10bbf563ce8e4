import { join } from "node:path";
import { assertEquals, assertRejects } from "./assert.ts";
import { assertClose, gpuTest, randn } from "./util.ts";
import { parseConfig } from "../thanos/model/config.ts";
import { modelLayout } from "../thanos/model/layout.ts";
import { openCheckpoint, writeCheckpoint } from "../thanos/model/checkpoint.ts";
import { type TensorInput, writeSafetensors } from "../thanos/model/safetensors.ts";

const TINY_LLAMA = {
  model_type: "llama",
  vocab_size: 37,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: false,
};

const TINY_GPT2 = { model_type: "gpt2", vocab_size: 29, n_positions: 32, n_embd: 12, n_layer: 2, n_head: 3 };

const TINY_OPT_350M_STYLE = {
  model_type: "opt",
  vocab_size: 31,
  hidden_size: 16,
  ffn_dim: 20,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  max_position_embeddings: 16,
  do_layer_norm_before: false,
  word_embed_proj_dim: 8,
};

/** Random F32 tensors for every tensor the config's layout expects (with an optional prefix). */
function tensorsFor(config: Record<string, unknown>, prefix?: string): Map<string, TensorInput> {
  const layout = modelLayout(parseConfig(config), prefix);
  return new Map(layout.tensors.map(({ name, shape }, i) => [
    name,
    { dtype: "F32", shape, data: randn(shape.reduce((a, b) => a * b, 1), 100 + i) } as TensorInput,
  ]));
}

async function tmp(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "thanos-ckpt-" });
}

Deno.test("writeCheckpoint + openCheckpoint round-trip a llama checkpoint in F32 and in sharded F16", async () => {
  const root = await tmp();
  const tensors = tensorsFor(TINY_LLAMA);
  const tokenizer = join(root, "tokenizer.json");
  await Deno.writeTextFile(tokenizer, "{}");
  await Deno.writeTextFile(join(root, "tokenizer_config.json"), "{}");
  const { files } = await writeCheckpoint(join(root, "f32"), { config: TINY_LLAMA, tensors, tokenizer });
  assertEquals(files.map((f) => f.slice(root.length + 5)), [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
  ]);

  const ckpt = await openCheckpoint(join(root, "f32"));
  assertEquals(ckpt.config.family, "llama");
  assertEquals(ckpt.layout.prefix, "model.");
  assertEquals(ckpt.tokenizerPath, join(root, "f32", "tokenizer.json"));
  assertEquals(ckpt.extraTensors, []);
  assertEquals(JSON.parse(await Deno.readTextFile(join(root, "f32", "config.json"))).torch_dtype, "float32");
  for (const [name, t] of tensors) assertEquals((await ckpt.readFloat32(name)).data, t.data);

  await writeCheckpoint(join(root, "f16"), { config: TINY_LLAMA, tensors, dtype: "F16", maxShardBytes: 2000 });
  const half = await openCheckpoint(join(root, "f16"));
  assertEquals(half.files.length > 1, true);
  assertEquals(half.tokenizerPath, null);
  assertEquals(half.tensors.entry("model.norm.weight").dtype, "F16");
  for (const [name, t] of tensors) {
    assertClose((await half.readFloat32(name)).data, t.data as Float32Array, { rtol: 2 ** -11, atol: 2 ** -24 }, name);
  }
  await Deno.remove(root, { recursive: true });
});

Deno.test("openCheckpoint accepts unprefixed names (gpt2 hub files) and reports extra buffers", async () => {
  const dir = await tmp();
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(TINY_GPT2));
  const tensors = tensorsFor(TINY_GPT2, "");
  tensors.set("h.0.attn.bias", { dtype: "F32", shape: [1, 1, 32, 32], data: new Float32Array(1024) });
  await writeSafetensors(join(dir, "model.safetensors"), tensors);
  const ckpt = await openCheckpoint(dir);
  assertEquals(ckpt.layout.prefix, "");
  assertEquals(ckpt.layout.blocks[1].linears[0].weight, "h.1.attn.c_attn.weight");
  assertEquals(ckpt.tensors.entry("h.1.attn.c_attn.weight").shape, [12, 36]); // Conv1D: [in, out]
  assertEquals(ckpt.extraTensors, ["h.0.attn.bias"]);
  assertEquals(ckpt.tokenizerPath, null);

  // a GPT-2-style tokenizer (vocab.json + merges.txt) is found and copied along
  await Deno.writeTextFile(join(dir, "vocab.json"), "{}");
  await Deno.writeTextFile(join(dir, "merges.txt"), "#version: 0.2\n");
  const slow = await openCheckpoint(dir);
  assertEquals(slow.tokenizerPath, join(dir, "vocab.json"));
  tensors.delete("h.0.attn.bias");
  const { files } = await writeCheckpoint(join(dir, "copy"), {
    config: TINY_GPT2,
    tensors,
    tokenizer: slow.tokenizerPath,
  });
  assertEquals(files.map((f) => f.slice(dir.length + 6)), [
    "config.json",
    "model.safetensors",
    "vocab.json",
    "merges.txt",
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an OPT-350m-style checkpoint (project_in/out, post-LN) writes and opens", async () => {
  const root = await tmp();
  await writeCheckpoint(join(root, "opt"), { config: TINY_OPT_350M_STYLE, tensors: tensorsFor(TINY_OPT_350M_STYLE) });
  const ckpt = await openCheckpoint(join(root, "opt"));
  assertEquals(ckpt.layout.projectIn?.weight, "model.decoder.project_in.weight");
  assertEquals(ckpt.tensors.entry("model.decoder.embed_positions.weight").shape, [18, 16]);
  assertEquals(ckpt.layout.finalNorm, null);
  await Deno.remove(root, { recursive: true });
});

Deno.test("openCheckpoint names the tensor, its shape and the shape the config implies", async () => {
  const dir = await tmp();
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(TINY_LLAMA));
  const tensors = tensorsFor(TINY_LLAMA);
  tensors.set("model.layers.1.mlp.up_proj.weight", { dtype: "F32", shape: [24, 15], data: new Float32Array(360) });
  await writeSafetensors(join(dir, "model.safetensors"), tensors);
  await assertRejects(
    () => openCheckpoint(dir),
    Error,
    `openCheckpoint: ${dir}: model.layers.1.mlp.up_proj.weight has shape [24, 15] but the config implies [24, 16]`,
  );
  tensors.set("model.layers.1.mlp.up_proj.weight", { dtype: "U8", shape: [24, 16], data: new Uint8Array(384) });
  await writeSafetensors(join(dir, "model.safetensors"), tensors);
  await assertRejects(
    () => openCheckpoint(dir),
    Error,
    `openCheckpoint: ${dir}: model.layers.1.mlp.up_proj.weight has dtype U8; expected F32, F16 or BF16`,
  );
  tensors.delete("model.layers.1.mlp.up_proj.weight");
  await writeSafetensors(join(dir, "model.safetensors"), tensors);
  await assertRejects(
    () => openCheckpoint(dir),
    Error,
    `openCheckpoint: ${dir}: tensor model.layers.1.mlp.up_proj.weight is missing; the llama config implies it with shape [24, 16]`,
  );
  await Deno.remove(join(dir, "model.safetensors"));
  await assertRejects(
    () => openCheckpoint(dir),
    Error,
    "directory has neither model.safetensors.index.json nor model.safetensors",
  );
  await Deno.remove(join(dir, "config.json"));
  await assertRejects(
    () => openCheckpoint(dir),
    Error,
    `openCheckpoint: ${join(dir, "config.json")} not found; expected a Hugging Face checkpoint directory`,
  );
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify({ model_type: "bert" }));
  await assertRejects(
    () => openCheckpoint(dir),
    Error,
    'model_type "bert" is not supported; supported: llama, opt, gpt2',
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeCheckpoint checks the tensors first and leaves nothing behind on error", async () => {
  const root = await tmp();
  const target = join(root, "out");
  const tensors = tensorsFor(TINY_LLAMA);
  await assertRejects(
    () => writeCheckpoint(join(root, "missing", "out"), { config: TINY_LLAMA, tensors }),
    Error,
    `writeCheckpoint: cannot write ${join(root, "missing", "out")}: directory ${join(root, "missing")} does not exist`,
  );
  const extra = new Map(tensors).set("model.layers.0.self_attn.rotary_emb.inv_freq", {
    dtype: "F32",
    shape: [2],
    data: new Float32Array(2),
  });
  await assertRejects(
    () => writeCheckpoint(target, { config: TINY_LLAMA, tensors: extra }),
    Error,
    "writeCheckpoint: tensor model.layers.0.self_attn.rotary_emb.inv_freq is not part of the llama layout",
  );
  const short = new Map(tensors);
  short.delete("lm_head.weight");
  await assertRejects(
    () => writeCheckpoint(target, { config: TINY_LLAMA, tensors: short }),
    Error,
    "writeCheckpoint: tensor lm_head.weight is missing; the llama config implies it with shape [37, 16]",
  );
  await assertRejects(
    () => writeCheckpoint(target, { config: TINY_LLAMA, tensors, tokenizer: join(root, "nope.json") }),
    Error,
    `writeCheckpoint: tokenizer ${join(root, "nope.json")} not found`,
  );
  const failing = new Map(tensors).set("model.norm.weight", {
    dtype: "F32",
    shape: [16],
    data: () => Promise.reject(new Error("device lost while reading back")),
  });
  await assertRejects(
    () => writeCheckpoint(target, { config: TINY_LLAMA, tensors: failing }),
    Error,
    "device lost while reading back",
  );
  assertEquals([...Deno.readDirSync(root)], []); // no target, no temporary directory

  await writeCheckpoint(target, { config: TINY_LLAMA, tensors });
  await assertRejects(
    () => writeCheckpoint(target, { config: TINY_LLAMA, tensors }),
    Error,
    `writeCheckpoint: ${target} already exists; pass overwrite: true to replace it`,
  );
  const changed = tensorsFor({ ...TINY_LLAMA, vocab_size: 41 });
  await writeCheckpoint(target, { config: { ...TINY_LLAMA, vocab_size: 41 }, tensors: changed, overwrite: true });
  assertEquals((await openCheckpoint(target)).config.vocabSize, 41);
  assertEquals([...Deno.readDirSync(root)].map((e) => e.name), ["out"]);
  await Deno.remove(root, { recursive: true });
});

gpuTest("Checkpoint.uploadTensor gives the forward pass f32 weights on the GPU", async (gpu) => {
  const root = await tmp();
  const tensors = tensorsFor(TINY_LLAMA);
  await writeCheckpoint(join(root, "m"), { config: TINY_LLAMA, tensors, dtype: "BF16" });
  const ckpt = await openCheckpoint(join(root, "m"));
  const layer = ckpt.layout.blocks[1].linears[1]; // k_proj [8, 16]
  const w = await ckpt.uploadTensor(gpu, layer.weight);
  assertEquals(w.shape, [8, 16]);
  assertClose(
    await w.read(),
    tensors.get(layer.weight)!.data as Float32Array,
    { rtol: 2 ** -8, atol: 0 },
    layer.weight,
  );
  w.release();
  await Deno.remove(root, { recursive: true });
});
