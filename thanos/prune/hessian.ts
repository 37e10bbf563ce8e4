/**
 * The damped Hessian shared by SparseGPT and Thanos, prepared exactly as the reference does:
 *
 *   dead = diag(H) == 0;  H[dead, dead] = 1;  W[:, dead] = 0;  H += percdamp·mean(diag H)·I
 *
 * on a copy of the calibration statistics (which methods only read).
 *
 * @module
 */

import { type Tensor, zeros } from "../gpu/tensor.ts";
import { dampHessian } from "../linalg/damp.ts";
import { copyView } from "../linalg/elementwise.ts";
import { mat } from "../linalg/view.ts";
import { zeroCols } from "./ops.ts";
import type { LayerStats } from "./stats.ts";

/**
 * A damped copy of `stats.hessian`; zeroes the columns of `weight` that belong to dead inputs.
 * @param weight the working copy of W [rows, cols] (modified)
 */
export async function dampedHessian(
  stats: LayerStats,
  weight: Tensor,
  percdamp: number,
  label: string,
): Promise<Tensor> {
  const d = stats.cols;
  const h = zeros(weight.gpu, [d, d], "f32", `${label}.Hdamped`);
  await copyView(mat(stats.hessian), mat(h));
  const { dead } = await dampHessian(h, percdamp);
  await zeroCols(mat(weight), dead);
  dead.release();
  return h;
}
