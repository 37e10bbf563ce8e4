/**
 * lm-eval's loglikelihood requests on the GPU: how a (context, continuation) pair becomes tokens,
 * how requests of different lengths are batched, and what is read back.
 *
 * Encoding (lm_eval/api/model.py v0.4.7, `TemplateLM._encode_pair` and `loglikelihood`): trailing
 * whitespace of the context moves to the front of the continuation; `whole = encode(context +
 * continuation)`, `context = encode(context)`, and the continuation's tokens are `whole` minus the
 * first len(context) tokens. `encode` adds no special tokens: lm-eval's HF backend passes
 * `add_special_tokens = False or self.add_bos_token` for causal models
 * (lm_eval/models/huggingface.py, `tok_encode`), and `add_bos_token` is False unless the user sets
 * it or the model_type contains "gemma" — none of the families here. (An empty context would be
 * replaced by the BOS/EOS token; none of the seven tasks produces one, and it is rejected here.)
 *
 * Scoring (lm_eval/models/huggingface.py, `_loglikelihood_tokens`): the model reads
 * `(context + continuation)[-(max_length + 1):][:-1]` — left-truncated to the model's context
 * (`max_length` = n_positions / max_position_embeddings / n_ctx of the config) — right-padded to
 * the longest input of its batch; the log-softmax rows at positions inplen − contlen .. inplen − 1
 * score the continuation tokens: log-likelihood = Σ log p(token), is-greedy = every token is its
 * row's argmax. Requests are sorted longest first (the harness's `_collate` key). Right padding
 * cannot change a causal model's earlier positions, so results do not depend on the batch size.
 *
 * @module
 */

import type { CausalLM } from "../model/forward.ts";
import { forwardHidden } from "../model/load.ts";
import type { TextTokenizer } from "../data/tokenizer.ts";
import { pyRstrip } from "./python.ts";

/** A request's tokens. */
export interface EncodedRequest {
  context: number[];
  continuation: number[];
}

/** What lm-eval returns for one loglikelihood request. */
export interface LoglikelihoodResult {
  /** Σ log p over the continuation's tokens (the f32 value lm-eval's `float(logits.sum())` holds) */
  logprob: number;
  /** every continuation token is the argmax of its row */
  isGreedy: boolean;
}

/**
 * Encodes one request as lm-eval's HF backend does (see the module documentation).
 * @throws RangeError for an empty context or a continuation that encodes to no tokens
 */
export function encodeRequest(tokenizer: TextTokenizer, context: string, continuation: string): EncodedRequest {
  if (context === "") {
    throw new RangeError(`an empty context (lm-eval would substitute the BOS/EOS token) is not supported`);
  }
  const kept = pyRstrip(context);
  const nSpaces = context.length - kept.length;
  if (nSpaces > 0) {
    continuation = context.slice(kept.length) + continuation;
    context = kept;
  }
  const whole = tokenizer.encode(context + continuation, { addSpecialTokens: false });
  const ctx = tokenizer.encode(context, { addSpecialTokens: false });
  const cont = whole.slice(ctx.length);
  if (ctx.length === 0) throw new RangeError(`the context ${JSON.stringify(context)} encodes to no tokens`);
  if (cont.length === 0) {
    throw new RangeError(`the continuation ${JSON.stringify(continuation)} encodes to no tokens after its context`);
  }
  return { context: ctx, continuation: cont };
}

/** Progress after each batch. */
export interface LoglikelihoodProgress {
  done: number;
  total: number;
  seconds: number;
}

/** Options of {@link loglikelihoods}. */
export interface LoglikelihoodOptions {
  /** requests per forward pass (default: as many as fit ~64 MiB of the widest activation, at most 16) */
  batchSize?: number;
  /** lm-eval's max_length (default: the model's context, `config.maxPositions`) */
  maxLength?: number;
  onProgress?: (progress: LoglikelihoodProgress) => void;
}

const ACTIVATION_BUDGET_BYTES = 64 * 1024 * 1024;

/** The model input of a request: (context + continuation)[-(max_length + 1):][:-1]. */
function inputOf(r: EncodedRequest, maxLength: number): number[] {
  return [...r.context, ...r.continuation].slice(-(maxLength + 1)).slice(0, -1);
}

