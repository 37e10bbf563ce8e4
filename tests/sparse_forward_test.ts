/**
 * The batched forward on a compressed checkpoint: its sparse linear weights stay compressed on the GPU
 * (2:4 → values + 4-bit index, unstructured → values + bitmask + row starts) and the forward multiplies
 * with the sparse products; its perplexity equals the dense pruned checkpoint's within 1e-5 relative,
 * greedy decoding (the decoder's sparse matvecs) gives the same tokens and logits within 1e-4, and
 * with `denseWeights` it is held dense again. Tiny random-weight LLaMA, GPT-2 (Conv1D, stored
 * [in, out]: 2:4 along its inputs all the same) and OPT (project_in/out stay dense), small windows.
 */

import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { writeCheckpoint } from "../thanos/model/checkpoint.ts";
import { parseConfig } from "../thanos/model/config.ts";
import { modelLayout } from "../thanos/model/layout.ts";
import { loadModel } from "../thanos/model/load.ts";
import type { DecoderModel } from "../thanos/model/forward.ts";
import { perplexity } from "../thanos/eval.ts";
import { Decoder } from "../thanos/decode/decoder.ts";
import { transpose } from "../thanos/model/weights.ts";
import { randomWeights, TINY_CONFIGS, writeTinyCheckpoint } from "./tiny_models.ts";
import { assertClose, gpuTest, randomIds } from "./util.ts";

/** Greedy tokens after a prompt, and the logits of the last step. */
async function greedy(model: DecoderModel, prompt: Uint32Array, steps: number) {
  using decoder = await Decoder.create(model, { maxLength: prompt.length + steps });
  await decoder.prefill(prompt);
  const tokens: number[] = [];
  for (let s = 0; s < steps; s++) {
    tokens.push(await decoder.argmax());
    if (s < steps - 1) await decoder.step(tokens[s]);
  }
  return { tokens, logits: await decoder.readLogits() };
}

/** Zeroes half of every row of W [out, in] by magnitude: 2 of every 4 inputs, or the smaller half. */
function magnitudePrune(w: Float32Array, out: number, inF: number, pattern: "2:4" | "unstructured"): void {
  for (let r = 0; r < out; r++) {
    const row = w.subarray(r * inF, (r + 1) * inF);
    const groups = pattern === "2:4" ? inF / 4 : 1, size = pattern === "2:4" ? 4 : inF;
    for (let g = 0; g < groups; g++) {
      const order = [...Array(size).keys()].sort((a, b) => Math.abs(row[g * size + a]) - Math.abs(row[g * size + b]));
      for (const i of order.slice(0, size / 2)) row[g * size + i] = 0;
    }
  }
}

const CASES = [
  { variant: "llama-gqa", pattern: "2:4" },
  { variant: "llama-gqa", pattern: "unstructured" },
  { variant: "gpt2", pattern: "2:4" },
  { variant: "opt-post-ln-proj", pattern: "unstructured" },
] as const;

