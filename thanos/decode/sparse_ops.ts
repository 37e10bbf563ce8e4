/**
 * Matrix-vector products from compressed sparse weights, for a decode step: a 2:4 weight as its kept
 * values plus 4 bits per group of 4 ({@link Sparse24Weight}), an unstructured one as its non-zero
 * values plus one bit per weight and a start per row ({@link BitmaskWeight}). Both are built once from
 * the compressed-tensors tensors (`<m>.compressed`, `<m>.bitmask`, `<m>.row_offsets`) and never
 * expanded to dense on the GPU.
 *
 * Like every kernel wrapper they only record work; it runs at the next submission.
 *
 * @module
 */

import { grid1d, launch } from "../gpu/launch.ts";
import { checkLoopBudget, loopCost } from "../gpu/loop_budget.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { checkNoAlias, checkTensor } from "../linalg/checks.ts";
import type { BitmaskWeight, Sparse24Weight } from "../linalg/sparse_weight.ts";

// the weights' representation moved to linalg/ (the batched forward reads it too)
export {
  type BitmaskWeight,
  pack24Index,
  type Sparse24Weight,
  upload24,
  uploadBitmask,
} from "../linalg/sparse_weight.ts";

const WG = 64;

/** Options of the sparse products. */
export interface SparseMatvecOptions {
  /** added to the product, f32 [rows] */
  bias?: Tensor | null;
  /** y += W·x (+ b) instead of y = W·x (+ b) */
  accumulate?: boolean;
  xOffset?: number;
  yOffset?: number;
}

function checkVectors(op: string, rows: number, cols: number, x: Tensor, y: Tensor, o: SparseMatvecOptions): void {
  const { xOffset = 0, yOffset = 0, bias = null } = o;
  checkTensor(op, "x", x, "f32", xOffset + cols);
  checkTensor(op, "y", y, "f32", yOffset + rows);
  if (bias) checkTensor(op, "bias", bias, "f32", rows);
  checkNoAlias(op, "y", y, "x", x);
  if (bias) checkNoAlias(op, "y", y, "bias", bias);
}

/**
 * y = W·x + b for one token from a 2:4 weight: reads cols/2 values and cols/8 index bytes a row. When cols
 * is a multiple of 8 and xOffset of 4 it runs `shaders/sparse24_matvec_vec4.wgsl` (vec4 loads, 4 rows an
 * invocation), else `shaders/sparse24_matvec.wgsl`.
 * @throws RangeError on shape mismatches, aliasing, or rows too long for one invocation's loop budget
 */
export async function sparse24Matvec(
  w: Sparse24Weight,
  x: Tensor,
  y: Tensor,
  options: SparseMatvecOptions = {},
): Promise<void> {
  const op = "sparse24Matvec";
  const { rows, cols } = w;
  checkVectors(op, rows, cols, x, y, options);
  checkLoopBudget(op, loopCost(cols / 4), `rows of ${cols} columns`);
  const { bias = null, accumulate = false, xOffset = 0, yOffset = 0 } = options;
  const constants = { HAS_BIAS: Number(bias !== null), ACCUMULATE: Number(accumulate) };
  if (cols % 8 === 0 && xOffset % 4 === 0) {
    // values and x as vec4s, 4 rows an invocation (shaders/sparse24_matvec_vec4.wgsl, like matvec's vec4 kernel)
    const wg = rows >= 2048 ? WG : 16;
    await launch(x.gpu, "sparse24_matvec_vec4", { values: w.values, index: w.index, x, bias: bias ?? x, y }, {
      grid: grid1d(x.gpu, Math.ceil(rows / 4), wg),
      params: { rows, cols, xOffset4: xOffset / 4, yOffset },
      constants: { WG: wg, ...constants },
    });
    return;
  }
  await launch(x.gpu, "sparse24_matvec", { values: w.values, index: w.index, x, bias: bias ?? x, y }, {
    grid: grid1d(x.gpu, rows, WG),
    params: { rows, cols, xOffset, yOffset },
    constants: { WG, ...constants },
  });
}

/**
 * y = W·x + b for one token from an unstructured sparse weight: reads the non-zero values and one bit
 * per weight.
 * @throws RangeError on shape mismatches, aliasing, or rows too long for one invocation's loop budget
 */
export async function bitmaskMatvec(
  w: BitmaskWeight,
  x: Tensor,
  y: Tensor,
  options: SparseMatvecOptions = {},
): Promise<void> {
  const op = "bitmaskMatvec";
  const { rows, cols } = w;
  checkVectors(op, rows, cols, x, y, options);
  const words = Math.ceil(cols / 32);
  // outer loop + one inner test per word + at most cols set bits (paid by the slowest lane of 8)
  checkLoopBudget(op, loopCost(words) + words + cols, `rows of ${cols} columns`);
  const { bias = null, accumulate = false, xOffset = 0, yOffset = 0 } = options;
  await launch(
    x.gpu,
    "bitmask_matvec",
    { values: w.values, mask: w.mask, rowStart: w.rowStart, x, bias: bias ?? x, y },
    {
      grid: grid1d(x.gpu, rows, WG),
      params: { rows, cols, xOffset, yOffset },
      constants: { WG, HAS_BIAS: Number(bias !== null), ACCUMULATE: Number(accumulate) },
    },
  );
}
