/**
 * SparseGPT (Frantar & Alistarh 2023), as `fasterprune` in the official code:
 *
 *   Hinv = U, the upper Cholesky factor of (H + λI)⁻¹          (UᵀU = H⁻¹)
 *   for each column block [i1, i2) of B columns:
 *     mask: unstructured — the floor(s·rows·B) smallest w²/U_jj² of the block;
 *           n:m — per row, per group of m, the n smallest, chosen as the sweep reaches the group
 *     sweep i = i1 … i2−1 (all rows at once):  e = (w_i − q_i)/U_ii;  W[:, i:i2] −= e·U[i, i:i2]
 *     deferred: W[:, i2:] −= Err·U[i1:i2, i2:]
 *
 * INTENT: the official unstructured mask takes thresh = sort(scores)[k] with k = int(s·rows·B) and
 * prunes every score <= thresh — k+1 weights per block, more with ties; here exactly k, ties broken
 * by position.
 *
 * @module
 */

import { zeros } from "../gpu/tensor.ts";
import { upperCholeskyOfInverse } from "../linalg/cholesky.ts";
import { FactorStatus } from "../linalg/status.ts";
import { matmul } from "../linalg/matmul.ts";
import { kSmallestMask } from "../linalg/select.ts";
import { mat, sub } from "../linalg/view.ts";
import { dampedHessian } from "./hessian.ts";
import { layerShape, type PruneMethod, scratch, workingCopy } from "./method.ts";
import { sparsegptBlock, sparsegptScores } from "./ops.ts";

export const sparsegpt: PruneMethod = async (layer, stats, options, observer) => {
  const [rows, cols] = layerShape(layer);
  const gpu = layer.weight.gpu;
  const B = Math.min(options.blocksize, cols);
  const weight = await workingCopy(layer);
  const W = mat(weight);
  using h = await dampedHessian(stats, weight, options.percdamp, layer.name);
  using status = new FactorStatus(gpu, `${layer.name}.factorStatus`);
  using u = await upperCholeskyOfInverse(mat(h), { status });
  const U = mat(u);
  const mask = zeros(gpu, [rows, cols], "u32", `${layer.name}.mask`);
  const M = mat(mask);
  using scores = zeros(gpu, [rows * B], "f32", `${layer.name}.scores`);
  using err = zeros(gpu, [rows * B], "f32", `${layer.name}.err`);
  const nm = options.pattern.kind === "nm" ? options.pattern : null;

  for (let i1 = 0; i1 < cols; i1 += B) {
    const i2 = Math.min(i1 + B, cols), count = i2 - i1;
    const W1 = sub(W, 0, i1, rows, count); //                       [rows, count]
    const U1 = sub(U, i1, i1, count, count); //                     [count, count]
    const M1 = sub(M, 0, i1, rows, count); //                       [rows, count]
    if (!nm) {
      await sparsegptScores(W1, U1, scratch(scores, rows, count));
      await kSmallestMask(scratch(scores, rows, count), Math.floor(options.sparsity * rows * count), M1);
    }
    const step = { method: "sparsegpt", i1, i2, weight: W, mask: M, hinv: U1 } as const;
    await observer?.onBlock?.({ ...step, phase: "selected" });
    await sparsegptBlock(W1, U1, M1, err, nm);
    if (i2 < cols) {
      // W[:, i2:] −= Err1 · Hinv[i1:i2, i2:]
      await matmul(scratch(err, rows, count), sub(U, i1, i2, count, cols - i2), sub(W, 0, i2), {
        alpha: -1,
        accumulate: true,
      });
    }
    await observer?.onBlock?.({ ...step, phase: "compensated" });
  }
  await status.check();
  return { weight, mask };
};
