/**
 * `pruneLayer`: the one entry point through which the CLI, notebooks, the pipeline and the tests prune
 * a linear layer — validate, run the method looked up by name, and measure what it did.
 *
 * @module
 */

import { readAll, type Tensor, zeros } from "../gpu/tensor.ts";
import { axpy, copyView } from "../linalg/elementwise.ts";
import { countMask } from "../linalg/mask.ts";
import { matmul } from "../linalg/matmul.ts";
import { mat } from "../linalg/view.ts";
import { magnitude } from "./magnitude.ts";
import { layerShape, type LayerWeight, type MethodObserver, type PruneMethod } from "./method.ts";
import { type PendingRowDots, recordRowDots } from "./ops.ts";
import {
  checkLayerFits,
  type MethodName,
  patternName,
  type PruneOptions,
  type PruneOptionsInput,
  resolvePruneOptions,
} from "./options.ts";
import { sparsegpt } from "./sparsegpt.ts";
import type { LayerStats } from "./stats.ts";
import { thanos } from "./thanos.ts";
import { wanda } from "./wanda.ts";

/** The methods of the paper's comparison, by name. */
export const METHODS: Readonly<Record<MethodName, PruneMethod>> = Object.freeze({
  magnitude,
  wanda,
  sparsegpt,
  thanos,
});

export interface PruneResult {
  layer: string;
  method: MethodName;
  /** "unstructured", "structured" or "n:m" */
  pattern: string;
  rows: number;
  cols: number;
  /** the pruned weight, f32 [rows, cols], on the GPU (the caller owns it) */
  weight: Tensor<"f32">;
  /** u32 [rows, cols], 1 = pruned, on the GPU (the caller owns it) */
  mask: Tensor<"u32">;
  /** achieved fraction of pruned weights (mask ones / rows·cols) */
  sparsity: number;
  /**
   * ‖(W′−W)Xᵀ‖²_F / ‖W Xᵀ‖²_F = tr(ΔW·H·ΔWᵀ) / tr(W·H·Wᵀ), from the undamped H (no X kept); NaN
   * when pruned without statistics
   */
  relativeError: number;
  /** wall-clock seconds: the method itself (GPU work included), and the error measurement */
  timings: { method: number; error: number };
}

/**
 * Prunes one linear layer with the method and pattern of `options`.
 *
 * @param layer the layer's name and f32 weight [rows, cols] (left unchanged)
 * @param stats its calibration statistics (H and column norms over the layer's inputs); null for
 *   magnitude without calibration — its mask needs none — and then no relative error is measured (NaN)
 * @param options method, sparsity, pattern, blocksize, percdamp, alpha, rowBatch (validated here)
 * @param observer sees SparseGPT's and Thanos's column blocks as they are pruned (see BlockStep)
 * @returns the pruned weight and mask (GPU tensors the caller releases), achieved sparsity,
 *   relative reconstruction error and timings
 * @throws RangeError for invalid options, a pattern that does not fit the layer, mismatched
 *   statistics, or non-finite weights/statistics — before any pruning work
 * @example
 * ```ts
 * const stats = new CalibrationStats(gpu, 768, "q_proj");
 * await stats.addBatch(inputs);                        // f32 [tokens, 768]
 * const r = await pruneLayer({ name: "q_proj", weight }, stats, { method: "thanos", sparsity: 0.5 });
 * console.log(r.sparsity, r.relativeError);
 * ```
 */
