/**
 * `deno task bench:generate [--model <dir|hf:id>]… [--prompt-tokens 64] [--new-tokens 32]
 *   [--repeats 3] [--wide-prompt-tokens 16] [--wide-new-tokens 4] [--no-wide]`
 *
 * Text generation speed with the KV-cache decoder (thanos/decode/), greedy, for each fixture model
 * (models/tiny-llama, tiny-opt, tiny-gpt2) and — unless `--no-wide` — for a random-weight LLaMA with
 * TinyLlama-1.1B's widths (tools/random_model.ts, 2 layers; hidden 2048, intermediate 5632, 32 heads,
 * 4 KV heads, vocabulary 32000; ~220M parameters, written once to a temporary directory):
 * - prefill tokens/s: a `--prompt-tokens` prompt through the batched forward pass, filling the
 *   cache, plus the first token's pick;
 * - decode tokens/s: the `--new-tokens` − 1 one-token steps after it (matvec + cached attention +
 *   one readback each);
 * - GPU dispatches and readbacks per decoded token;
 * - for tiny-llama and the TinyLlama-width model (unless `--no-sparse`), the same model with every block
 *   linear weight pruned 2:4 by magnitude and written compressed (compressed-tensors sparse-24-bitmask),
 *   decoded twice: held compressed on the GPU (the 2:4 matvec kernels) and loaded with
 *   `denseWeights: true` (the dense kernels on the same pruned weights), with the GPU bytes of the block
 *   linear weights each holds.
 * The machine's load average (`Deno.loadavg()`, what `uptime` prints) is printed before and after.
 * Best of `--repeats` runs after a warm-up run (which compiles the pipelines); the end-of-sequence
 * token is ignored so every run decodes the same number of tokens.
 *
 * A table goes to stdout, then one JSON line with every measurement and the adapter's name.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { getGpu } from "../thanos/gpu/device.ts";
import { loadTokenizer, type TextTokenizer } from "../thanos/data/tokenizer.ts";
import { generate, type GenerateResult } from "../thanos/decode/generate.ts";
import { openCheckpoint, writeCheckpoint } from "../thanos/model/checkpoint.ts";
import { loadModel } from "../thanos/model/load.ts";
import { zeros } from "../thanos/gpu/tensor.ts";
import { matvec } from "../thanos/decode/ops.ts";
import { bestSeconds } from "./timing.ts";
import { writeRandomLlama } from "../tools/random_model.ts";
import type { DecoderModel } from "../thanos/model/forward.ts";

const FIXTURES = ["models/tiny-llama", "models/tiny-opt", "models/tiny-gpt2"];

const { values } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string", multiple: true },
    "prompt-tokens": { type: "string", default: "64" },
    "new-tokens": { type: "string", default: "32" },
    "wide-prompt-tokens": { type: "string", default: "16" },
    "wide-new-tokens": { type: "string", default: "4" },
    repeats: { type: "string", default: "3" },
    "no-wide": { type: "boolean", default: false },
    "no-sparse": { type: "boolean", default: false },
  },
  strict: true,
});
const settings = {
  promptTokens: Number(values["prompt-tokens"]),
  newTokens: Number(values["new-tokens"]),
  repeats: Number(values.repeats),
};
const wideSettings = {
  promptTokens: Number(values["wide-prompt-tokens"]),
  newTokens: Number(values["wide-new-tokens"]),
  repeats: 1,
};
const gpu = await getGpu();
const loadBefore = Deno.loadavg();
console.error(
  `bench:generate on ${gpu.info.description}; load average ${loadBefore.map((l) => l.toFixed(2)).join(", ")}`,
);

/** A stand-in for a model without a tokenizer: the benchmark feeds ids and ignores the text. */
function idsOnly(vocabSize: number): TextTokenizer {
  return {
    path: "(ids only)",
    vocabSize,
    fingerprint: "(ids only)",
    encode: () => [],
    decode: () => "",
    tokenToId: () => undefined,
    idToToken: () => undefined,
  };
}

interface Row {
  model: string;
  /** "dense", or how the pruned weights were held: "2:4 compressed" / "2:4 as dense" */
  weights: string;
  /** GPU bytes of the block linear weights the decoder reads */
  blockWeightBytes: number;
  parameters: number;
  promptTokens: number;
  newTokens: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  dispatchesPerToken: number;
  readbacksPerToken: number;
  /** the LM head's matrix-vector product alone, ms (best of 3) */
  lmHeadMs: number;
}

