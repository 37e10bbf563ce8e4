/**
 * The signature every pruning method shares, so that the CLI, notebooks, the pipeline and the tests
 * look methods up by name in one table (./mod.ts) and call them the same way.
 *
 * @module
 */

import { empty, type Tensor } from "../gpu/tensor.ts";
import { copyView } from "../linalg/elementwise.ts";
import { mat, type MatrixView } from "../linalg/view.ts";
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
 * One column block of a block-wise method (SparseGPT, Thanos), as an observer sees it. The views
 * are the method's live GPU state: read them during the call (e.g. `await view.tensor.read()`), do
 * not keep or modify them.
 *
 * - phase "selected": the block's mask is chosen (SparseGPT n:m chooses it during the sweep, so its
 *   block mask is only complete in the next phase), nothing is updated yet;
 * - phase "compensated": the block is pruned and the remaining weights updated; for Thanos the
 *   removal sets and multipliers of the (last) row batch are included.
 */
export interface BlockStep {
  method: "sparsegpt" | "thanos";
  phase: "selected" | "compensated";
  /** the block's columns [i1, i2) */
  i1: number;
  i2: number;
  /** the whole working weight [rows, cols] */
  weight: MatrixView;
  /**
   * the whole mask [rows, cols]; columns before i2 are final. Later ones hold Thanos's tentative
   * layer-wide choice of this block only when the observer asks for it ({@link MethodObserver}
   * `tentativeMasks`); otherwise they are left over from earlier blocks.
   */
  mask: MatrixView;
  /** Thanos: rows 0..i2−i1 of (H[i1:, i1:])⁻¹ ([i2 − i1, cols − i1]); SparseGPT: the block of the upper factor U */
  hinv: MatrixView;
  /** Thanos unstructured: u32 [1] — weights still to prune before this block (target − zeros so far) */
  budget?: Tensor<"u32">;
  /**
   * Thanos, phase "compensated": rows [r0, r0 + rows) of the last row batch: removal sets
   * idx/counts/rhs ([rows, i2 − i1], padded) and the multipliers as the dense Λ [rows, i2 − i1]
   * (λ_r at its columns q_r, zeros elsewhere: Λ[r, idx[r, i]] = λ_r[i])
   */
  removal?: { r0: number; rows: number; idx: Tensor<"u32">; counts: Tensor<"u32">; rhs: Tensor; lambda: Tensor };
}

/** Optional observer of a method's progress (notebooks show Thanos block by block through it). */
export interface MethodObserver {
  onBlock?(step: BlockStep): Promise<void> | void;
  /**
   * Thanos unstructured: write the whole layer-wide choice of each block's selection into the
   * mask's columns after the block too (default false: only the block's columns, all the method
   * needs — the rest is selected again at the next block)
   */
  readonly tentativeMasks?: boolean;
}

/**
 * A pruning method: reads the layer and its calibration statistics, returns new GPU tensors.
 * Options are already validated (see `resolvePruneOptions`). Methods without column blocks ignore
 * the observer.
 */
export type PruneMethod = (
  layer: LayerWeight,
  stats: LayerStats,
  options: PruneOptions,
  observer?: MethodObserver,
) => Promise<MethodOutput>;

/** [rows, cols] of a layer's weight, checking it is a 2-D f32 tensor. */
export function layerShape(layer: LayerWeight): [number, number] {
  const w = layer.weight;
  if (w.shape.length !== 2 || w.dtype !== "f32") {
    throw new TypeError(`Layer "${layer.name}": expected an f32 weight of rank 2 but found ${w.dtype} [${w.shape}]`);
  }
  return [w.shape[0], w.shape[1]];
}

/** A new f32 copy of the layer's weight, labelled `<name>.pruned`: what a method prunes in place. */
export async function workingCopy(layer: LayerWeight): Promise<Tensor<"f32">> {
  const [rows, cols] = layerShape(layer);
  const weight = empty(layer.weight.gpu, [rows, cols], "f32", `${layer.name}.pruned`);
  await copyView(mat(layer.weight), mat(weight));
  return weight;
}

/** A [rows, cols] window of a flat scratch tensor (ld = cols), starting at row `r0`. */
export function scratch(t: Tensor, rows: number, cols: number, r0 = 0): MatrixView {
  return { tensor: t, offset: r0 * cols, rows, cols, ld: cols };
}
