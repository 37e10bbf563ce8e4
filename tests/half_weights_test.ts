/**
 * F16/BF16 checkpoints with `halfWeights`: the decoder blocks' linear weights stay at 2 bytes a weight
 * on the GPU (matmulHalfWeight in the forward passes). On F16 copies of the fixture models (and a BF16
 * copy of tiny-gpt2, whose Conv1D weights are transposed), perplexity equals the f32-weight path's
 * within 1e-4 relative, the block linear weights take half the GPU bytes, and pruning (which widens a
 * layer to f32 before it prunes it) gives the same sparsity and relative errors.
 */

import { join } from "node:path";
import { perplexity } from "../thanos/eval.ts";
import { openCheckpoint, writeCheckpoint } from "../thanos/model/checkpoint.ts";
import { loadModel } from "../thanos/model/load.ts";
import { Decoder } from "../thanos/decode/decoder.ts";
import type { TensorInput } from "../thanos/model/safetensors.ts";
import { pruneModel } from "../thanos/pipeline.ts";
import type { Gpu } from "../thanos/gpu/device.ts";
import { assert, assertEquals } from "./assert.ts";
import { cliTest, lastJson, runCli, withTempDir } from "./cli_util.ts";
import { gpuTest, randomIds } from "./util.ts";

/** A copy of a fixture checkpoint with every float tensor stored as `dtype`. */
async function halfCopy(model: string, dir: string, dtype: "F16" | "BF16"): Promise<string> {
  const ck = await openCheckpoint(model);
  const tensors = new Map<string, TensorInput>();
  for (const { name, shape } of ck.layout.tensors) {
    tensors.set(name, { dtype: "F32", shape, data: async () => (await ck.readFloat32(name)).data });
  }
  const out = join(dir, `${model.split("/").pop()}-${dtype}`);
  await writeCheckpoint(out, { config: { ...ck.config.raw }, tensors, dtype, tokenizer: ck.tokenizerPath });
  return out;
}

/** Perplexity and the GPU bytes of the blocks' linear weights (all blocks loaded by the evaluation). */
async function evaluate(
  gpu: Gpu,
  dir: string,
  halfWeights: boolean,
  windows: { tokens: Uint32Array; count: number; seqlen: number },
) {
  const before = gpu.pool.liveBytes;
  const model = await loadModel(dir, { halfWeights });
  try {
    const loaded = gpu.pool.liveBytes;
    const { perplexity: ppl } = await perplexity(model, windows);
    let linearBytes = 0;
    for (let b = 0; b < model.numBlocks; b++) {
      for (const l of (await (model as any).block(b)).linears.values()) {
        linearBytes += l.weight ? l.weight.buffer.size : l.half.tensor.buffer.size;
      }
    }
    return { ppl, linearBytes, globals: loaded - before };
  } finally {
    model.release();
  }
}

const CASES = [
  ["models/tiny-llama", "F16"],
  ["models/tiny-opt", "F16"],
  ["models/tiny-gpt2", "F16"],
  ["models/tiny-gpt2", "BF16"],
] as const;

for (const [model, dtype] of CASES) {
  gpuTest(
    `${dtype} weights kept in halves: ${model} perplexity within 1e-4, linear weight bytes halved`,
    (gpu) =>
      withTempDir(async (dir) => {
        const copy = await halfCopy(model, dir, dtype);
        const ck = await openCheckpoint(copy);
        const seqlen = 64, count = 3;
        const windows = { tokens: randomIds(count * seqlen, ck.config.vocabSize, 5), count, seqlen };
        const f32 = await evaluate(gpu, copy, false, windows);
        const half = await evaluate(gpu, copy, true, windows);
        const rel = Math.abs(half.ppl - f32.ppl) / f32.ppl;
        console.log(
          `${model} ${dtype}: perplexity ${f32.ppl.toFixed(6)} (f32 weights) vs ${half.ppl.toFixed(6)} (halves), ` +
            `relative ${rel.toExponential(2)}; block linear weights ${f32.linearBytes} -> ${half.linearBytes} bytes`,
        );
        assert(rel <= 1e-4, `perplexity differs by ${rel} relative; expected ≤ 1e-4`);
        assertEquals(half.linearBytes * 2, f32.linearBytes); //            every fixture width is even
      }),
  );
}

gpuTest(
  "pruning a model kept in halves widens each layer to f32 first: same sparsity and errors as f32 weights",
  (gpu) =>
    withTempDir(async (dir) => {
      const copy = await halfCopy("models/tiny-opt", dir, "F16");
      const ck = await openCheckpoint(copy);
      const seqlen = 32, nsamples = 4;
      const calibration = { tokens: randomIds(nsamples * seqlen, ck.config.vocabSize, 9), count: nsamples, seqlen };
      const results = [];
      for (const halfWeights of [false, true]) {
        const model = await loadModel(copy, { halfWeights });
        try {
          results.push(await pruneModel(model, calibration, { prune: { method: "sparsegpt", sparsity: 0.5 } }));
          // every pruned layer is f32 now
          for (let b = 0; b < model.numBlocks; b++) {
            for (const l of (await (model as any).block(b)).linears.values()) {
              assert(l.weight && !l.half, `${l.name} not f32`);
            }
          }
        } finally {
          model.release();
        }
      }
      void gpu;
      const [f32, half] = results;
      assertEquals(half.sparsity, f32.sparsity);
      for (const [i, l] of f32.layers.entries()) {
        const h = half.layers[i];
        const rel = Math.abs(h.relativeError - l.relativeError) / l.relativeError;
        assert(rel < 1e-3, `${l.block}.${l.name}: relative error ${h.relativeError} vs ${l.relativeError}`);
      }
    }),
);

