/**
 * Scoring a given continuation under a model (teacher forcing): where a pruned model's
 * predictions diverge from the dense model's text.
 *
 * @module
 */

import type { CausalLM } from "../model/forward.ts";
import { forwardNll } from "../model/load.ts";

/**
 * log p(c_i | prompt, c_<i) of every token of `continuation`, from one batched forward pass over
 * prompt + continuation (natural log).
 *
 * @param model any loaded model
 * @param prompt token ids, at least one
 * @param continuation token ids that follow the prompt
 * @returns [continuation.length] log-probabilities
 * @throws RangeError when prompt + continuation exceed the model's context or the prompt is empty
 * @example
 * ```ts
 * const dense = await generate(denseModel, tokenizer, prompt, { maxNewTokens: 20 });
 * const lp = await continuationLogProbs(prunedModel, dense.promptTokens, dense.tokens); // [20]
 * ```
 */
export async function continuationLogProbs(
  model: CausalLM,
  prompt: readonly number[],
  continuation: readonly number[],
): Promise<Float64Array> {
  const T = prompt.length + continuation.length;
  if (prompt.length < 1) throw new RangeError("continuationLogProbs: the prompt is empty; expected at least one token");
  if (T > model.config.maxPositions) {
    throw new RangeError(
      `continuationLogProbs: prompt + continuation are ${T} tokens; expected at most the model's context of ${model.config.maxPositions}`,
    );
  }
  if (continuation.length === 0) return new Float64Array(0);
  const nll = await forwardNll(model, Uint32Array.from([...prompt, ...continuation]), 1, T); // [T − 1]: position t predicts t + 1
  return Float64Array.from(continuation, (_, i) => -nll[prompt.length - 1 + i]);
}
