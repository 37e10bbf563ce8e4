/**
 * `deno task bench:model [--model <dir|hf:id>]… [--seqlen 256] [--batch B] [--repeats 3]
 *   [--max-windows K] [--data sotu-eval]`
 *
 * For each model (default: the fixture models models/tiny-llama, models/tiny-opt,
 * models/tiny-gpt2 that exist):
 * - forward throughput: tokens/s of the whole forward pass — embedding, every block, final norm,
 *   LM head and per-position NLL read back — on `batch` windows of `seqlen` tokens, best of
 *   `repeats` timed runs after one warm-up run (which compiles the pipelines);
 * - perplexity of the evaluation corpus (sotu-eval by default): ALL its windows of `seqlen` tokens
 *   unless `--max-windows` caps them (the cap is printed), wall time of `perplexity()` and, apart,
 *   of tokenizing the corpus.
 *
 * Progress goes to stderr; a table goes to stdout, then one JSON line with every measurement.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { getGpu } from "../thanos/gpu/device.ts";
import { evalWindows } from "../thanos/data/calibration.ts";
import { corpusTokens, loadCorpus } from "../thanos/data/corpus.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { defaultBatchSize, perplexity } from "../thanos/eval.ts";
import { openCheckpoint } from "../thanos/model/checkpoint.ts";
import { forwardNll, loadModel } from "../thanos/model/load.ts";
import { exists } from "../thanos/util/fs.ts";
import { bestSeconds } from "./timing.ts";

const FIXTURES = ["models/tiny-llama", "models/tiny-opt", "models/tiny-gpt2"];

interface ModelRow {
  model: string;
  family: string;
  parameters: number;
  seqlen: number;
  batch: number;
  /** best forward time of batch·seqlen tokens */
  forwardSeconds: number;
  tokensPerSecond: number;
  data: string;
  windows: number;
  /** windows available before --max-windows */
  windowsAvailable: number;
  perplexity: number;
  perplexitySeconds: number;
  tokenizeSeconds: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string", multiple: true },
    seqlen: { type: "string", default: "256" },
    batch: { type: "string" },
    repeats: { type: "string", default: "3" },
    "max-windows": { type: "string" },
    data: { type: "string", default: "sotu-eval" },
  },
  strict: true,
});

const root = new URL("../", import.meta.url).pathname;
const models = values.model ??
  (await Promise.all(FIXTURES.map(async (m) => (await exists(root + m)) ? root + m : null)))
    .filter((m): m is string => m !== null);
if (models.length === 0) {
  console.error(`bench:model: none of ${FIXTURES.join(", ")} exists yet; pass --model <dir|hf:id>`);
  Deno.exit(2);
}
const seqlenWanted = Number(values.seqlen), repeats = Number(values.repeats);
const maxWindows = values["max-windows"] === undefined ? undefined : Number(values["max-windows"]);
const gpu = await getGpu();
console.error(`bench:model on ${gpu.info.description}`);

const rows: ModelRow[] = [];
for (const source of models) {
  const checkpoint = await openCheckpoint(source);
  const seqlen = Math.min(seqlenWanted, checkpoint.config.maxPositions);
  const model = await loadModel(checkpoint);
  const batch = values.batch ? Number(values.batch) : defaultBatchSize(model, seqlen);
  const parameters = checkpoint.layout.tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);

  // the corpus, tokenized once (timed apart from the model)
  const tokenizer = await loadTokenizer(checkpoint.tokenizerPath ?? checkpoint.dir);
  const corpus = await loadCorpus(values.data!);
  const t0 = performance.now();
  const tokens = corpusTokens(corpus, tokenizer);
  const tokenizeSeconds = (performance.now() - t0) / 1000;
  const all = evalWindows(tokens, seqlen);
  const windows = maxWindows ? evalWindows(tokens, seqlen, maxWindows) : all;

  // forward throughput on the first `batch` windows of the corpus
  const ids = all.tokens.subarray(0, Math.min(batch, all.count) * seqlen);
  const b = ids.length / seqlen;
  // after a warm-up run (pipeline compilation, lazy block loads); forwardNll reads back, so it waits for the GPU
  const best = await bestSeconds(null, () => forwardNll(model, ids, b, seqlen), { runs: repeats });
  console.error(`${source}: forward ${b}x${seqlen} tokens in ${best.toFixed(3)} s`);

  const ppl = await perplexity(model, windows, {
    onProgress: (p) =>
      console.error(`${source}: perplexity ${p.windows}/${p.total} windows, ${p.seconds.toFixed(1)} s`),
  });
  model.release();
  rows.push({
    model: source.startsWith(root) ? source.slice(root.length) : source,
    family: checkpoint.config.family,
    parameters,
    seqlen,
    batch: b,
    forwardSeconds: best,
    tokensPerSecond: (b * seqlen) / best,
    data: values.data!,
    windows: windows.count,
    windowsAvailable: all.count,
    perplexity: ppl.perplexity,
    perplexitySeconds: ppl.seconds,
    tokenizeSeconds,
  });
}

console.log(`adapter: ${gpu.info.description}`);
console.log(
  ["model", "params", "seqlen", "batch", "tok/s", "windows", "ppl", "ppl s", "tokenize s"]
    .map((h, i) => i ? h.padStart(12) : h.padEnd(20)).join(""),
);
for (const r of rows) {
  console.log(
    [
      r.model.padEnd(20),
      `${(r.parameters / 1e6).toFixed(2)}M`,
      r.seqlen,
      r.batch,
      r.tokensPerSecond.toFixed(0),
      r.windows === r.windowsAvailable ? `${r.windows}` : `${r.windows}/${r.windowsAvailable}`,
      r.perplexity.toPrecision(5),
      r.perplexitySeconds.toFixed(1),
      r.tokenizeSeconds.toFixed(2),
    ].map((v, i) => (i ? String(v).padStart(12) : v)).join(""),
  );
}
console.log(JSON.stringify({ adapter: gpu.info.description, rows }));