/**
 * Greedy generation from each of `variants` (the same model held differently), after a warm-up run
 * of each (which compiles every pipeline): `repeats` rounds that run every variant once in turn, so a
 * change of the machine's load hits them alike; the best run of each is kept. Also times the LM head's
 * matrix-vector product alone (best of 3), the part of a step no sparsity of the blocks shortens.
 */
async function bench(
  name: string,
  variants: { weights: string; source: string }[],
  tokenizer: TextTokenizer | null,
  { promptTokens, newTokens, repeats }: typeof settings,
): Promise<Row[]> {
  using stack = new DisposableStack();
  const loaded = [];
  for (const v of variants) {
    const checkpoint = await openCheckpoint(v.source);
    const model = await loadModel(checkpoint, { denseWeights: v.weights.endsWith("as dense") }) as DecoderModel;
    stack.defer(() => model.release());
    loaded.push({ ...v, checkpoint, model, best: null as GenerateResult | null, bestPrefill: Infinity });
  }
  const { config, layout } = loaded[0].checkpoint;
  const parameters = layout.tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  const prompt = Array.from({ length: promptTokens }, (_, i) => (i * 7919 + 13) % Math.min(config.vocabSize, 4000)); // [T]
  const tok = tokenizer ?? idsOnly(config.vocabSize);
  const run = (model: DecoderModel) => generate(model, tok, prompt, { maxNewTokens: newTokens, eosTokenIds: [] });
  for (const v of loaded) await run(v.model); // warm-up
  for (let r = 0; r < repeats; r++) {
    for (const v of loaded) {
      const out = await run(v.model);
      v.bestPrefill = Math.min(v.bestPrefill, out.prefillSeconds);
      if (!v.best || out.tokensPerSecond > v.best.tokensPerSecond) v.best = out;
      console.error(
        `${name} (${v.weights}): prefill ${out.prefillTokensPerSecond.toFixed(0)} tok/s, decode ${
          out.tokensPerSecond.toFixed(2)
        } tok/s`,
      );
    }
  }
  // the LM head alone: logits = W_head · h, as the step computes it
  const g = loaded[0].model.decoderGlobals();
  using h = zeros(gpu, [g.lmHead.cols], "f32", "h");
  using logits = zeros(gpu, [g.lmHead.rows], "f32", "logits");
  const head = () => Promise.all(g.lmHead.chunks.map((c) => matvec(c.tensor, h, logits, { yOffset: c.lo })));
  const lmHeadSeconds = await bestSeconds(gpu, head, { runs: 3 });
  return loaded.map((v) => {
    const bytes = v.model.linearWeightBytes(); //               every block is resident (the decoder loaded them)
    return {
      model: name,
      weights: v.weights,
      blockWeightBytes: bytes.dense + bytes.compressed,
      parameters,
      promptTokens,
      newTokens,
      prefillTokensPerSecond: promptTokens / v.bestPrefill,
      decodeTokensPerSecond: v.best!.tokensPerSecond,
      dispatchesPerToken: v.best!.dispatchesPerToken,
      readbacksPerToken: v.best!.readbacksPerToken,
      lmHeadMs: lmHeadSeconds * 1e3,
    };
  });
}

/** Writes `source` with every block linear weight pruned 2:4 by magnitude, compressed (sparse-24-bitmask). */
async function writePruned24(source: string, dir: string): Promise<void> {
  const ckpt = await openCheckpoint(source);
  const linear = new Set(ckpt.layout.blocks.flatMap((b) => b.linears.map((l) => l.weight)));
  const tensors = new Map(ckpt.layout.tensors.map(({ name, shape }) => {
    const data = async () => {
      const w = (await ckpt.readFloat32(name)).data;
      if (!linear.has(name)) return w;
      for (let i = 0; i < w.length; i += 4) { //                       keep the 2 largest of every 4
        const order = [0, 1, 2, 3].sort((a, b) => Math.abs(w[i + a]) - Math.abs(w[i + b]));
        w[i + order[0]] = 0;
        w[i + order[1]] = 0;
      }
      return w;
    };
    return [name, { dtype: "F32" as const, shape, data }];
  }));
  await writeCheckpoint(dir, {
    config: { ...ckpt.config.raw },
    tensors,
    tokenizer: ckpt.tokenizerPath,
    format: "compressed",
  });
}

