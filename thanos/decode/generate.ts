/**
 * Text generation: prefill the prompt, then decode one token at a time with the KV cache until an
 * end-of-sequence token, a stop string or `maxNewTokens`, streaming each token to a callback.
 *
 * One readback per token: greedy decoding reads back the argmax computed on the GPU (4 bytes);
 * sampling reads back the logits row once and picks on the CPU ({@link Sampler}). Timings and the
 * dispatches and readbacks per decoded token are returned, nothing is printed.
 *
 * @module
 */

import type { TextTokenizer } from "../data/tokenizer.ts";
import type { CausalLM } from "../model/forward.ts";
import { Decoder } from "./decoder.ts";
import { resolveSampling, Sampler, type SamplingOptions } from "./sampling.ts";

/** Options of {@link generate}. */
export interface GenerateOptions extends SamplingOptions {
  /** tokens to generate at most (default 64); prompt + maxNewTokens must fit the model's context */
  maxNewTokens?: number;
  /** end-of-sequence ids (default the config's `eos_token_id`, one or a list); [] never stops early */
  eosTokenIds?: readonly number[];
  /** stop once the generated text contains one of these (the text ends after it) */
  stop?: readonly string[];
  /** called after every generated token, with the text it added (may be "" while a character is incomplete) */
  onToken?: (token: number, text: string) => void | Promise<void>;
  /** ends generation (with what was generated so far) when aborted */
  signal?: AbortSignal;
  /** largest tensor of one KV-cache chunk (tests lower it) */
  maxChunkBytes?: number;
}

/** Why generation ended. */
export type StopReason = "eos" | "stop" | "max_new_tokens" | "aborted";

/** What {@link generate} returns. */
export interface GenerateResult {
  /** the prompt's ids, as encoded (special tokens as the tokenizer config adds them) */
  promptTokens: number[];
  /** generated ids, prompt excluded (an end-of-sequence id that stopped it included) */
  tokens: number[];
  /** the generated text (special tokens skipped; cut after a stop string) */
  text: string;
  stopReason: StopReason;
  /** the prompt through the model and the first token picked */
  prefillSeconds: number;
  /** every later token: one decode step and one pick each */
  decodeSeconds: number;
  /** decode steps per second: (tokens − 1) / decodeSeconds (0 when only one token was generated) */
  tokensPerSecond: number;
  /** GPU dispatches per decode step */
  dispatchesPerToken: number;
  /** GPU → CPU readbacks per generated token in the decode phase */
  readbacksPerToken: number;
  /** prefill: prompt tokens per second */
  prefillTokensPerSecond: number;
}

/**
 * Checks the length options against the model's context.
 * @throws RangeError naming the value and what was expected
 */
export function checkGenerationLength(promptTokens: number, maxNewTokens: number, context: number): void {
  if (promptTokens < 1) throw new RangeError("the prompt is empty; expected at least one token");
  if (promptTokens >= context) {
    throw new RangeError(
      `the prompt has ${promptTokens} tokens; expected fewer than the model's context of ${context} positions`,
    );
  }
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
    throw new RangeError(`max-new-tokens is ${maxNewTokens}; expected an integer >= 1`);
  }
  if (promptTokens + maxNewTokens > context) {
    throw new RangeError(
      `max-new-tokens is ${maxNewTokens}; expected at most ${context - promptTokens} (the model's context of ` +
        `${context} positions minus the prompt's ${promptTokens} tokens)`,
    );
  }
}

/**
 * Generates a continuation of `prompt`.
 *
 * @param model a model from `loadModel` (dense or pruned)
 * @param tokenizer encodes a text prompt and decodes the output
 * @param prompt text (encoded with the tokenizer's special tokens) or token ids
 * @param options sampling, length, stop conditions, streaming callback
 * @returns tokens, text, why it stopped, timings and per-token dispatch/readback counts
 * @throws RangeError for bad options or a prompt that does not fit the context (before GPU work)
 * @example
 * ```ts
 * const model = await loadModel("models/tiny-llama");
 * const tokenizer = await loadTokenizer("models/tiny-llama");
 * const out = await generate(model, tokenizer, "The state of the Union is", {
 *   maxNewTokens: 20,
 *   onToken: (_id, text) => Deno.stdout.writeSync(new TextEncoder().encode(text)),
 * });
 * console.log(out.tokensPerSecond);
 * ```
 */
