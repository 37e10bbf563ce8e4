/**
 * Calibration statistics of one linear layer, accumulated from its input activations:
 *
 *   H = (2/n)·Σ_batches XᵀX      [cols, cols]   (the layer-wise reconstruction Hessian)
 *   ‖X_j‖² = (1/n)·Σ_batches Σ_t X_tj²   [cols]   (Wanda's column norms, squared)
 *
 * with n the number of activation rows (tokens) seen. Batches of any size are folded in as a running
 * mean, as SparseGPT's `add_batch` does: H ← H·n/(n+b) + (2/(n+b))·XᵀX. The official code counts n in
 * sequences rather than tokens; that is a constant factor (seqlen) on H and the norms, which none of
 * the four methods depends on (masks compare scores within a layer; the updates are invariant to
 * scaling H).
 *
 * INTENT: the official Thanos code resets its squared-input sum at every batch (`hasattr(self, '')`
 * is never true), so its outlier-row and structured-column metrics see only the last calibration
 * sample. Here the norms accumulate over every batch, and those metrics use them.
 *
 * The methods only read a {@link LayerStats}; only the owner of a {@link CalibrationStats} adds batches.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { type Tensor, zeros } from "../gpu/tensor.ts";
import { columnSquaredNormsAccumulate, gramAccumulate } from "../linalg/gram.ts";
import { scale } from "../linalg/elementwise.ts";
import { mat, type MatrixView } from "../linalg/view.ts";

/** What a pruning method may read about its layer's inputs. */
export interface LayerStats {
  /** number of input features (columns of W) */
  readonly cols: number;
  /** H = (2/n)·XᵀX, f32 [cols, cols], undamped */
  readonly hessian: Tensor;
  /** (1/n)·Σ_t X_tj², f32 [cols] */
  readonly colSqNorms: Tensor;
  /** n: activation rows accumulated */
  readonly samples: number;
}

/** Running calibration statistics of one layer (owned by the caller; release() frees the GPU memory). */
export class CalibrationStats implements LayerStats {
  readonly cols: number;
  readonly hessian: Tensor;
  readonly colSqNorms: Tensor;
  #samples = 0;

  /**
   * @param gpu the shared GPU context
   * @param cols number of input features of the layer
   * @param label names the GPU buffers (e.g. the layer name)
   */
  constructor(gpu: Gpu, cols: number, label = "layer") {
    if (!Number.isInteger(cols) || cols < 1) {
      throw new RangeError(`CalibrationStats: expected a positive number of columns but found ${cols}`);
    }
    this.cols = cols;
    this.hessian = zeros(gpu, [cols, cols], "f32", `${label}.H`);
    this.colSqNorms = zeros(gpu, [cols], "f32", `${label}.colSqNorms`);
  }

  get samples(): number {
    return this.#samples;
  }

  /**
   * Folds a batch of activation rows X [b, cols] (one row per token) into H and the norms.
   * @example
   * ```ts
   * const stats = new CalibrationStats(gpu, 768, "q_proj");
   * await stats.addBatch(x); // x: f32 [tokens, 768]
   * ```
   */
  async addBatch(x: Tensor | MatrixView): Promise<void> {
    const view = "tensor" in x ? x : mat(x);
    if (view.cols !== this.cols) {
      throw new RangeError(
        `CalibrationStats.addBatch: the batch has ${view.cols} columns but the layer has ${this.cols} inputs`,
      );
    }
    if (view.tensor.dtype !== "f32") {
      throw new TypeError(`CalibrationStats.addBatch: expected f32 activations but found ${view.tensor.dtype}`);
    }
    const b = view.rows;
    if (b === 0) return;
    const n = this.#samples;
    if (n > 0) {
      const keep = n / (n + b);
      await scale(this.hessian, keep);
      await scale(this.colSqNorms, keep);
    }
    this.#samples = n + b;
    await gramAccumulate(view, mat(this.hessian), 2 / (n + b));
    await columnSquaredNormsAccumulate(view, this.colSqNorms, 1 / (n + b));
  }

  release(): void {
    this.hessian.release();
    this.colSqNorms.release();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
