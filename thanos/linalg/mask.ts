/**
 * Mask helpers for the pruning methods: score kernels (magnitude, Wanda), applying a mask, a
 * GPU-side count of selected elements with the budget arithmetic of Thanos's dynamic mask, and the
 * weighted row/column sums behind Thanos's outlier rows and structured columns.
 *
 * Masks are u32 views with 1 = pruned, 0 = kept (any non-zero value counts as pruned). Squared
 * column norms `colSqNorms` are the calibration statistic ‖X_j‖² (f32, one per input column).
 *
 * Dynamic-mask recipe (Thanos, unstructured), without a readback per block:
 * ```ts
 * const pruned = zeros(gpu, [1], "u32");             // zeros chosen so far
 * const k = empty(gpu, [1], "u32");
 * for (let i1 = 0; i1 < cols; i1 += B) {
 *   await wandaScores(sub(W, 0, i1), colSqNorms, i1, sub(S, 0, i1));
 *   await kFromBudget(target, pruned, k);              // k = max(0, target − pruned)
 *   await kSmallestMask(sub(S, 0, i1), k, sub(M, 0, i1));
 *   await countMask(sub(M, 0, i1, rows, B), pruned, { accumulate: true }); // keep the block's part
 *   // … prune / update the block …
 * }
 * ```
 *
 * @module
 */

import { grid1d, launch } from "../gpu/launch.ts";
import { empty, type Tensor } from "../gpu/tensor.ts";
import { checkLoopBudget, loopCost } from "../gpu/loop_budget.ts";
import { chunkItems, maxWorkgroups } from "./select.ts";
import { describe, type MatrixView, wholeVec4s } from "./view.ts";
import { checkNoAlias, checkSameShape, checkTensor, checkView } from "./checks.ts";

const WG = 256;
const ROW_SUM_WG = 64;
const COL_SUM_WGX = 64;
const COL_SUM_WGY = 4;

/**
 * Wanda scores of a window of the weights: out_ij = |w_ij| · sqrt(colSqNorms[colOffset + j]).
 *
 * @param w f32 view of the weights, e.g. W[:, i1:]
 * @param colSqNorms f32 tensor of the layer's squared input-column norms ‖X_j‖² (all its columns)
 * @param colOffset layer column of the view's column 0 (i1 for W[:, i1:])
 * @param out f32 view of the same shape (not in w's tensor)
 * @param options `indirect`: take the workgroup counts from this buffer (STORAGE | INDIRECT, three
 *   u32 at byte 0: a kernel decides on the GPU whether the scores are needed, as kSmallestMask's
 *   `wanda` option does; the counts written must be {@link wandaGrid}'s or zero)
 * @returns when the work is recorded
 * @throws RangeError when colOffset + w.cols exceeds colSqNorms, the shapes differ, out shares w's
 *   buffer, or a view does not fit; TypeError on wrong element types
 * @example
 * ```ts
 * await wandaScores(sub(mat(W), 0, i1), colSqNorms, i1, sub(mat(S), 0, i1));
 * ```
 */
export async function wandaScores(
  w: MatrixView,
  colSqNorms: Tensor,
  colOffset: number,
  out: MatrixView,
  options: { indirect?: GPUBuffer } = {},
): Promise<void> {
  checkWandaArguments("wandaScores", w, colSqNorms, colOffset, out);
  const count = w.rows * w.cols;
  if (count === 0) return;
  const vec4 = wandaVec4(w, out, colSqNorms, colOffset);
  const scoresKernel = vec4 ? "wanda_scores_vec4" : "wanda_scores";
  await launch(w.tensor.gpu, scoresKernel, { w: w.tensor, norms: colSqNorms, out: out.tensor }, {
    grid: wandaGrid(w, vec4),
    indirect: options.indirect ? { buffer: options.indirect, offset: 0 } : undefined,
    params: {
      count,
      cols: w.cols,
      w_offset: w.offset,
      w_ld: w.ld,
      out_offset: out.offset,
      out_ld: out.ld,
      col_offset: colOffset,
    },
    constants: { WG },
  });
}

/**
 * Checks wandaScores's arguments (also kSmallestMask's `wanda` option, as `op`).
 * @throws RangeError / TypeError as wandaScores documents
 */
