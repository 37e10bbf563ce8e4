/**
 * Perplexity, as the pruning papers' reference code evaluates it (SparseGPT / Wanda / Thanos
 * `eval_ppl`): the token stream is cut into non-overlapping windows of `seqlen` tokens (the
 * remainder dropped; see `evalWindows`), each window is an independent sequence starting at
 * position 0, the model predicts positions 1..seqlen−1 of every window, and
 *
 *   perplexity = exp(mean NLL over all predictions)
 *
 * (the reference's exp(Σ_w seqlen·loss_w / (windows·seqlen)) is the same number: every window has
 * the same number of predictions). Windows are evaluated in batches on the GPU; only the
 * per-position NLL values are read back.
 *
 * @module
 */

import type { CausalLM } from "./model/forward.ts";
import { forwardNll } from "./model/load.ts";
import { batchSizeFor } from "./memory_plan.ts";

/** Token windows to evaluate: `count` windows of `seqlen` ids, row-major (e.g. from `evalWindows`). */
export interface EvalWindows {
  tokens: Uint32Array;
  count: number;
  seqlen: number;
}

/** Progress after each batch of windows. */
export interface PerplexityProgress {
  /** windows done so far */
  windows: number;
  /** windows in total */
  total: number;
  /** mean NLL so far */
  nll: number;
  /** seconds since the start */
  seconds: number;
}

/** Options of {@link perplexity}. */
export interface PerplexityOptions {
  /**
   * Windows per forward pass. Default: as many as keep the widest activation of one pass under
   * 64 MiB (and the storage-binding limit), at most 16.
   */
  batchSize?: number;
  /** Called after every batch (awaited when it returns a promise). */
  onProgress?: (progress: PerplexityProgress) => Promise<void> | void;
}

/** Result of {@link perplexity}. */
export interface PerplexityResult {
  /** exp(nll) */
  perplexity: number;
  /** mean next-token NLL over all predictions (nats) */
  nll: number;
  /** windows evaluated */
  windows: number;
  /** tokens in those windows (windows · seqlen) */
  tokens: number;
  /** predictions scored (windows · (seqlen − 1)) */
  predictions: number;
  seqlen: number;
  /** wall time of the evaluation */
  seconds: number;
}

/**
 * The default number of windows per forward pass for `model` at `seqlen` (see
 * {@link PerplexityOptions.batchSize}).
 */
export function defaultBatchSize(model: CausalLM, seqlen: number): number {
  return batchSizeFor(model.config, seqlen, model.gpu.limits.maxStorageBufferBindingSize);
}

/**
 * Perplexity of `model` on token windows (see the module documentation).
 *
 * @param model the model
 * @param windows `count` windows of `seqlen` tokens, e.g. `evalWindows(tokens, 256)`
 * @param options batch size and a progress callback
 * @returns perplexity, mean NLL, counts and wall time
 * @throws RangeError for empty windows, seqlen < 2 (no predictions), a batch size < 1, or (from
 *   the model) token ids outside the vocabulary or seqlen beyond the model's context
 * @example
 * ```ts
 * const model = await loadModel("models/tiny-llama");
 * const tokens = corpusTokens(await loadCorpus("sotu-eval"), await loadTokenizer("models/tiny-llama"));
 * const { perplexity } = await perplexity(model, evalWindows(tokens, 256));
 * ```
 */
export async function perplexity(
  model: CausalLM,
  windows: EvalWindows,
  options: PerplexityOptions = {},
): Promise<PerplexityResult> {
  const { tokens, count, seqlen } = windows;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`perplexity: ${count} windows; expected at least 1`);
  if (!Number.isInteger(seqlen) || seqlen < 2) {
    throw new RangeError(
      `perplexity: seqlen is ${seqlen}; expected an integer >= 2 (a window needs a token to predict)`,
    );
  }
  if (tokens.length !== count * seqlen) {
    throw new RangeError(
      `perplexity: ${tokens.length} tokens; expected count·seqlen = ${count}·${seqlen} = ${count * seqlen}`,
    );
  }
  const batchSize = options.batchSize ?? defaultBatchSize(model, seqlen);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`perplexity: batchSize is ${batchSize}; expected an integer >= 1`);
  }
  await model.gpu.releaseSpares(); // whatever ran before (a prune) left spares of other shapes
  const started = performance.now();
  let sum = 0, predictions = 0;
  for (let w0 = 0; w0 < count; w0 += batchSize) {
    const batch = Math.min(batchSize, count - w0);
    const ids = tokens.subarray(w0 * seqlen, (w0 + batch) * seqlen);
    const nll = await forwardNll(model, ids, batch, seqlen); // [batch·(seqlen−1)]
    for (const v of nll) sum += v;
    predictions += nll.length;
    await options.onProgress?.({
      windows: w0 + batch,
      total: count,
      nll: sum / predictions,
      seconds: (performance.now() - started) / 1000,
    });
  }
  const nll = sum / predictions;
  return {
    perplexity: Math.exp(nll),
    nll,
    windows: count,
    tokens: count * seqlen,
    predictions,
    seqlen,
    seconds: (performance.now() - started) / 1000,
  };
}
