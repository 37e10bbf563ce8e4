/**
 * `deno task generate --model <dir|hf:ORG/NAME> --prompt TEXT [--max-new-tokens 64] [--temperature 0]
 *   [--top-k 0] [--top-p 1] [--seed 0] [--stop TEXT]… [--dense-weights] [--half-weights]`
 *
 * Generates a continuation of the prompt with the KV-cache decoder (thanos/decode/): greedy at
 * temperature 0, else sampling with top-k / top-p, reproducible for a seed. The text streams to
 * stdout as it is decoded; generation stops at the config's `eos_token_id`, a `--stop` string or
 * after `--max-new-tokens`. Then a newline and, as the last stdout line, one JSON object:
 * `{model, tokens, prompt_tokens, text, stop_reason, seconds, prefill_seconds, decode_seconds,
 * tokens_per_second, prefill_tokens_per_second, dispatches_per_token, readbacks_per_token, adapter,
 * block_weight_bytes: {dense, compressed}}`
 * (`tokens` without the prompt; `prompt_tokens` as the tokenizer encodes the prompt with the special
 * tokens its config adds; `tokens_per_second` counts decode steps only).
 *
 * Any checkpoint the project loads works, including those `deno task prune` writes. The sparse layers of
 * a compressed checkpoint stay compressed on the GPU and every token multiplies them with the sparse
 * kernels; `--dense-weights` expands them to dense at load instead (to compare). `--half-weights` keeps an
 * F16/BF16 checkpoint's block linear weights at 2 bytes a weight on the GPU (shaders/matvec_half.wgsl
 * per token, matmul_half_weight.wgsl for the prompt) instead of widening them to f32. Bad input (an
 * empty prompt, a prompt that fills the context, --max-new-tokens ≤ 0 or past the context,
 * --temperature < 0, --top-p outside (0, 1], --top-k < 0, an unknown flag, a model without a
 * tokenizer) → one line on stderr, exit code 2, before any GPU work. Ctrl-C ends generation after
 * the current token: what was printed stays, the JSON line follows (stop_reason "interrupted"),
 * exit code 130.
 *
 * @module
 */

import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { checkGenerationLength, generate } from "../thanos/decode/generate.ts";
import { resolveSampling } from "../thanos/decode/sampling.ts";
import { getGpu } from "../thanos/gpu/device.ts";
import { openCheckpoint } from "../thanos/model/checkpoint.ts";
import { loadModel } from "../thanos/model/load.ts";
import type { DecoderModel } from "../thanos/model/forward.ts";
import { asInput, helpGiven, intFlag, log, main, numberFlag, parse, requireFlags, UsageError } from "./common.ts";

const USAGE = "usage: deno task generate --model <dir|hf:ORG/NAME> --prompt TEXT [--max-new-tokens 64] " +
  "[--temperature 0] [--top-k 0] [--top-p 1] [--seed 0] [--stop TEXT]... [--dense-weights] [--half-weights]";

/** Exit code after Ctrl-C (128 + SIGINT), once the partial result is printed. */
const INTERRUPTED = 130;

async function run(): Promise<unknown> {
  const { values } = parse(Deno.args, {
    model: { type: "string" },
    prompt: { type: "string" },
    "max-new-tokens": { type: "string" },
    temperature: { type: "string" },
    "top-k": { type: "string" },
    "top-p": { type: "string" },
    seed: { type: "string" },
    stop: { type: "string", multiple: true },
    "dense-weights": { type: "boolean" },
    "half-weights": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (helpGiven(values, USAGE)) return undefined;
  requireFlags(values, "model");
  if (values.prompt === undefined) throw new UsageError(`Missing --prompt (see --help)`);
  if (values.prompt.length === 0) throw new UsageError(`Expected a non-empty --prompt but found ""`);
  const maxNewTokens = intFlag("max-new-tokens", values["max-new-tokens"], 64);
  const sampling = asUsage(() =>
    resolveSampling({
      temperature: numberFlag("temperature", values.temperature, 0),
      topK: intFlag("top-k", values["top-k"], 0),
      topP: numberFlag("top-p", values["top-p"], 1),
      seed: intFlag("seed", values.seed, 0),
    })
  );
  const checkpoint = await asInput(() => openCheckpoint(values.model!));
  if (checkpoint.tokenizerPath === null) {
    throw new UsageError(
      `${checkpoint.dir} has no tokenizer (tokenizer.json, or vocab.json with merges.txt); generate needs one to encode --prompt`,
    );
  }
  const tokenizer = await asInput(() => loadTokenizer(checkpoint.tokenizerPath!));
  const promptTokens = tokenizer.encode(values.prompt, { addSpecialTokens: true });
  asUsage(() => checkGenerationLength(promptTokens.length, maxNewTokens, checkpoint.config.maxPositions));

  const gpu = await getGpu();
  log(
    `generate: ${checkpoint.config.family} from ${checkpoint.dir}, ${promptTokens.length} prompt tokens, ` +
      `up to ${maxNewTokens} new, on ${gpu.info.description}`,
  );
  // a compressed checkpoint's sparse layers stay compressed (sparse kernels) unless --dense-weights
  const model = await loadModel(checkpoint, {
    denseWeights: values["dense-weights"] ?? false,
    halfWeights: values["half-weights"] ?? false,
  }) as DecoderModel;
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  Deno.addSignalListener("SIGINT", onSigint);
  const stdout = new TextEncoder();
  try {
    const t0 = performance.now();
    const out = await generate(model, tokenizer, promptTokens, {
      ...sampling,
      maxNewTokens,
      stop: values.stop,
      signal: controller.signal,
      onToken: (_id, text) => void Deno.stdout.writeSync(stdout.encode(text)),
    });
    Deno.stdout.writeSync(stdout.encode("\n"));
    const bytes = model.linearWeightBytes();
    const result = {
      model: values.model,
      tokens: out.tokens,
      prompt_tokens: out.promptTokens,
      text: out.text,
      stop_reason: out.stopReason === "aborted" ? "interrupted" : out.stopReason,
      seconds: (performance.now() - t0) / 1000,
      prefill_seconds: out.prefillSeconds,
      decode_seconds: out.decodeSeconds,
      tokens_per_second: out.tokensPerSecond,
      prefill_tokens_per_second: out.prefillTokensPerSecond,
      dispatches_per_token: out.dispatchesPerToken,
      readbacks_per_token: out.readbacksPerToken,
      adapter: gpu.info.description,
      // GPU bytes of the block linear weights the decoder read: held dense, and held compressed
      block_weight_bytes: { dense: bytes.dense, compressed: bytes.compressed },
    };
    if (out.stopReason === "aborted") {
      console.log(JSON.stringify(result));
      Deno.exit(INTERRUPTED);
    }
    return result;
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
    model.release();
  }
}

/** Runs a validation, reporting its RangeError as bad input with the flag's spelling. */
function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof RangeError) {
      throw new UsageError(err.message.replace(/^(temperature|top-k|top-p|seed|max-new-tokens) is /, "--$1 is "));
    }
    throw err;
  }
}

if (import.meta.main) await main(run);
