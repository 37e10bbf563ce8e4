/**
 * `deno task eval --model <dir|hf:ORG/NAME> --data <corpus|path> [--seqlen N] [--max-windows K]
 *   [--batch-size B] [--streaming] [--dense-weights] [--half-weights]`
 *
 * Perplexity of a checkpoint on a corpus, as thanos/eval.ts defines it: non-overlapping windows of
 * `seqlen` tokens (remainder dropped), predictions 1..seqlen−1 of each, exp(mean NLL).
 *
 * `--data` is one of
 * - a corpus name (sotu-eval, sotu-calib, sotu-train, moby-dick) or a corpus path (.txt, a
 *   directory of .txt, WikiText .parquet / .raw, C4 .json.gz), tokenized with the checkpoint's
 *   tokenizer.json;
 * - a `.json` file of token ids: either an array of windows (`[[id, …], [id, …]]`, all the same
 *   length, which is then the seqlen; `--seqlen` must agree or be omitted), or one flat array
 *   (`[id, id, …]`, a token stream cut into windows of `--seqlen`).
 *
 * Default seqlen: min(the model's context, 2048), as the papers' reference code (and `deno task
 * prune`) evaluates; on a software adapter pass e.g. `--seqlen 256` for speed with large models.
 *
 * A compressed checkpoint's sparse linear weights stay compressed on the GPU and the forward runs the
 * sparse products; `--dense-weights` holds them dense (decompressed at load) for comparison.
 * `--half-weights` keeps an F16/BF16 checkpoint's block linear weights at 2 bytes a weight on the GPU
 * (packed pairs widened in the shader; f32 arithmetic) instead of widening them to f32 at load.
 *
 * Progress goes to stderr; the last stdout line is
 * `{model, data, windows, tokens, perplexity, seconds, seqlen, nll, weights, block_weight_bytes}`
 * (`weights`: "compressed" when any linear weight was held compressed, else "dense";
 * `block_weight_bytes`: the GPU bytes of the linear weights held dense and compressed, as `generate` reports them). Bad input (missing
 * config.json or weights, unsupported model_type, an empty corpus, token ids outside the
 * vocabulary, seqlen beyond the model's context) → one line on stderr, exit code 2.
 *
 * @module
 */

import { type Checkpoint, openCheckpoint } from "../thanos/model/checkpoint.ts";
import { loadModel } from "../thanos/model/load.ts";
import { loadCorpus } from "../thanos/data/corpus.ts";
import { cachedCorpusTokens } from "../thanos/data/token_cache.ts";
import { evalWindows } from "../thanos/data/calibration.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { type EvalWindows, perplexity } from "../thanos/eval.ts";
import { defaultSeqlen } from "../thanos/experiment.ts";
import { asInput, helpGiven, intFlag, log, main, parse, requireFlags, UsageError } from "./common.ts";

const USAGE = "usage: deno task eval --model <dir|hf:ORG/NAME> --data <corpus|path|ids.json> " +
  "[--seqlen N] [--max-windows K] [--batch-size B] [--streaming] [--dense-weights] [--half-weights]";

/**
 * Reads a JSON file of token ids: an array of equal-length windows, or one flat token stream.
 * @returns windows (when the file holds windows) or the flat stream
 */
export async function readTokenJson(path: string): Promise<{ windows: number[][] } | { stream: number[] }> {
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    throw new UsageError(`${path}: cannot read token ids (${(err as Error).message})`);
  }
  const isId = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (!Array.isArray(json) || json.length === 0) {
    throw new UsageError(`${path}: expected a non-empty JSON array of token ids or of windows of token ids`);
  }
  if (json.every(Array.isArray)) {
    const len = (json[0] as unknown[]).length;
    json.forEach((w: unknown[], i) => {
      if (w.length !== len || len === 0) {
        throw new UsageError(`${path}: window ${i} has ${w.length} tokens; expected every window to have ${len} (> 0)`);
      }
      const bad = w.findIndex((v) => !isId(v));
      if (bad >= 0) {
        throw new UsageError(`${path}: window ${i}, position ${bad} is ${JSON.stringify(w[bad])}; expected a token id`);
      }
    });
    return { windows: json as number[][] };
  }
  const bad = json.findIndex((v) => !isId(v));
  if (bad >= 0) {
    throw new UsageError(
      `${path}: element ${bad} is ${JSON.stringify(json[bad])}; expected a token id (or an array of them)`,
    );
  }
  return { stream: json as number[] };
}