/**
 * Checks requests against the model's context before any GPU work.
 * @throws RangeError for a continuation longer than max_length (lm-eval asserts the same)
 */
export function checkRequests(requests: readonly EncodedRequest[], maxLength: number): void {
  for (const [i, r] of requests.entries()) {
    if (r.context.length === 0 || r.continuation.length === 0) {
      throw new RangeError(`request ${i} has an empty context or continuation; expected tokens in both`);
    }
    if (r.continuation.length > maxLength) {
      throw new RangeError(
        `request ${i}: the continuation has ${r.continuation.length} tokens; expected at most the model's context of ${maxLength}`,
      );
    }
  }
}

/**
 * Log-likelihood and is-greedy of every request, in request order.
 * @param model the model (its config's vocabulary bounds every token id)
 * @param requests encoded requests (e.g. from {@link encodeRequest})
 * @param options batch size, max_length, progress
 * @example
 * ```ts
 * const req = encodeRequest(tokenizer, "Question: Is water wet?\nAnswer:", " yes");
 * const [{ logprob, isGreedy }] = await loglikelihoods(model, [req]);
 * ```
 */
export async function loglikelihoods(
  model: CausalLM,
  requests: readonly EncodedRequest[],
  options: LoglikelihoodOptions = {},
): Promise<LoglikelihoodResult[]> {
  const maxLength = options.maxLength ?? model.config.maxPositions;
  checkRequests(requests, maxLength);
  const started = performance.now();
  // lm-eval's _collate: longest (context + continuation) first, ties by the tokens themselves
  const order = requests.map((_, i) => i).sort((a, b) => {
    const ta = [...requests[a].context, ...requests[a].continuation];
    const tb = [...requests[b].context, ...requests[b].continuation];
    if (ta.length !== tb.length) return tb.length - ta.length;
    for (let k = 0; k < ta.length; k++) if (ta[k] !== tb[k]) return ta[k] - tb[k];
    return a - b;
  });
  const longest = order.length ? inputOf(requests[order[0]], maxLength).length : 1;
  const c = model.config;
  const widest = Math.max(3 * c.hiddenSize, c.intermediateSize, c.numHeads * c.headDim);
  const batchSize = options.batchSize ??
    Math.max(1, Math.min(16, Math.floor(ACTIVATION_BUDGET_BYTES / (Math.max(1, longest) * widest * 4))));
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`loglikelihoods: batchSize is ${batchSize}; expected an integer >= 1`);
  }
  const results: LoglikelihoodResult[] = new Array(requests.length);
  for (let b0 = 0; b0 < order.length; b0 += batchSize) {
    const batch = order.slice(b0, b0 + batchSize);
    const inputs = batch.map((i) => inputOf(requests[i], maxLength));
    const padLen = Math.max(...inputs.map((x) => x.length));
    const ids = new Uint32Array(batch.length * padLen); // right padding with token 0 (pad_and_concat)
    const rows: number[] = [], targets: number[] = [];
    for (const [k, i] of batch.entries()) {
      ids.set(inputs[k], k * padLen);
      const cont = requests[i].continuation, inplen = inputs[k].length;
      // logits[inplen − contlen : inplen] score the continuation tokens (_select_cont_toks)
      for (let j = 0; j < cont.length; j++) rows.push(k * padLen + inplen - cont.length + j), targets.push(cont[j]);
    }
    const x = await forwardHidden(model, ids, batch.length, padLen);
    let scores: Float32Array;
    try {
      scores = await model.tokenLogprobs(x, Uint32Array.from(rows), Uint32Array.from(targets)); // [m, 2]
    } finally {
      x.release();
    }
    let at = 0;
    for (const i of batch) {
      let sum = 0, greedy = true;
      for (let j = 0; j < requests[i].continuation.length; j++, at++) {
        sum += scores[2 * at];
        greedy &&= scores[2 * at + 1] === 1;
      }
      results[i] = { logprob: Math.fround(sum), isGreedy: greedy };
    }
    options.onProgress?.({
      done: Math.min(order.length, b0 + batchSize),
      total: order.length,
      seconds: (performance.now() - started) / 1000,
    });
  }
  return results;
}
