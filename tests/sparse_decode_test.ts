/**
 * KV-cache decoding from compressed checkpoints: the decode step multiplies the layers a model holds
 * compressed (`LinearWeights.sparse`, 2:4 or bitmask) with the sparse matvec kernels, never expanding
 * them, and must give what the dense pruned model gives.
 *
 * Each case prunes every linear weight of a bundled fixture on the CPU (2:4 by magnitude, or ~50%
 * unstructured at random), writes it once dense and once compressed (compressed-tensors layout), and
 * greedily decodes the same prompt from both: the tokens must be equal and the logits of every step
 * (prefill included) equal within 1e-4 (absolute; f32 sums of the same products in different orders).
 * The GPU bytes of the block weights the decoder reads are compared too: compressed ≤ 0.54x dense at
 * 2:4 (values + 4 index bits a group) and ≤ 0.60x at 50% unstructured (values + 1 mask bit a weight +
 * a start a row; F32).
 */

import { assert, assertEquals } from "./assert.ts";
import { join } from "node:path";
import { Decoder } from "../thanos/decode/decoder.ts";
import { openCheckpoint, writeCheckpoint } from "../thanos/model/checkpoint.ts";
import type { TensorInput } from "../thanos/model/safetensors.ts";
import { loadModel } from "../thanos/model/load.ts";
import type { DecoderModel } from "../thanos/model/forward.ts";
import { assertClose, gpuTest, maxAbsDiff, randn } from "./util.ts";

const tmp = await Deno.makeTempDir({ prefix: "thanos-sparse-decode-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

/** Zeros 2 of every 4 consecutive stored values by magnitude, or about half at random. */
function prune(w: Float32Array, pattern: "2:4" | "unstructured", seed: number): Float32Array {
  const out = w.slice();
  if (pattern === "unstructured") {
    const coin = randn(w.length, seed);
    for (let i = 0; i < out.length; i++) if (coin[i] < 0) out[i] = 0;
    return out;
  }
  for (let i = 0; i < out.length; i += 4) {
    const order = [0, 1, 2, 3].sort((a, b) => Math.abs(out[i + a]) - Math.abs(out[i + b]));
    out[i + order[0]] = 0;
    out[i + order[1]] = 0;
  }
  return out;
}

/** Writes `source` with its block linear weights pruned, dense and compressed. */
async function writePruned(
  source: string,
  pattern: "2:4" | "unstructured",
): Promise<{ dense: string; sparse: string }> {
  const ckpt = await openCheckpoint(source);
  const linear = new Set(ckpt.layout.blocks.flatMap((b) => b.linears.map((l) => l.weight)));
  const tensors = new Map<string, TensorInput>();
  for (const [i, { name, shape }] of ckpt.layout.tensors.entries()) {
    const { data } = await ckpt.readFloat32(name);
    tensors.set(name, { dtype: "F32", shape, data: linear.has(name) ? prune(data, pattern, i + 1) : data });
  }
  const base = join(tmp, `${source.split("/").pop()}-${pattern.replace(":", "")}`);
  const config = { ...ckpt.config.raw };
  await writeCheckpoint(`${base}-dense`, { config, tensors, tokenizer: ckpt.tokenizerPath });
  await writeCheckpoint(`${base}-sparse`, { config, tensors, tokenizer: ckpt.tokenizerPath, format: "compressed" });
  return { dense: `${base}-dense`, sparse: `${base}-sparse` };
}

/** Greedy tokens and every step's logits (the prefill's included). */
async function decode(model: DecoderModel, prompt: number[], steps: number) {
  using decoder = await Decoder.create(model, { maxLength: prompt.length + steps });
  await decoder.prefill(Uint32Array.from(prompt));
  const tokens: number[] = [], logits: Float32Array[] = [];
  for (let s = 0; s <= steps; s++) {
    logits.push(await decoder.readLogits());
    tokens.push(await decoder.argmax());
    if (s < steps) await decoder.step(tokens[s]);
  }
  return { tokens, logits };
}

for (
  const [fixture, pattern, kind, bound] of [
    ["tiny-llama", "2:4", "2:4", 0.54],
    ["tiny-llama", "unstructured", "bitmask", 0.6],
    ["tiny-gpt2", "2:4", "bitmask", 0.6], // Conv1D: 2:4 along the stored [in, out] rows is not 2:4 of [out, in]
  ] as const
) {
  gpuTest(
    `${fixture} ${pattern}: compressed decode equals the dense pruned model (tokens, every step's logits)`,
    async () => {
      const { dense, sparse } = await writePruned(`models/${fixture}`, pattern);
      const d = await loadModel(dense) as DecoderModel;
      const c = await loadModel(sparse) as DecoderModel;
      try {
        const prompt = [84, 7, 301, 12, 9];
        const want = await decode(d, prompt, 6);
        const got = await decode(c, prompt, 6);
        // the decoder multiplied the compressed weights: nothing was expanded to dense
        const bytes = c.linearWeightBytes(), denseBytes = d.linearWeightBytes();
        assertEquals(bytes.dense, 0, `${fixture}: every block linear weight stays compressed`);
        assert(bytes.layers[kind] > 0, `${fixture}: layers held as ${kind}: ${JSON.stringify(bytes.layers)}`);
        assertEquals(bytes.compressedAsDense, denseBytes.dense);
        const ratio = bytes.compressed / denseBytes.dense;
        console.log(
          `${fixture} ${pattern}: decode weights ${denseBytes.dense} B dense, ${bytes.compressed} B ` +
            `compressed (${ratio.toFixed(3)}x); max |Δlogit| ${
              Math.max(...got.logits.map((l, i) => maxAbsDiff(l, want.logits[i]))).toExponential(2)
            }`,
        );
        assert(ratio <= bound, `${fixture} ${pattern}: compressed/dense bytes ${ratio.toFixed(3)} > ${bound}`);
        for (const [s, l] of got.logits.entries()) {
          assertClose(l, want.logits[s], { rtol: 0, atol: 1e-4 }, `${fixture} ${pattern} step ${s}`);
        }
        assertEquals(got.tokens, want.tokens);
      } finally {
        d.release();
        c.release();
      }
    },
  );
}