for (const { variant, pattern } of CASES) {
  gpuTest(
    `a compressed ${pattern} ${variant} runs the sparse products and matches the dense pruned model`,
    async (gpu) => {
      const config = TINY_CONFIGS[variant];
      const layout = modelLayout(parseConfig(config));
      const weights = randomWeights(config, 3);
      for (const l of layout.blocks.flatMap((b) => b.linears)) {
        const [out, inF] = [l.outFeatures, l.inFeatures];
        const w = l.transposed ? transpose(weights.get(l.weight)!, inF, out) : weights.get(l.weight)!; // [out, in]
        magnitudePrune(w, out, inF, pattern);
        weights.set(l.weight, l.transposed ? transpose(w, out, inF) : w);
      }
      const tensors = new Map(
        layout.tensors.map(({ name, shape }) => [name, { dtype: "F32" as const, shape, data: weights.get(name)! }]),
      );
      const root = await Deno.makeTempDir({ prefix: "thanos-sparse-forward-" });
      try {
        await writeCheckpoint(join(root, "dense"), { config, tensors });
        const { compression } = await writeCheckpoint(join(root, "compressed"), {
          config,
          tensors,
          format: "compressed",
        });
        assert(compression, "nothing was compressed");
        const seqlen = 9, count = 3;
        const windows = { tokens: randomIds(count * seqlen, config.vocab_size as number, 5), count, seqlen };
        const results = [];
        for (const [dir, denseWeights] of [["dense", false], ["compressed", false], ["compressed", true]] as const) {
          const model = await loadModel(join(root, dir), { gpu, denseWeights }) as DecoderModel;
          try {
            const { perplexity: ppl } = await perplexity(model, windows, { batchSize: 2 });
            const bytes = model.linearWeightBytes();
            const decoded = await greedy(model, windows.tokens.subarray(0, 5), 6);
            results.push({ dir, denseWeights, ppl, bytes, decoded });
            if (dir === "compressed" && !denseWeights) {
              // handed out for pruning: block 0 is expanded to the dense pruned weights, in place
              const l = layout.blocks[0].linears[0];
              const [w] = await model.blockLinears(0);
              assertEquals(w.sparse ?? null, null);
              const want = weights.get(l.weight)!;
              const got = (await w.weight.read()) as Float32Array;
              assertEquals([...(l.transposed ? transpose(got, l.outFeatures, l.inFeatures) : got)], [...want]);
              assertEquals(
                model.linearWeightBytes().layers[pattern === "2:4" ? "2:4" : "bitmask"],
                results.at(-1)!.bytes.layers[pattern === "2:4" ? "2:4" : "bitmask"] - layout.blocks[0].linears.length,
              );
            }
          } finally {
            model.release();
          }
        }
        const [dense, sparse, forcedDense] = results;
        const linears = layout.blocks.reduce((s, b) => s + b.linears.length, 0);
        const kind = pattern === "2:4" ? "2:4" : "bitmask";
        assertEquals(sparse.bytes.layers[kind], linears, `${variant} ${pattern}: layers held as ${kind}`);
        assertEquals(forcedDense.bytes.layers[kind], 0, "denseWeights holds every layer dense");
        assertEquals(forcedDense.bytes.dense, dense.bytes.dense);
        assert(
          sparse.bytes.compressed < 0.6 * sparse.bytes.compressedAsDense,
          `compressed ${sparse.bytes.compressed} bytes vs dense ${sparse.bytes.compressedAsDense}`,
        );
        for (const r of [sparse, forcedDense]) {
          assertEquals(r.decoded.tokens, dense.decoded.tokens, `${variant} ${pattern}: greedy tokens`);
          assertClose(r.decoded.logits, dense.decoded.logits, { rtol: 1e-4, atol: 1e-4 }, "last step's logits");
          const rel = Math.abs(r.ppl - dense.ppl) / dense.ppl;
          assert(
            rel <= 1e-5,
            `${variant} ${pattern} (denseWeights ${r.denseWeights}): ppl ${r.ppl} vs ${dense.ppl}, rel ${rel}`,
          );
        }
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  );
}

gpuTest("a modified weight read after release() throws instead of reading the checkpoint's values", async (gpu) => {
  const root = await Deno.makeTempDir({ prefix: "thanos-release-" });
  try {
    const { dir } = await writeTinyCheckpoint(root, "llama-gqa");
    const model = await loadModel(dir, { gpu });
    await model.blockLinears(0); //                                  handed out: block 0 counts as modified
    const tensors = model.checkpointTensors();
    model.release();
    const q = tensors.get("model.layers.0.self_attn.q_proj.weight")!.data as () => Promise<unknown>;
    await assertRejects(q, Error, "model.layers.0.self_attn.q_proj.weight was modified, and the model was released");
    const norm = tensors.get("model.norm.weight")!.data as () => Promise<unknown>;
    assert((await norm()) instanceof Float32Array, "an unmodified tensor still reads from the checkpoint");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
