/**
 * Damping of a layer Hessian before it is inverted (SparseGPT and Thanos):
 *
 *   dead inputs (H_jj == 0, an input that was always zero):  H_jj = 1
 *   H += λ·I,  λ = percdamp · mean(diag H)   (mean taken after the dead fix, as the reference code)
 *
 * In place and entirely on the GPU (the mean is a reduction kernel; nothing is read back). The
 * caller zeroes the weight columns of the dead inputs with the returned flags.
 *
 * @module
 */

import { launch } from "../gpu/launch.ts";
import { checkLoopBudget, loopCost } from "../gpu/loop_budget.ts";
import { empty, type Tensor } from "../gpu/tensor.ts";
import { checkSquare } from "./checks.ts";
import { mat, type MatrixView } from "./view.ts";

/** Invocations of the damping kernel's single workgroup (a power of two, for the tree reduction). */
const WG = 256;

export interface DampOptions {
  /** f32 [1]: receives λ, the value added to the diagonal (for reports); omitted: not kept */
  lambda?: Tensor;
}

export interface Damped {
  /** u32 [d]: 1 where the input is dead (H_jj was 0), else 0; release it when done */
  dead: Tensor<"u32">;
}

/**
 * Damps the Hessian `h` in place: dead inputs get H_jj = 1, then λ = percdamp·mean(diag H) is added
 * to the diagonal. Only the diagonal is read or written.
 *
 * @param h the d x d Hessian (a tensor or a square view), modified in place
 * @param percdamp relative damping, finite and ≥ 0 (SparseGPT/Thanos default 0.01)
 * @param options `lambda`: an f32 [1] tensor that receives λ
 * @returns `dead`, u32 [d] flags of the dead inputs
 * @throws RangeError for a non-square h, a negative or non-finite percdamp, or a bad `lambda`
 * @example
 * ```ts
 * const { dead } = await dampHessian(h, 0.01);
 * await zeroCols(mat(weight), dead); // W[:, dead] = 0
 * dead.release();
 * ```
 */
export async function dampHessian(
  h: Tensor | MatrixView,
  percdamp: number,
  options: DampOptions = {},
): Promise<Damped> {
  const op = "dampHessian";
  const v = "tensor" in h ? h : mat(h);
  const d = checkSquare(op, "H", v);
  if (!Number.isFinite(percdamp) || percdamp < 0) {
    throw new RangeError(`${op}: percdamp is ${percdamp}; expected a finite number >= 0`);
  }
  const { lambda } = options;
  if (lambda && (lambda.dtype !== "f32" || lambda.size < 1 || lambda.buffer === v.tensor.buffer)) {
    throw new RangeError(
      `${op}: lambda "${lambda.label}" is ${lambda.dtype} [${lambda.shape}]; expected its own f32 [1] tensor`,
    );
  }
  const gpu = v.tensor.gpu;
  // one workgroup: an invocation visits every WG-th diagonal entry twice (far within the loop budget
  // for any H that fits a storage binding)
  checkLoopBudget(op, 2 * loopCost(Math.ceil(d / WG)) + loopCost(Math.log2(WG)), `an H of order ${d}`);
  const dead = empty(gpu, [d], "u32", `${v.tensor.label}.dead`);
  if (d === 0) return { dead };
  const out = lambda ?? empty(gpu, [1], "f32", `${op}.lambda`);
  try {
    await launch(gpu, "damp", { h: v.tensor, dead, lambda: out }, {
      grid: [1],
      params: { n: d, off: v.offset, ld: v.ld, percdamp },
      constants: { WG },
    });
  } catch (err) {
    dead.release();
    throw err;
  } finally {
    if (!lambda) out.release(); // safe: later users of the buffer run after this dispatch
  }
  return { dead };
}