/** The dense rows of `source`, and (with sparse) its 2:4-compressed copy held compressed and held dense. */
async function benchModel(
  name: string,
  source: string,
  tokenizer: TextTokenizer | null,
  s: typeof settings,
  sparse: boolean,
) {
  const variants = [{ weights: "dense", source }];
  const dir = join(tmp, `${rows.length}-24`);
  if (sparse) {
    console.error(`${name}: writing a 2:4 (magnitude) compressed copy…`);
    await writePruned24(source, dir);
    variants.push({ weights: "2:4 as dense", source: dir }, { weights: "2:4 compressed", source: dir });
  }
  rows.push(...await bench(name, variants, tokenizer, s));
  if (sparse) await Deno.remove(dir, { recursive: true });
}

const root = new URL("../", import.meta.url).pathname;
const rows: Row[] = [];
const tmp = await Deno.makeTempDir({ prefix: "thanos-bench-generate-" });
try {
  for (const m of values.model ?? FIXTURES.map((f) => root + f)) {
    const checkpoint = await openCheckpoint(m);
    const tokenizer = checkpoint.tokenizerPath ? await loadTokenizer(checkpoint.tokenizerPath) : null;
    const name = m.startsWith(root) ? m.slice(root.length) : m;
    await benchModel(name, m, tokenizer, settings, !values["no-sparse"] && name === "models/tiny-llama");
  }
  if (!values["no-wide"]) {
    console.error("writing the random-weight TinyLlama-width checkpoint (2 layers, ~0.9 GB)…");
    await writeRandomLlama(join(tmp, "wide"), { preset: "tinyllama-1.1b", layers: 2, tokenizer: false });
    await benchModel(
      "TinyLlama widths, 2 layers (random)",
      join(tmp, "wide"),
      null,
      wideSettings,
      !values["no-sparse"],
    );
  }
} finally {
  await Deno.remove(tmp, { recursive: true });
}
const loadAfter = Deno.loadavg();

const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(", ");
console.log(
  `adapter: ${gpu.info.description}; greedy decoding; load average before ${load(loadBefore)}, after ${
    load(loadAfter)
  }`,
);
console.log(
  [
    "model",
    "weights",
    "params",
    "block MB",
    "prompt",
    "new",
    "prefill tok/s",
    "decode tok/s",
    "dispatches/tok",
    "readbacks/tok",
  ]
    .map((h, i) => (i ? h.padStart(15) : h.padEnd(38))).join(""),
);
for (const r of rows) {
  console.log(
    [
      r.model.padEnd(38),
      r.weights,
      `${(r.parameters / 1e6).toFixed(1)}M`,
      (r.blockWeightBytes / 1e6).toFixed(1),
      r.promptTokens,
      r.newTokens,
      r.prefillTokensPerSecond.toFixed(1),
      r.decodeTokensPerSecond.toFixed(2),
      r.dispatchesPerToken.toFixed(0),
      r.readbacksPerToken.toFixed(0),
      `${(r.lmHeadMs / 1e3 * r.decodeTokensPerSecond * 100).toFixed(0)}%`,
    ].map((v, i) => (i ? String(v).padStart(15) : v)).join(""),
  );
}
const speedups = rows.filter((r) => r.weights === "2:4 compressed").map((r) => {
  const asDense = rows.find((d) => d.model === r.model && d.weights === "2:4 as dense")!;
  // what bounds the speed-up: the LM head is dense in both, so its share h of a dense step stays
  const lmHeadShare = asDense.lmHeadMs / 1e3 * asDense.decodeTokensPerSecond;
  return {
    model: r.model,
    decodeSpeedup: r.decodeTokensPerSecond / asDense.decodeTokensPerSecond,
    bytesRatio: r.blockWeightBytes / asDense.blockWeightBytes,
    lmHeadShare,
  };
});
for (const s of speedups) {
  console.log(
    `${s.model}: 2:4 compressed decodes ${s.decodeSpeedup.toFixed(2)}x as fast as the same weights held dense; ` +
      `block weights ${s.bytesRatio.toFixed(3)}x the bytes; the dense LM head alone is ${
        (100 * s.lmHeadShare).toFixed(0)
      }% of a dense step, so even free block products would give at most ${(1 / s.lmHeadShare).toFixed(2)}x`,
  );
}
console.log(
  JSON.stringify({
    adapter: gpu.info.description,
    loadAverage: { before: loadBefore, after: loadAfter },
    rows,
    speedups,
  }),
);
