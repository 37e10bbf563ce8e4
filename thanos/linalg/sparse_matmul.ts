/**
 * Batch products from compressed sparse weights, for prefill and evaluation: Y = X·Wᵀ with X
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
/** the shaders' register tile: weight rows x tokens per invocation */
const TILE_ROWS = 16, TILE_TOKENS = 16;

function checkOperands(op: string, w: SparseWeight, x: Tensor, y: Tensor): number {
  for (const [name, t] of [["x", x], ["y", y]] as const) {
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
  checkNoAlias(op, "y", y, "x", x);
  return n;
}

/**
 * y = x·Wᵀ for a batch of tokens from a 2:4 or unstructured sparse weight (a bias is a separate
 * `biasAdd`: in the kernel's store it tripled the kernel's compile time).
 *
 * @param w the sparse weight [rows, cols]
 * @param x f32 [n, cols]
 * @param y f32 [n, rows], overwritten; must not alias x
 * @throws RangeError on shape or dtype mismatches, aliasing, a grid past the device's limits, or
 *   rows too long for one invocation's loop budget
 * @example
 * ```ts
 * using w = upload24(gpu, c.compressed, c.bitmask, 688, 256, "mlp.up_proj");
 * await sparseMatmul(w, x, y); // x [n, 256] → y [n, 688]
 * ```
 */
export async function sparseMatmul(w: SparseWeight, x: Tensor, y: Tensor): Promise<void> {
  const op = w.kind === "2:4" ? "sparse24Matmul" : "bitmaskMatmul";
  const n = checkOperands(op, w, x, y);
  const { rows, cols } = w;
  if (n === 0 || rows === 0) return;
  checkLoopBudget(op, loopCost(Math.ceil(cols / 4)), `rows of ${cols} columns`);
  const grid: [number, number] = [Math.ceil(rows / TILE_ROWS / WG), Math.ceil(n / TILE_TOKENS)];
  const max = x.gpu.limits.maxComputeWorkgroupsPerDimension;
  if (grid[0] > max || grid[1] > max) {
    throw new RangeError(
      `${op}: ${n} tokens x ${rows} rows need a [${grid.join(", ")}] grid; the device allows ${max} per dimension`,
    );
  }
  if (w.kind === "2:4") {
    await launch(x.gpu, "sparse24_matmul", { values: w.values, index: w.index, x, y }, {
      grid,
      params: { n, rows, cols },
      constants: { WG },
    });
  } else {
    await launch(
      x.gpu,
      "bitmask_matmul",
      { values: w.values, mask: w.mask, rowStart: w.rowStart, x, y },
      { grid, params: { n, rows, cols }, constants: { WG } },
    );
  }
}

/**
 * x·Wᵀ into a new tensor.
 * @param x f32 [n, cols]
 * @returns a new f32 [n, rows] tensor labelled `label`
 */
export function sparseMatmulNew(w: SparseWeight, x: Tensor, label = "sparse product"): Promise<Tensor> {
  return filledBy(empty(x.gpu, [x.shape[0], w.rows], "f32", label), (y) => sparseMatmul(w, x, y));
}