for (const [model, dtype] of CASES) {
  gpuTest(
    `${dtype} halves in the decoder: ${model}'s greedy steps match f32 weights (logits within 1e-4)`,
    (gpu) =>
      withTempDir(async (dir) => {
        const copy = await halfCopy(model, dir, dtype);
        const prompt = Uint32Array.from([3, 41, 5, 77, 12]), steps = 6;
        const runs: { tokens: number[]; logits: Float32Array[] }[] = [];
        for (const halfWeights of [false, true]) {
          const m = await loadModel(copy, { halfWeights });
          try {
            using decoder = await Decoder.create(m, { maxLength: prompt.length + steps });
            await decoder.prefill(prompt);
            const run = { tokens: [] as number[], logits: [] as Float32Array[] };
            for (let t = 0; t < steps; t++) {
              const logits = await decoder.readLogits();
              let best = 0;
              for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
              run.tokens.push(best);
              run.logits.push(logits);
              await decoder.step(best);
            }
            runs.push(run);
          } finally {
            m.release();
          }
        }
        void gpu;
        const [f32, half] = runs;
        assertEquals(half.tokens, f32.tokens);
        let worst = 0;
        for (const [t, ref] of f32.logits.entries()) {
          const scale = Math.max(...ref.map(Math.abs));
          for (let v = 0; v < ref.length; v++) worst = Math.max(worst, Math.abs(half.logits[t][v] - ref[v]) / scale);
        }
        console.log(
          `${model} ${dtype}: decode logits, largest |halves − f32| / max|logit| = ${worst.toExponential(2)}`,
        );
        assert(worst <= 1e-4, `decode logits differ by ${worst} of the largest logit; expected ≤ 1e-4`);
      }),
  );
}

cliTest(
  "eval --half-weights: an F16 tiny-gpt2 held at 2 bytes a weight, half the block bytes, the same perplexity",
  async (dir) => {
    const copy = await halfCopy("models/tiny-gpt2", dir, "F16");
    const args = ["--model", copy, "--data", "sotu-eval", "--seqlen", "32", "--max-windows", "2"];
    const [f32, half] = [await runCli("cli/eval.ts", args), await runCli("cli/eval.ts", [...args, "--half-weights"])];
    assertEquals([f32.code, half.code], [0, 0], f32.stderr + half.stderr);
    const [a, b] = [lastJson(f32.stdout), lastJson(half.stdout)];
    assert(Math.abs(a.perplexity - b.perplexity) <= 1e-4 * a.perplexity, `${b.perplexity} vs ${a.perplexity}`);
    assertEquals([a.block_weight_bytes.layers.half, b.block_weight_bytes.layers.dense], [0, 0]);
    assertEquals(b.block_weight_bytes.dense * 2, a.block_weight_bytes.dense);
  },
);

cliTest(
  "generate and zeroshot --half-weights on an F16 tiny-llama: the same tokens and accuracies as f32 weights",
  async (dir) => {
    const copy = await halfCopy("models/tiny-llama", dir, "F16");
    const gen = ["--model", copy, "--prompt", "The state of the union", "--max-new-tokens", "3"];
    const shot = ["--model", copy, "--tasks", "piqa", "--data", "data/zeroshot-sample", "--limit", "3"];
    const runs = [
      await runCli("cli/generate.ts", gen),
      await runCli("cli/generate.ts", [...gen, "--half-weights"]),
      await runCli("cli/zeroshot.ts", shot),
      await runCli("cli/zeroshot.ts", [...shot, "--half-weights"]),
    ];
    assertEquals(runs.map((r) => r.code), [0, 0, 0, 0], runs.map((r) => r.stderr).join("\n"));
    const [g32, g16, z32, z16] = runs.map((r) => lastJson(r.stdout));
    assertEquals(g16.tokens, g32.tokens);
    assertEquals(g16.block_weight_bytes.dense * 2, g32.block_weight_bytes.dense);
    assertEquals(z16, { ...z32, seconds: z16.seconds });
  },
);

cliTest("prune --half-weights on an F16 tiny-gpt2: the same sparsity and perplexities as f32 weights", async (dir) => {
  const copy = await halfCopy("models/tiny-gpt2", dir, "F16");
  const args = ["--model", copy, "--method", "wanda", "--nsamples", "2", "--seqlen", "32", "--max-windows", "1"];
  const runs = [
    await runCli("cli/prune.ts", [...args, "--out", `${dir}/f32`]),
    await runCli("cli/prune.ts", [...args, "--half-weights", "--out", `${dir}/half`]),
  ];
  assertEquals(runs.map((r) => r.code), [0, 0], runs.map((r) => r.stderr).join("\n"));
  const [a, b] = runs.map((r) => lastJson(r.stdout));
  assertEquals(b.sparsity, a.sparsity);
  for (const key of ["dense_perplexity", "perplexity"]) {
    assert(Math.abs(b[key] - a[key]) <= 1e-4 * a[key], `${key}: ${b[key]} (halves) vs ${a[key]} (f32)`);
  }
});
