/**
 * Batch products from compressed sparse weights, for prefill and evaluation: Y = X·Wᵀ (+ b) with X
 * [n, cols] a batch of token rows and W [rows, cols] a {@link SparseWeight} (2:4 or unstructured),
 * read without expanding it (`shaders/sparse24_matmul.wgsl`, `shaders/bitmask_matmul.wgsl`). The
 * one-token products for decoding are in `thanos/decode/sparse_ops.ts`.
 *
 * Like every kernel wrapper these only record work; it runs at the next submission.
 *
 * @module
 */

import { launch } from "../gpu/launch.ts";
import { checkLoopBudget, loopCost } from "../gpu/loop_budget.ts";
import { empty, filledBy, type Tensor } from "../gpu/tensor.ts";
import { checkNoAlias } from "./checks.ts";
import type { SparseWeight } from "./sparse_weight.ts";

const WG = 64;
/** tokens per invocation (TOKENS in the shaders); an invocation holds 4 weight rows */
const TOKENS = 8;

/** Options of {@link sparseMatmul}. */
export interface SparseMatmulOptions {
  /** added to every row of the product, f32 [rows] */
  bias?: Tensor | null;
}

function checkOperands(op: string, w: SparseWeight, x: Tensor, y: Tensor, bias: Tensor | null): number {
  for (const [name, t] of [["x", x], ["y", y], ...(bias ? [["bias", bias] as const] : [])] as const) {
    t.assertAlive();
    if (t.dtype !== "f32") throw new RangeError(`${op}: ${name} "${t.label}" is ${t.dtype}; expected f32`);
  }
  if (x.shape.length !== 2 || x.shape[1] !== w.cols) {
    throw new RangeError(`${op}: x "${x.label}" is [${x.shape.join(", ")}]; expected [n, ${w.cols}]`);
  }
  const n = x.shape[0];
  if (y.shape.length !== 2 || y.shape[0] !== n || y.shape[1] !== w.rows) {
    throw new RangeError(`${op}: y "${y.label}" is [${y.shape.join(", ")}]; expected [${n}, ${w.rows}]`);
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== w.rows)) {
    throw new RangeError(`${op}: bias "${bias.label}" is [${bias.shape.join(", ")}]; expected [${w.rows}]`);
  }
  checkNoAlias(op, "y", y, "x", x);
  if (bias) checkNoAlias(op, "y", y, "bias", bias);
  return n;
}

/**
 * y = x·Wᵀ + b for a batch of tokens from a 2:4 or unstructured sparse weight.
 *
 * @param w the sparse weight [rows, cols]
 * @param x f32 [n, cols]
 * @param y f32 [n, rows], overwritten; must not alias x or the bias
 * @throws RangeError on shape or dtype mismatches, aliasing, a grid past the device's limits, or
 *   rows too long for one invocation's loop budget
 * @example
 * ```ts
 * using w = upload24(gpu, c.compressed, c.bitmask, 688, 256, "mlp.up_proj");
 * await sparseMatmul(w, x, y); // x [n, 256] → y [n, 688]
 * ```
 */
export async function sparseMatmul(
  w: SparseWeight,
  x: Tensor,
  y: Tensor,
  options: SparseMatmulOptions = {},
): Promise<void> {
  const op = w.kind === "2:4" ? "sparse24Matmul" : "bitmaskMatmul";
  const { bias = null } = options;
  const n = checkOperands(op, w, x, y, bias);
  const { rows, cols } = w;
  if (n === 0 || rows === 0) return;
  checkLoopBudget(op, loopCost(Math.ceil(cols / 4)), `rows of ${cols} columns`);
  const grid: [number, number] = [Math.ceil(rows / 4 / WG), Math.ceil(n / TOKENS)];
  const max = x.gpu.limits.maxComputeWorkgroupsPerDimension;
  if (grid[0] > max || grid[1] > max) {
    throw new RangeError(
      `${op}: ${n} tokens x ${rows} rows need a [${grid.join(", ")}] grid; the device allows ${max} per dimension`,
    );
  }
  const constants = { WG, HAS_BIAS: Number(bias !== null) };
  if (w.kind === "2:4") {
    await launch(x.gpu, "sparse24_matmul", { values: w.values, index: w.index, x, bias: bias ?? x, y }, {
      grid,
      params: { n, rows, cols },
      constants,
    });
  } else {
    await launch(
      x.gpu,
      "bitmask_matmul",
      { values: w.values, mask: w.mask, rowStart: w.rowStart, x, bias: bias ?? x, y },
      { grid, params: { n, rows, cols }, constants },
    );
  }
}

/**
 * x·Wᵀ + b into a new tensor.
 * @param x f32 [n, cols]
 * @returns a new f32 [n, rows] tensor labelled `label`
 */
export function sparseMatmulNew(
  w: SparseWeight,
  x: Tensor,
  options: SparseMatmulOptions = {},
  label = "sparse product",
): Promise<Tensor> {
  return filledBy(empty(x.gpu, [x.shape[0], w.rows], "f32", label), (y) => sparseMatmul(w, x, y, options));
}