export function checkWandaArguments(
  op: string,
  w: MatrixView,
  colSqNorms: Tensor,
  colOffset: number,
  out: MatrixView,
): void {
  const weightName = op === "wandaScores" ? "w" : "wanda.weight";
  const outName = op === "wandaScores" ? "out" : "scores";
  checkView(op, weightName, w, "f32");
  checkView(op, outName, out, "f32");
  checkSameShape(op, weightName, w, outName, out);
  checkNoAlias(op, outName, out, weightName, w);
  checkTensor(op, "colSqNorms", colSqNorms, "f32", 0);
  if (!Number.isInteger(colOffset) || colOffset < 0 || colOffset + w.cols > colSqNorms.size) {
    throw new RangeError(
      `${op}: columns [${colOffset}, ${colOffset + w.cols}) of colSqNorms "${colSqNorms.label}" are out of range; ` +
        `expected a non-negative integer colOffset with colOffset + ${weightName}.cols <= ${colSqNorms.size}`,
    );
  }
}

/**
 * Whether wandaScores reads and writes four scores an invocation (wanda_scores_vec4): every row of
 * both views whole vec4s, the norms' offset and length multiples of 4 (llvmpipe: a quarter of the
 * loads). (Internal, shared with select.ts.)
 */
export function wandaVec4(w: MatrixView, out: MatrixView, colSqNorms: Tensor, colOffset: number): boolean {
  return wholeVec4s(w) && wholeVec4s(out) && colOffset % 4 === 0 && colSqNorms.size % 4 === 0;
}

/** wandaScores's workgroup grid over the view `w`. (Internal, shared with select.ts.) */
export function wandaGrid(w: MatrixView, vec4: boolean): [number, number, number] {
  const count = w.rows * w.cols;
  return grid1d(w.tensor.gpu, vec4 ? count / 4 : count, WG);
}

/**
 * Magnitude scores: out_ij = |w_ij|.
 *
 * @param w f32 view of the weights
 * @param out f32 view of the same shape (not in w's tensor)
 * @returns when the work is recorded
 * @throws RangeError when the shapes differ, out shares w's buffer, or a view does not fit;
 *   TypeError on wrong element types
 * @example
 * ```ts
 * await absScores(mat(W), mat(S));
 * ```
 */
export async function absScores(w: MatrixView, out: MatrixView): Promise<void> {
  const op = "absScores";
  checkView(op, "w", w, "f32");
  checkView(op, "out", out, "f32");
  checkSameShape(op, "w", w, "out", out);
  checkNoAlias(op, "out", out, "w", w);
  const count = w.rows * w.cols;
  if (count === 0) return;
  await launch(w.tensor.gpu, "abs_scores", { w: w.tensor, out: out.tensor }, {
    grid: grid1d(w.tensor.gpu, count, WG),
    params: { count, cols: w.cols, w_offset: w.offset, w_ld: w.ld, out_offset: out.offset, out_ld: out.ld },
    constants: { WG },
  });
}

/**
 * Prunes in place: w_ij = 0 wherever mask_ij != 0 (other elements are untouched).
 *
 * @param w f32 view of the weights (modified)
 * @param mask u32 view of the same shape, 1 = pruned
 * @returns when the work is recorded
 * @throws RangeError when the shapes differ or a view does not fit; TypeError on wrong element types
 * @example
 * ```ts
 * await kSmallestMask(mat(S), k, mat(M));
 * await applyMask(mat(W), mat(M));
 * ```
 */
export async function applyMask(w: MatrixView, mask: MatrixView): Promise<void> {
  const op = "applyMask";
  checkView(op, "w", w, "f32");
  checkView(op, "mask", mask, "u32");
  checkSameShape(op, "w", w, "mask", mask);
  const count = w.rows * w.cols;
  if (count === 0) return;
  const vec4 = wholeVec4s(w) && wholeVec4s(mask);
  const applyKernel = vec4 ? "apply_mask_vec4" : "apply_mask";
  await launch(w.tensor.gpu, applyKernel, { mask: mask.tensor, w: w.tensor }, {
    grid: grid1d(w.tensor.gpu, vec4 ? count / 4 : count, WG),
    params: { count, cols: w.cols, w_offset: w.offset, w_ld: w.ld, mask_offset: mask.offset, mask_ld: mask.ld },
    constants: { WG },
  });
}

/** Options of {@link countMask}. */
export interface CountMaskOptions {
  /** Add to counter[0] instead of overwriting it (default false). */
  accumulate?: boolean;
}