export async function pruneLayer(
  layer: LayerWeight,
  stats: LayerStats | null,
  options: PruneOptionsInput | PruneOptions,
  observer?: MethodObserver,
): Promise<PruneResult> {
  const o = resolvePruneOptions(options);
  const [rows, cols] = layerShape(layer);
  checkLayerFits(layer.name, rows, cols, o);
  if (stats === null && o.method !== "magnitude") {
    throw new RangeError(`Layer "${layer.name}": ${o.method} needs calibration statistics, but none were given`);
  }
  if (stats && stats.cols !== cols) {
    throw new RangeError(
      `Layer "${layer.name}" has ${cols} input columns but its calibration statistics have ${stats.cols}`,
    );
  }
  if (stats && o.method !== "magnitude" && stats.samples === 0) {
    throw new RangeError(`Layer "${layer.name}": ${o.method} needs calibration statistics, but no samples were added`);
  }
  const gpu = layer.weight.gpu;

  // before any pruning work: W and H finite, and tr(W·H·Wᵀ) — recorded together, read back once
  // (without statistics: W finite only, and no error is measured)
  const t0 = performance.now();
  const W = mat(layer.weight);
  using energy = stats ? await recordQuadraticForm(layer.weight, stats.hessian) : await recordRowDots(W, W); // counts W's NaN/Inf
  using hCheck = stats ? await recordRowDots(mat(stats.hessian), mat(stats.hessian)) : null;
  const [energyRows, wBad, hBad] = await readAll(energy.dots, energy.nonFinite, ...(hCheck ? [hCheck.nonFinite] : []));
  const wNonFinite = nonFiniteMessage(layer, "weight", wBad as Uint32Array);
  if (wNonFinite) throw new RangeError(wNonFinite);
  const hNonFinite = hBad && nonFiniteMessage(layer, "calibration statistics (H)", hBad as Uint32Array);
  if (hNonFinite) throw new RangeError(`${hNonFinite}; the layer's inputs were not finite`);
  const denominator = sum(energyRows);
  const tDen = performance.now() - t0;

  const t1 = performance.now();
  const out = stats ? await METHODS[o.method](layer, stats, o, observer) : await magnitude(layer, null, o);
  let numerator = NaN, pruned: number, tMethod: number, t2: number;
  try {
    await gpu.sync();
    t2 = performance.now();
    tMethod = t2 - t1;
    // the error and the mask count, recorded together and read back once
    using delta = stats ? await difference(layer.weight, out.weight) : null;
    using error = delta ? await recordQuadraticForm(delta, stats!.hessian) : null;
    using counter = zeros(gpu, [1], "u32", `${layer.name}.maskCount`);
    await countMask(mat(out.mask), counter);
    const [counts, errorRows] = await readAll(counter, ...(error ? [error.dots] : []));
    pruned = counts[0];
    if (errorRows) numerator = sum(errorRows as Float32Array);
  } catch (err) {
    out.weight.release();
    out.mask.release();
    throw err;
  }
  const tErr = performance.now() - t2 + tDen;

  return {
    layer: layer.name,
    method: o.method,
    pattern: patternName(o.pattern),
    rows,
    cols,
    weight: out.weight,
    mask: out.mask,
    sparsity: pruned / (rows * cols),
    relativeError: !stats ? NaN : denominator > 0 ? numerator / denominator : numerator === 0 ? 0 : Infinity,
    timings: { method: tMethod / 1000, error: tErr / 1000 },
  };
}

/**
 * The squared reconstruction error of replacing `weight` by `pruned` on the calibration inputs,
 * ‖(W′−W)Xᵀ‖²_F·(2/n) = tr(ΔW·H·ΔWᵀ), from the undamped H. Divide by {@link outputEnergy} for the
 * relative error.
 * @example
 * ```ts
 * const rel = await reconstructionError(w, wPruned, stats) / await outputEnergy(w, stats);
 * ```
 */
export async function reconstructionError(weight: Tensor, pruned: Tensor, stats: LayerStats): Promise<number> {
  using delta = await difference(weight, pruned);
  using pending = await recordQuadraticForm(delta, stats.hessian);
  return sum((await pending.read()).dots);
}

/** tr(W·H·Wᵀ) = ‖W·Xᵀ‖²_F·(2/n): the layer's output energy on the calibration inputs. */
export async function outputEnergy(weight: Tensor, stats: LayerStats): Promise<number> {
  using pending = await recordQuadraticForm(weight, stats.hessian);
  return sum((await pending.read()).dots);
}

/** ΔW = W′ − W, a new tensor. */
async function difference(weight: Tensor, pruned: Tensor): Promise<Tensor> {
  const [rows, cols] = weight.shape;
  const delta = zeros(weight.gpu, [rows, cols], "f32", "delta");
  await copyView(mat(pruned), mat(delta));
  await axpy(mat(delta), mat(weight), -1); //                     ΔW = W′ − W
  return delta;
}

/**
 * Records the rows of tr(A·H·Aᵀ) = Σ_r A[r, :]·(A·H)[r, :] (summed in float64 after the read);
 * its non-finite counts are those of A.
 */
async function recordQuadraticForm(a: Tensor, h: Tensor): Promise<PendingRowDots> {
  using ah = zeros(a.gpu, [a.shape[0], h.shape[1]], "f32", "quadraticForm.AH");
  await matmul(mat(a), mat(h), mat(ah));
  return await recordRowDots(mat(a), mat(ah));
}

function sum(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** A message naming the first row with NaN/Inf, or null when all are finite. */
function nonFiniteMessage(layer: LayerWeight, what: string, nonFinite: Uint32Array): string | null {
  const row = nonFinite.findIndex((c) => c > 0);
  if (row < 0) return null;
  const total = nonFinite.reduce((a, b) => a + b, 0);
  return `Layer "${layer.name}": the ${what} contains ${total} NaN/Inf value(s), the first in row ${row}`;
}
