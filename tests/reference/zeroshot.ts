/**
 * Plain-TS float64 oracle of the zero-shot scoring kernel (shaders/token_logprob.wgsl): per row,
 * log-softmax of the logits at the target and whether the target is the first argmax, as
 * lm-eval's `_loglikelihood_tokens` reads them (lm_eval/models/huggingface.py, v0.4.7:
 * `F.log_softmax(...)`, `torch.gather(logits, 2, cont_toks)`, `logits.argmax(dim=-1) == cont_toks`).
 */

/**
 * @param logits [rows, vocab] row-major
 * @param targets [rows] ids
 * @returns [rows, 2]: (log p(target), 1 if the target is the first maximal id else 0)
 */
export function tokenLogprobs(
  logits: ArrayLike<number>,
  rows: number,
  vocab: number,
  targets: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity, arg = 0;
    for (let c = 0; c < vocab; c++) {
      const x = logits[r * vocab + c];
      if (x > max) max = x, arg = c; // strict: the first maximal id, as torch.argmax
    }
    let sum = 0;
    for (let c = 0; c < vocab; c++) sum += Math.exp(logits[r * vocab + c] - max);
    out[2 * r] = logits[r * vocab + targets[r]] - max - Math.log(sum);
    out[2 * r + 1] = arg === targets[r] ? 1 : 0;
  }
  return out;
}
