/**
 * Wanda (Sun et al. 2023): score |W_ij|·‖X_j‖ and remove, in every output row, the floor(s·cols)
 * lowest-scoring weights (unstructured), or the n lowest of every group of m (n:m). No weight update.
 *
 * @module
 */

import { zeros } from "../gpu/tensor.ts";
import { applyMask, wandaScores } from "../linalg/mask.ts";
import { nmMask, rowKSmallestMask } from "../linalg/select.ts";
import { mat } from "../linalg/view.ts";
import { layerShape, type PruneMethod, workingCopy } from "./method.ts";

export const wanda: PruneMethod = async (layer, stats, options) => {
  const [rows, cols] = layerShape(layer);
  const gpu = layer.weight.gpu;
  const weight = await workingCopy(layer);
  using scores = zeros(gpu, [rows, cols], "f32", `${layer.name}.scores`);
  await wandaScores(mat(weight), stats.colSqNorms, 0, mat(scores));
  const mask = zeros(gpu, [rows, cols], "u32", `${layer.name}.mask`);
  const p = options.pattern;
  if (p.kind === "nm") await nmMask(mat(scores), p.n, p.m, mat(mask));
  else await rowKSmallestMask(mat(scores), Math.floor(options.sparsity * cols), mat(mask));
  await applyMask(mat(weight), mat(mask));
  return { weight, mask };
};
