/**
 * `deno task bench:generate [--model <dir|hf:id>]… [--prompt-tokens 64] [--new-tokens 32]
 *   [--repeats 3] [--wide-prompt-tokens 16] [--wide-new-tokens 4] [--no-wide]`
 *
 * Text generation speed with the KV-cache decoder (thanos/decode/), greedy, for each fixture model
 * (models/tiny-llama, tiny-opt, tiny-gpt2) and — unless `--no-wide` — for a random-weight LLaMA with
 * TinyLlama-1.1B's widths (2 layers; hidden 2048, intermediate 5632, 32 heads, 4 KV heads, vocabulary
 * 32000; ~220M parameters, written once to a temporary directory):
 * - prefill tokens/s: a `--prompt-tokens` prompt through the batched forward pass, filling the
 *   cache, plus the first token's pick;
 * - decode tokens/s: the `--new-tokens` − 1 one-token steps after it (matvec + cached attention +
 *   one readback each);
 * - GPU dispatches and readbacks per decoded token.
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
import { parseConfig } from "../thanos/model/config.ts";
import { modelLayout } from "../thanos/model/layout.ts";
import { loadModel } from "../thanos/model/load.ts";

const FIXTURES = ["models/tiny-llama", "models/tiny-opt", "models/tiny-gpt2"];

/** TinyLlama-1.1B's widths, 2 of its 22 layers. */
const WIDE_CONFIG = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  hidden_size: 2048,
  intermediate_size: 5632,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  num_hidden_layers: 2,
  vocab_size: 32000,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  hidden_act: "silu",
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
};

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
  },
  strict: true,
});
const settings = { promptTokens: Number(values["prompt-tokens"]), newTokens: Number(values["new-tokens"]), repeats: Number(values.repeats) };
const wideSettings = { promptTokens: Number(values["wide-prompt-tokens"]), newTokens: Number(values["wide-new-tokens"]), repeats: 1 };
const gpu = await getGpu();
console.error(`bench:generate on ${gpu.info.description}`);

/** Deterministic N(0, std²) values (xorshift + Box–Muller): random weights that do not blow up. */
function randomNormal(n: number, seed: number, std: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const u = () => {
    s ^= s << 13, s >>>= 0, s ^= s >>> 17, s ^= s << 5, s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = std * Math.sqrt(-2 * Math.log(u())), t = 2 * Math.PI * u();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** Writes the random-weight TinyLlama-width checkpoint (norms 1, everything else N(0, 0.02²)). */
async function writeWide(dir: string): Promise<void> {
  const layout = modelLayout(parseConfig(WIDE_CONFIG));
  const tensors = new Map(layout.tensors.map(({ name, shape }, i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = () => name.endsWith("norm.weight") ? new Float32Array(n).fill(1) : randomNormal(n, i + 1, 0.02);
    return [name, { dtype: "F32" as const, shape, data }];
  }));
  await writeCheckpoint(dir, { config: WIDE_CONFIG, tensors });
}

/** A stand-in for a model without a tokenizer: the benchmark feeds ids and ignores the text. */
function idsOnly(vocabSize: number): TextTokenizer {
  return {
    path: "(ids only)",
    vocabSize,
    encode: () => [],
    decode: () => "",
    tokenToId: () => undefined,
    idToToken: () => undefined,
  };
}

interface Row {
  model: string;
  parameters: number;
  promptTokens: number;
  newTokens: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  dispatchesPerToken: number;
  readbacksPerToken: number;
}

async function bench(
  name: string,
  source: string,
  tokenizer: TextTokenizer | null,
  { promptTokens, newTokens, repeats }: typeof settings,
): Promise<Row> {
  const checkpoint = await openCheckpoint(source);
  const model = await loadModel(checkpoint);
  const parameters = checkpoint.layout.tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  const vocab = checkpoint.config.vocabSize;
  const prompt = Array.from({ length: promptTokens }, (_, i) => (i * 7919 + 13) % Math.min(vocab, 4000)); // [T]
  const tok = tokenizer ?? idsOnly(vocab);
  const run = () => generate(model, tok, prompt, { maxNewTokens: newTokens, eosTokenIds: [] });
  try {
    await run(); // warm-up: compiles every pipeline
    let best: GenerateResult | null = null, bestPrefill = Infinity;
    for (let r = 0; r < repeats; r++) {
      const out = await run();
      bestPrefill = Math.min(bestPrefill, out.prefillSeconds);
      if (!best || out.tokensPerSecond > best.tokensPerSecond) best = out;
      console.error(
        `${name}: prefill ${out.prefillTokensPerSecond.toFixed(0)} tok/s, decode ${out.tokensPerSecond.toFixed(1)} tok/s`,
      );
    }
    return {
      model: name,
      parameters,
      promptTokens,
      newTokens,
      prefillTokensPerSecond: promptTokens / bestPrefill,
      decodeTokensPerSecond: best!.tokensPerSecond,
      dispatchesPerToken: best!.dispatchesPerToken,
      readbacksPerToken: best!.readbacksPerToken,
    };
  } finally {
    model.release();
  }
}

const root = new URL("../", import.meta.url).pathname;
const rows: Row[] = [];
for (const m of values.model ?? FIXTURES.map((f) => root + f)) {
  const checkpoint = await openCheckpoint(m);
  const tokenizer = checkpoint.tokenizerPath ? await loadTokenizer(checkpoint.tokenizerPath) : null;
  rows.push(await bench(m.startsWith(root) ? m.slice(root.length) : m, m, tokenizer, settings));
}
if (!values["no-wide"]) {
  const tmp = await Deno.makeTempDir({ prefix: "thanos-bench-generate-" });
  try {
    console.error("writing the random-weight TinyLlama-width checkpoint (2 layers, ~0.9 GB)…");
    await writeWide(join(tmp, "wide"));
    rows.push(await bench("TinyLlama widths, 2 layers (random)", join(tmp, "wide"), null, wideSettings));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

console.log(`adapter: ${gpu.info.description}; greedy decoding`);
console.log(
  ["model", "params", "prompt", "new", "prefill tok/s", "decode tok/s", "dispatches/tok", "readbacks/tok"]
    .map((h, i) => (i ? h.padStart(15) : h.padEnd(38))).join(""),
);
for (const r of rows) {
  console.log(
    [
      r.model.padEnd(38),
      `${(r.parameters / 1e6).toFixed(1)}M`,
      r.promptTokens,
      r.newTokens,
      r.prefillTokensPerSecond.toFixed(1),
      r.decodeTokensPerSecond.toFixed(2),
      r.dispatchesPerToken.toFixed(0),
      r.readbacksPerToken.toFixed(0),
    ].map((v, i) => (i ? String(v).padStart(15) : v)).join(""),
  );
}
console.log(JSON.stringify({ adapter: gpu.info.description, rows }));
