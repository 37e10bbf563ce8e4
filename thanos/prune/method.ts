/**
 * The signature every pruning method shares, so that the CLI, notebooks, the pipeline and the tests
 * look methods up by name in one table (./mod.ts) and call them the same way.
 *
 * @module
 */

import type { Tensor } from "../gpu/tensor.ts";
import type { PruneOptions } from "./options.ts";
import type { LayerStats } from "./stats.ts";

/** The weight of one linear layer y = W·x (+ b), named: f32 [rows = out_features, cols = in_features]. */
export interface LayerWeight {
  readonly name: string;
  readonly weight: Tensor;
}

/** What a method produces; the input weight is left untouched. */
export interface MethodOutput {
  /** the pruned (and, for sparsegpt/thanos, compensated) weight, f32 [rows, cols] */
  weight: Tensor<"f32">;
  /** u32 [rows, cols], 1 = pruned (the weight is exactly zero there) */
  mask: Tensor<"u32">;
}

/**
 * A pruning method: reads the layer and its calibration statistics, returns new GPU tensors.
 * Options are already validated (see `resolvePruneOptions`).
 */
export type PruneMethod = (layer: LayerWeight, stats: LayerStats, options: PruneOptions) => Promise<MethodOutput>;

/** [rows, cols] of a layer's weight, checking it is a 2-D f32 tensor. */
export function layerShape(layer: LayerWeight): [number, number] {
  const w = layer.weight;
  if (w.shape.length !== 2 || w.dtype !== "f32") {
    throw new TypeError(`Layer "${layer.name}": expected an f32 weight of rank 2 but found ${w.dtype} [${w.shape}]`);
  }
  return [w.shape[0], w.shape[1]];
}