async function loadWindows(
  checkpoint: Checkpoint,
  data: string,
  seqlenFlag: number | undefined,
  maxWindows: number | undefined,
): Promise<EvalWindows> {
  const context = checkpoint.config.maxPositions;
  if (data.toLowerCase().endsWith(".json")) {
    const ids = await readTokenJson(data);
    if ("windows" in ids) {
      const seqlen = ids.windows[0].length;
      if (seqlenFlag !== undefined && seqlenFlag !== seqlen) {
        throw new UsageError(`--seqlen ${seqlenFlag} disagrees with the ${seqlen}-token windows of ${data}`);
      }
      const count = Math.min(ids.windows.length, maxWindows ?? Infinity);
      checkSeqlen(seqlen, context);
      return { tokens: Uint32Array.from(ids.windows.slice(0, count).flat()), count, seqlen };
    }
    const seqlen = seqlenFlag ?? defaultSeqlen(context);
    checkSeqlen(seqlen, context);
    return asInput(() => Promise.resolve(evalWindows(ids.stream, seqlen, maxWindows)));
  }
  const seqlen = seqlenFlag ?? defaultSeqlen(context);
  checkSeqlen(seqlen, context);
  if (checkpoint.tokenizerPath === null) {
    throw new UsageError(
      `${checkpoint.dir} has no tokenizer (tokenizer.json, or vocab.json with merges.txt); pass --data as a .json file of token ids instead`,
    );
  }
  const tokens = await asInput(async () => {
    const [corpus, tokenizer] = await Promise.all([loadCorpus(data), loadTokenizer(checkpoint.tokenizerPath!)]);
    log(`eval: ${corpus.description}`);
    return cachedCorpusTokens(corpus, tokenizer);
  });
  if (tokens.length === 0) throw new UsageError(`${data}: the corpus is empty (0 tokens)`);
  return asInput(() => Promise.resolve(evalWindows(tokens, seqlen, maxWindows)));
}

function checkSeqlen(seqlen: number, context: number): void {
  if (seqlen < 2) {
    throw new UsageError(`Expected --seqlen >= 2 (a window needs a token to predict) but found ${seqlen}`);
  }
  if (seqlen > context) throw new UsageError(`--seqlen ${seqlen} exceeds the model's context of ${context} positions`);
}

async function run(): Promise<unknown> {
  const { values } = parse(Deno.args, {
    model: { type: "string" },
    data: { type: "string" },
    seqlen: { type: "string" },
    "max-windows": { type: "string" },
    "batch-size": { type: "string" },
    streaming: { type: "boolean" },
    "dense-weights": { type: "boolean" },
    "half-weights": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (helpGiven(values, USAGE)) return undefined;
  requireFlags(values, "model", "data");
  const seqlen = values.seqlen === undefined ? undefined : intFlag("seqlen", values.seqlen);
  const maxWindows = values["max-windows"] === undefined ? undefined : intFlag("max-windows", values["max-windows"]);
  if (maxWindows !== undefined && maxWindows < 1) {
    throw new UsageError(`Expected --max-windows >= 1 but found ${maxWindows}`);
  }
  const batchSize = values["batch-size"] === undefined ? undefined : intFlag("batch-size", values["batch-size"]);
  if (batchSize !== undefined && batchSize < 1) {
    throw new UsageError(`Expected --batch-size >= 1 but found ${batchSize}`);
  }

  const checkpoint = await asInput(() => openCheckpoint(values.model!));
  const windows = await loadWindows(checkpoint, values.data, seqlen, maxWindows);
  const vocab = checkpoint.config.vocabSize;
  const bad = windows.tokens.findIndex((id) => id >= vocab);
  if (bad >= 0) {
    throw new UsageError(
      `token id ${windows.tokens[bad]} (window ${
        Math.floor(bad / windows.seqlen)
      }) is outside the vocabulary of ${vocab}`,
    );
  }
  log(`eval: ${checkpoint.config.family} from ${checkpoint.dir}, ${windows.count} windows of ${windows.seqlen} tokens`);

  const model = await loadModel(checkpoint, {
    streaming: values.streaming ?? false,
    denseWeights: values["dense-weights"] ?? false,
    halfWeights: values["half-weights"] ?? false,
  });
  try {
    const result = await perplexity(model, windows, {
      batchSize,
      onProgress: (p) =>
        log(
          `eval: ${p.windows}/${p.total} windows, nll ${p.nll.toFixed(4)}, ppl ${Math.exp(p.nll).toFixed(3)}, ${
            p.seconds.toFixed(1)
          } s`,
        ),
    });
    const bytes = model.linearWeightBytes();
    return {
      model: values.model,
      data: values.data,
      windows: result.windows,
      tokens: result.tokens,
      perplexity: result.perplexity,
      seconds: result.seconds,
      seqlen: result.seqlen,
      nll: result.nll,
      weights: bytes.compressed > 0 ? "compressed" : "dense",
      block_weight_bytes: {
        dense: bytes.dense,
        compressed: bytes.compressed,
        compressed_as_dense: bytes.compressedAsDense,
        layers: bytes.layers,
      },
    };
  } finally {
    model.release();
  }
}

if (import.meta.main) await main(run);
