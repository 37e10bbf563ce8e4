/**
 * `tokenLogprobUpdate`: the vocabulary-chunked reduction behind lm-eval's loglikelihood requests
 * — per row, log p(target) under a log-softmax of the logits and whether the target is the row's
 * argmax (shaders/token_logprob.wgsl). Like `nllUpdate` (ops.ts), it folds one column chunk of
 * logits at a time into a running state, so the LM head never needs the whole [rows, vocab]
 * logits at once, and only [rows, 2] values are ever read back.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { grid1d, launch } from "../gpu/launch.ts";
import { budgetRanges, loopCost } from "../gpu/loop_budget.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { checkNoAlias, checkTensor, checkView } from "../linalg/checks.ts";
import type { MatrixView } from "../linalg/view.ts";
import type { NllChunk } from "./ops.ts";

/** Invocations per row: as ops.ts's row reductions (16 on software adapters, where barriers cost). */
function rowWorkgroupSize(gpu: Gpu): number {
  return gpu.info.isFallback ? 16 : 128;
}

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
  const op = "tokenLogprobUpdate";
  checkView(op, "logits", logits);
  const rows = logits.rows;
  checkTensor(op, "targets", targets, "u32", 0);
  if (targets.size !== rows) {
    throw new RangeError(
      `${op}: targets "${targets.label}" has ${targets.size} elements; expected ${rows} (one per logits row)`,
    );
  }
  for (const [name, t, n] of [["state", state, 4], ["scores", scores, 2]] as const) {
    checkTensor(op, name, t, "f32", 0);
    if (t.size !== rows * n) {
      throw new RangeError(`${op}: ${name} "${t.label}" has ${t.size} elements; expected ${rows}·${n}`);
    }
  }
  checkNoAlias(op, "state", state, "logits", logits);
  checkNoAlias(op, "scores", scores, "logits", logits);
  checkNoAlias(op, "scores", scores, "state", state);
  if (!Number.isInteger(chunk.lo) || chunk.lo < 0) {
    throw new RangeError(`${op}: lo is ${chunk.lo}; expected an integer >= 0`);
  }
  const gpu = logits.tensor.gpu;
  const wg = rowWorkgroupSize(gpu);
  // an invocation reads every WG-th column twice (max, then Σ exp): a chunk wider than the loop
  // budget allows is folded in as several narrower ones
  const ranges = budgetRanges(op, Math.max(1, Math.ceil(logits.cols / wg)), 2, 2 * loopCost(Math.log2(wg)) + 2);
  for (const [i, [b0, b1]] of ranges.entries()) {
    const c0 = b0 * wg, c1 = Math.min(logits.cols, b1 * wg);
    await launch(gpu, "token_logprob", { logits: logits.tensor, targets, state, scores }, {
      grid: grid1d(gpu, rows, 1), // one workgroup per row
      params: {
        rows,
        cols: c1 - c0,
        lo: chunk.lo + c0,
        offset: logits.offset + c0,
        ld: logits.ld,
        first: Number(chunk.first && i === 0),
        last: Number(chunk.last && i === ranges.length - 1),
      },
      constants: { WG: wg },
    });
  }
}
