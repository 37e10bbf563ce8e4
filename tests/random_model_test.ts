/**
 * tools/random_model.ts: the random-weight checkpoints the scale and GPU benchmarks prune carry the
 * preset's widths, load like any checkpoint, are N(0, 0.02²) with unit norms, and repeat exactly for
 * a seed.
 */
import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { openCheckpoint } from "../thanos/model/checkpoint.ts";
import { PRESETS, writeRandomLlama } from "../tools/random_model.ts";
import { randn } from "../thanos/util/random.ts";

Deno.test("random model: the preset's widths in F16, unit norms, N(0, 0.02²) weights, seeded", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "thanos-random-model-" });
  try {
    const a = join(tmp, "a");
    const n = await writeRandomLlama(a, { preset: "small", layers: 1, dtype: "F16", seed: 3 });
    const ckpt = await openCheckpoint(a);
    const w = PRESETS.small;
    assertEquals(
      [ckpt.config.hiddenSize, ckpt.config.intermediateSize, ckpt.config.numLayers, ckpt.config.vocabSize],
      [w.hidden_size, w.intermediate_size, 1, w.vocab_size],
    );
    assertEquals(n, ckpt.layout.tensors.reduce((s, t) => s + t.shape.reduce((x, y) => x * y, 1), 0));
    assert(ckpt.tokenizerPath !== null, "the bundled tokenizer is copied in");
    const name = ckpt.layout.blocks[0].linears[0].weight;
    assertEquals(ckpt.tensors.entry(name).dtype, "F16");
    const { data } = await ckpt.readFloat32(name);
    const mean = data.reduce((s, x) => s + x, 0) / data.length;
    const std = Math.sqrt(data.reduce((s, x) => s + (x - mean) ** 2, 0) / data.length);
    assert(Math.abs(mean) < 1e-3 && Math.abs(std - 0.02) < 1e-3, `mean ${mean}, std ${std}; expected 0 and 0.02`);
    const norm = ckpt.layout.tensors.find((t) => t.name.endsWith("norm.weight"))!.name;
    assert((await ckpt.readFloat32(norm)).data.every((x) => x === 1), "norm weights are 1");
    // seeded: tensor i of seed s is randn(n, 100003·s + i + 1) · 0.02, rounded to F16
    const i = ckpt.layout.tensors.findIndex((t) => t.name === name);
    const expected = randn(16, 100003 * 3 + i + 1).map((x) => x * 0.02);
    for (let j = 0; j < 16; j++) assert(Math.abs(data[j] - expected[j]) <= 1e-3 * Math.abs(expected[j]) + 1e-7);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("random model: an unknown preset or a layer count below 1 is refused by name", async () => {
  // deno-lint-ignore no-explicit-any
  await assertRejects(() => writeRandomLlama("/nonexistent", { preset: "llama-9000" as any }), Error, "unknown preset");
  await assertRejects(() => writeRandomLlama("/nonexistent", { preset: "small", layers: 0 }), Error, "layers 0");
});
