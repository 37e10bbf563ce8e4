/**
 * Magnitude pruning: remove the weights of smallest |W| — exactly floor(s·rows·cols) of them
 * across the whole layer (unstructured), or the n smallest of every group of m (n:m).
 *
 * INTENT: the official code takes thresh = sort(|W|)[k] with k = int(s·numel) and prunes every
 * |W| <= thresh — k+1 weights, more with ties; here exactly k, ties broken by position.
 *
 * @module
 */

import { zeros } from "../gpu/tensor.ts";
import { absScores, applyMask } from "../linalg/mask.ts";
import { kSmallestMask, nmMask } from "../linalg/select.ts";
import { mat } from "../linalg/view.ts";
import { layerShape, type LayerWeight, type MethodOutput, workingCopy } from "./method.ts";
import type { PruneOptions } from "./options.ts";
import type { LayerStats } from "./stats.ts";

export const magnitude = async (
  layer: LayerWeight,
  _stats: LayerStats | null, // the mask depends on the weights alone (pruneLayer passes null when there are none)
  options: PruneOptions,
): Promise<MethodOutput> => {
  const [rows, cols] = layerShape(layer);
  const gpu = layer.weight.gpu;
  const weight = await workingCopy(layer);
  using scores = zeros(gpu, [rows, cols], "f32", `${layer.name}.scores`);
  await absScores(mat(weight), mat(scores));
  const mask = zeros(gpu, [rows, cols], "u32", `${layer.name}.mask`);
  const p = options.pattern;
  if (p.kind === "nm") await nmMask(mat(scores), p.n, p.m, mat(mask));
  else await kSmallestMask(mat(scores), Math.floor(options.sparsity * rows * cols), mat(mask));
  await applyMask(mat(weight), mat(mask));
  return { weight, mask };
};