export async function generate(
  model: CausalLM,
  tokenizer: TextTokenizer,
  prompt: string | readonly number[],
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  const maxNewTokens = options.maxNewTokens ?? 64;
  const promptTokens = promptIds(tokenizer, prompt);
  checkGenerationLength(promptTokens.length, maxNewTokens, model.config.maxPositions);
  const eos = new Set(options.eosTokenIds ?? model.config.eosTokenIds);
  const stops = (options.stop ?? []).filter((s) => s.length > 0);
  const sampler = new Sampler(resolveSampling(options)); // validated before any GPU work

  const t0 = performance.now();
  using decoder = await Decoder.create(model, {
    maxLength: promptTokens.length + maxNewTokens,
    maxChunkBytes: options.maxChunkBytes,
  });
  await decoder.prefill(Uint32Array.from(promptTokens));

  const tokens: number[] = [];
  const out = new EmittedText(tokenizer, stops);
  let stopReason: StopReason = "max_new_tokens";
  let prefillSeconds = 0, tDecode = 0, dispatches = 0, readbacks = 0, steps = 0;
  /** runs one decode step's work (step + pick), counting its dispatches and readbacks */
  const counted = async <T>(work: () => Promise<T>): Promise<T> => {
    const { recorder } = model.gpu, d = recorder.dispatchCount, r = recorder.readbackCount;
    const out = await work();
    dispatches += recorder.dispatchCount - d;
    readbacks += recorder.readbackCount - r;
    steps++;
    return out;
  };
  // greedy: token i+1's step is recorded from token i's argmax on the GPU while token i is still on its
  // way back (one readback a token, its latency hidden behind the next step's work); a step recorded
  // after the last token that ends generation is wasted, and its time is counted
  let ahead = sampler.greedy ? await decoder.startArgmax() : null;
  for (let i = 0; i < maxNewTokens; i++) {
    if (options.signal?.aborted) {
      stopReason = "aborted";
      break;
    }
    let token: number;
    if (ahead) {
      const current = ahead;
      ahead = null;
      if (i + 1 < maxNewTokens) {
        ahead = await counted(async () => (await decoder.stepOnArgmax(), await decoder.startArgmax()));
      }
      token = await current.token;
    } else {
      const pick = async () => sampler.sample(await decoder.readLogits());
      token = i > 0 ? await counted(async () => (await decoder.step(tokens[i - 1]), await pick())) : await pick();
    }
    if (i === 0) {
      prefillSeconds = (performance.now() - t0) / 1000;
      tDecode = performance.now();
    }
    tokens.push(token);
    const { piece, stopped } = out.advance(tokens);
    await options.onToken?.(token, piece);
    if (stopped) {
      stopReason = "stop";
      break;
    }
    if (eos.has(token)) {
      stopReason = "eos";
      break;
    }
  }
  if (ahead) await ahead.token; // the look-ahead's readback, so nothing is left in flight
  const decodeSeconds = tokens.length > 0 ? (performance.now() - tDecode) / 1000 : 0;
  return summary(promptTokens, tokens, out.text, stopReason, {
    prefillSeconds,
    decodeSeconds,
    dispatches,
    readbacks,
    steps,
  });
}

/** The prompt's ids: a text encoded with the special tokens its tokenizer config adds, or ids as given. */
function promptIds(tokenizer: TextTokenizer, prompt: string | readonly number[]): number[] {
  if (typeof prompt !== "string") return [...prompt];
  if (prompt.length === 0) throw new RangeError("the prompt is empty; expected some text");
  return tokenizer.encode(prompt, { addSpecialTokens: true });
}

/** The result record of {@link generate}, rates from its counts and times. */
function summary(
  promptTokens: number[],
  tokens: number[],
  text: string,
  stopReason: StopReason,
  c: { prefillSeconds: number; decodeSeconds: number; dispatches: number; readbacks: number; steps: number },
): GenerateResult {
  const later = Math.max(0, tokens.length - 1); //                   decode rate: tokens after the first
  return {
    promptTokens,
    tokens,
    text,
    stopReason,
    prefillSeconds: c.prefillSeconds,
    decodeSeconds: c.decodeSeconds,
    tokensPerSecond: later > 0 ? later / c.decodeSeconds : 0,
    dispatchesPerToken: c.steps > 0 ? c.dispatches / c.steps : 0,
    readbacksPerToken: c.steps > 0 ? c.readbacks / c.steps : 0,
    prefillTokensPerSecond: c.prefillSeconds > 0 ? promptTokens.length / c.prefillSeconds : 0,
  };
}

/**
 * The text generated so far and how much of it was handed out: a trailing incomplete character
 * (U+FFFD from a partial UTF-8 sequence) is held back, and the text ends after a stop string.
 */
class EmittedText {
  text = "";
  #emitted = 0;

  constructor(readonly tokenizer: TextTokenizer, readonly stops: readonly string[]) {}

  /** The text `tokens` add past what was handed out, and whether a stop string ended it. */
  advance(tokens: readonly number[]): { piece: string; stopped: boolean } {
    const cut = cutAtStop(this.tokenizer.decode(tokens, { skipSpecialTokens: true }), this.stops, this.#emitted);
    this.text = cut.text;
    const ready = cut.stopped || !this.text.endsWith("\uFFFD") ? this.text.length : this.#emitted;
    const piece = this.text.slice(this.#emitted, Math.max(this.#emitted, ready));
    this.#emitted = Math.max(this.#emitted, ready);
    return { piece, stopped: cut.stopped };
  }
}

/**
 * `text` cut just after the first stop string found in its part from `emitted` on (a stop string
 * may straddle that point), and whether one was found.
 */
function cutAtStop(text: string, stops: readonly string[], emitted: number): { text: string; stopped: boolean } {
  let stopped = false;
  for (const s of stops) {
    const at = text.indexOf(s, Math.max(0, emitted - s.length));
    if (at >= 0) {
      text = text.slice(0, at + s.length);
      stopped = true;
    }
  }
  return { text, stopped };
}
