/**
 * `tokenLogprobUpdate`: the vocabulary-chunked reduction behind lm-eval's loglikelihood requests
 * — per row, log p(target) under a log-softmax of the logits and whether the target is the row's
 * argmax (shaders/token_logprob.wgsl). Like `nllUpdate` (ops.ts), whose launch loop it shares
 * (`vocabChunkUpdate`), it folds one column chunk of logits at a time into a running state, so the
 * LM head never needs the whole [rows, vocab] logits at once, and only [rows, 2] values are ever
 * read back.
 *
 * @module
 */

import type { Tensor } from "../gpu/tensor.ts";
import type { MatrixView } from "../linalg/view.ts";
import { type NllChunk, vocabChunkUpdate } from "./ops.ts";

/**
 * Folds one column chunk of logits into the running state and, on the last chunk, writes
 * `scores[r] = (logits[r, t] − logsumexp(logits[r, :]), argmax(logits[r, :]) == t ? 1 : 0)` for
 * `t = targets[r]`; the argmax is the first maximal id, as `torch.argmax`.
 *
 * @param logits view [rows, cols]: vocabulary columns lo .. lo+cols−1
 * @param targets u32 [rows] vocabulary ids
 * @param state f32 [rows, 4] running (max, Σexp, target logit, argmax), carried between chunks
 * @param scores f32 [rows, 2], written by the last chunk
 * @param chunk lo, first, last
 * @example
 * ```ts
 * await tokenLogprobUpdate(mat(logits), targets, state, scores, { lo: 0, first: true, last: true });
 * ```
 */
export async function tokenLogprobUpdate(
  logits: MatrixView,
  targets: Tensor,
  state: Tensor,
  scores: Tensor,
  chunk: NllChunk,
): Promise<void> {
  await vocabChunkUpdate("tokenLogprobUpdate", "token_logprob", logits, targets, state, scores, chunk);
}