/**
 * Counts the selected (non-zero) elements of a mask on the GPU: counter[0] = count, or
 * counter[0] += count with `{ accumulate: true }` — a running "zeros so far" without readback.
 *
 * @param mask u32 view
 * @param counter u32 tensor with at least one element; element 0 receives the count
 * @param options `accumulate` (default false)
 * @returns when the work is recorded
 * @throws RangeError when the view does not fit or counter is empty; TypeError on wrong element types
 * @example
 * ```ts
 * const c = empty(gpu, [1], "u32");
 * await countMask(mat(M), c);
 * console.log((await c.read())[0]);
 * ```
 */
export async function countMask(
  mask: MatrixView,
  counter: Tensor<"u32">,
  options: CountMaskOptions = {},
): Promise<void> {
  const op = "countMask";
  checkView(op, "mask", mask, "u32");
  checkTensor(op, "counter", counter, "u32", 1);
  checkNoAlias(op, "counter", counter, "mask", mask);
  const gpu = counter.gpu;
  if (!options.accumulate) gpu.recorder.clear(counter.buffer, 4);
  const count = mask.rows * mask.cols;
  if (count === 0) return;
  // each workgroup takes WG·items elements: items ≥ 16, at most maxWorkgroups(gpu) workgroups while
  // an invocation's items stay within the loop budget (see chunkItems)
  const vec4 = wholeVec4s(mask); //                              then chunks of whole vec4s
  const items = chunkItems(count, maxWorkgroups(gpu), vec4 ? 4 : 1);
  const chunks = Math.ceil(count / (WG * items));
  const countKernel = vec4 ? "count_mask_vec4" : "count_mask";
  await launch(gpu, countKernel, { mask: mask.tensor, counter }, {
    grid: grid1d(gpu, chunks * WG, WG),
    params: { count, cols: mask.cols, offset: mask.offset, ld: mask.ld, items },
    constants: { WG },
  });
}

/**
 * The remaining budget of a dynamic mask: kOut[0] = max(0, target − counter[0]), computed on the
 * GPU so it can feed {@link kSmallestMask}'s GPU-resident k without a readback.
 *
 * @param target total number of elements to select (e.g. round(sparsity · rows · cols))
 * @param counter u32 tensor; element 0 holds how many are selected so far (see {@link countMask})
 * @param kOut u32 tensor (not counter); element 0 receives the budget
 * @returns when the work is recorded
 * @throws RangeError when target is not an integer in [0, 2³²), a tensor is empty, or kOut is
 *   counter; TypeError on wrong element types
 * @example
 * ```ts
 * await kFromBudget(target, zerosSoFar, k);
 * await kSmallestMask(sub(S, 0, i1), k, sub(M, 0, i1));
 * ```
 */
export async function kFromBudget(target: number, counter: Tensor<"u32">, kOut: Tensor<"u32">): Promise<void> {
  const op = "kFromBudget";
  if (!Number.isInteger(target) || target < 0 || target > 0xffffffff) {
    throw new RangeError(`${op}: target = ${target}; expected an integer in [0, ${0xffffffff}]`);
  }
  checkTensor(op, "counter", counter, "u32", 1);
  checkTensor(op, "kOut", kOut, "u32", 1);
  checkNoAlias(op, "kOut", kOut, "counter", counter);
  await launch(counter.gpu, "k_from_budget", { counter, k_out: kOut }, {
    grid: [1],
    params: { budget: target },
  });
}

/**
 * Weighted squared row norms: out_i = Σ_j w_ij² · colSqNorms[j] (Thanos's outlier-row metric:
 * the rows with the largest values stay dense).
 *
 * @param w f32 view of the weights
 * @param colSqNorms f32 tensor with one entry per column of w
 * @param out f32 tensor with at least w.rows elements; element i receives row i's sum
 * @returns when the work is recorded
 * @throws RangeError on size mismatches, a view that does not fit, or rows too long for one
 *   invocation's loop budget (> ~3.8M columns, thanos/gpu/loop_budget.ts); TypeError on wrong element types
 * @example
 * ```ts
 * const rowScore = empty(gpu, [rows]);
 * await rowSumsWeighted(mat(W), colSqNorms, rowScore);
 * ```
 */
export async function rowSumsWeighted(w: MatrixView, colSqNorms: Tensor, out: Tensor): Promise<void> {
  const op = "rowSumsWeighted";
  checkView(op, "w", w, "f32");
  checkNorms(op, colSqNorms, w);
  checkTensor(op, "out", out, "f32", w.rows);
  checkNoAlias(op, "out", out, "w", w);
  checkNoAlias(op, "out", out, "colSqNorms", colSqNorms);
  if (w.rows === 0) return;
  const gpu = w.tensor.gpu;
  if (w.cols === 0) {
    gpu.recorder.clear(out.buffer, w.rows * 4);
    return;
  }
  // an invocation sums every WG-th column of its row, then the workgroup reduces
  checkLoopBudget(
    op,
    loopCost(Math.ceil(w.cols / ROW_SUM_WG)) + loopCost(Math.log2(ROW_SUM_WG)),
    `rows of ${w.cols} columns`,
  );
  await launch(gpu, "row_sums_weighted", { w: w.tensor, norms: colSqNorms, out }, {
    grid: grid1d(gpu, w.rows * ROW_SUM_WG, ROW_SUM_WG),
    params: { rows: w.rows, cols: w.cols, offset: w.offset, ld: w.ld },
    constants: { WG: ROW_SUM_WG },
  });
}

/**
 * Weighted squared column norms over the kept rows: out_j = colSqNorms[j] · Σ_{i : rowMask[i] == 0} w_ij²
 * (Thanos's structured metric; rowMask marks the outlier rows with 1). Without a rowMask every row
 * counts.
 *
 * @param w f32 view of the weights
 * @param colSqNorms f32 tensor with one entry per column of w
 * @param rowMask u32 tensor with at least w.rows elements (1 = row excluded), or null/undefined
 * @param out f32 tensor with at least w.cols elements; element j receives column j's sum
 * @returns when the work is recorded
 * @throws RangeError on size mismatches, a view that does not fit, or columns too long for one
 *   invocation's loop budget (> ~240k rows, thanos/gpu/loop_budget.ts); TypeError on wrong element types
 * @example
 * ```ts
 * await colSumsWeighted(mat(W), colSqNorms, outlierRows, colScore);
 * ```
 */
export async function colSumsWeighted(
  w: MatrixView,
  colSqNorms: Tensor,
  rowMask: Tensor<"u32"> | null | undefined,
  out: Tensor,
): Promise<void> {
  const op = "colSumsWeighted";
  checkView(op, "w", w, "f32");
  checkNorms(op, colSqNorms, w);
  if (rowMask) checkTensor(op, "rowMask", rowMask, "u32", w.rows);
  checkTensor(op, "out", out, "f32", w.cols);
  checkNoAlias(op, "out", out, "w", w);
  checkNoAlias(op, "out", out, "colSqNorms", colSqNorms);
  if (w.cols === 0) return;
  // an invocation sums every WGY-th row of its column, then the workgroup reduces
  checkLoopBudget(
    op,
    loopCost(Math.ceil(w.rows / COL_SUM_WGY)) + loopCost(Math.log2(COL_SUM_WGY)),
    `columns of ${w.rows} rows`,
  );
  const gpu = w.tensor.gpu;
  // a kernel binding must exist even when unused: a 1-element placeholder stands in for rowMask
  const placeholder = rowMask ? null : empty(gpu, [1], "u32", `${op}.noRowMask`);
  try {
    const blocks = Math.ceil(w.cols / COL_SUM_WGX);
    const [gx, gy] = grid1d(gpu, blocks, 1);
    await launch(gpu, "col_sums_weighted", { w: w.tensor, norms: colSqNorms, row_mask: rowMask ?? placeholder!, out }, {
      grid: [gx, gy],
      params: { rows: w.rows, cols: w.cols, offset: w.offset, ld: w.ld, use_row_mask: rowMask ? 1 : 0 },
      constants: { WGX: COL_SUM_WGX, WGY: COL_SUM_WGY },
    });
  } finally {
    placeholder?.release();
  }
}

function checkNorms(op: string, colSqNorms: Tensor, w: MatrixView): void {
  checkTensor(op, "colSqNorms", colSqNorms, "f32", 0);
  if (colSqNorms.size !== w.cols) {
    throw new RangeError(
      `${op}: colSqNorms "${colSqNorms.label}" has ${colSqNorms.size} entries but w ${describe(w)} has ` +
        `${w.cols} columns; expected one per column`,
    );
  }
}
