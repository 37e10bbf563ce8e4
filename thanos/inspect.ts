/**
 * Looking inside one layer of a model, for notebooks and experiments: run the dense model up to a
 * block and collect what one linear layer sees — its calibration statistics (H, ‖X_j‖²) and,
 * optionally, a sample of its raw input rows — plus the layer's weight; or read the mask a
 * compressed checkpoint stores for a layer ({@link storedMask}).
 *
 * @module
 */

import type { Tensor } from "./gpu/tensor.ts";
import type { CausalLM, LinearGroup } from "./model/forward.ts";
import type { MatrixView } from "./linalg/view.ts";
import { type CalibrationWindows, checkCalibration } from "./pipeline.ts";
import { CalibrationStats } from "./prune/stats.ts";
import { type Checkpoint, openCheckpoint } from "./model/checkpoint.ts";
import { CompressedSafetensorsReader, moduleOf, type SparseFormat, unpackBitmask } from "./model/compressed.ts";

export interface LayerCapture {
  block: number;
  /** the layer's module path, e.g. "self_attn.q_proj" */
  name: string;
  /** the group of layers sharing this input (q/k/v, gate/up, …) */
  group: LinearGroup;
  /** the layer's dense weight, f32 [out, in] — the model's own tensor: copy it before modifying */
  weight: Tensor;
  /** statistics over every calibration token (the caller releases them) */
  stats: CalibrationStats;
  /** the first `sampleRows` input rows X [rows, in] (tokens of the first windows), when asked */
  sample: { rows: number; cols: number; data: Float32Array } | null;
}

/**
 * Runs the dense model on the calibration windows up to block `block` and captures the input of
 * one of its linear layers.
 *
 * @param model a loaded model (its weights are not changed)
 * @param calibration the windows to run (e.g. `sampleCalibration(...)`)
 * @param block decoder block, 0-based
 * @param name the layer's module path (see `model.linearGroups`)
 * @param options `sampleRows`: also keep this many raw input rows for plotting (default 0)
 * @throws RangeError for an unknown block or layer name, or calibration the model cannot run
 * @example
 * ```ts
 * const cap = await captureLayer(model, calib, 1, "mlp.down_proj", { sampleRows: 256 });
 * const norms = await cap.stats.colSqNorms.read();       // ‖X_j‖² per input feature
 * ```
 */
export async function captureLayer(
  model: CausalLM,
  calibration: CalibrationWindows,
  block: number,
  name: string,
  options: { sampleRows?: number } = {},
): Promise<LayerCapture> {
  checkCalibration(model, calibration);
  if (!Number.isInteger(block) || block < 0 || block >= model.numBlocks) {
    throw new RangeError(`Block ${block} does not exist: the model has blocks 0..${model.numBlocks - 1}`);
  }
  const group = model.linearGroups.find((g) => g.names.includes(name));
  if (!group) {
    const names = model.linearGroups.flatMap((g) => g.names);
    throw new RangeError(`Unknown layer "${name}": expected one of ${names.join(", ")}`);
  }
  const { tokens, count, seqlen } = calibration;
  const sampleRows = Math.min(options.sampleRows ?? 0, count * seqlen);
  const stats = new CalibrationStats(model.gpu, group.inFeatures, `block${block}.${group.input}`);
  const sample = sampleRows > 0 ? new Float32Array(sampleRows * group.inFeatures) : null;
  let sampled = 0;
  try {
    let x = await model.embed(tokens, count, seqlen);
    try {
      for (let b = 0; b < block; b++) {
        const next = await model.runBlock(b, x, count, seqlen);
        x.release();
        x = next;
      }
      const out = await model.runBlock(block, x, count, seqlen, {
        onLinearInput: async (g: LinearGroup, input: MatrixView) => {
          if (g.input !== group.input) return;
          await stats.addBatch(input);
          if (sample && sampled < sampleRows) {
            const all = await input.tensor.read() as Float32Array;
            const take = Math.min(sampleRows - sampled, input.rows);
            for (let r = 0; r < take; r++) {
              const from = input.offset + r * input.ld;
              sample.set(all.subarray(from, from + input.cols), (sampled + r) * input.cols);
            }
            sampled += take;
          }
        },
      });
      out.release();
    } finally {
      x.release();
    }
    const weight = (await model.blockLinears(block)).find((l) => l.name === name)!.weight;
    return {
      block,
      name,
      group,
      weight,
      stats,
      sample: sample ? { rows: sampleRows, cols: group.inFeatures, data: sample } : null,
    };
  } catch (err) {
    stats.release();
    throw err;
  }
}

/** A compressed linear weight's stored mask, unpacked: 1 where a value is kept. */
export interface StoredMask {
  /** the checkpoint's sparsity format */
  format: SparseFormat;
  /** the stored tensor's shape (a GPT-2 Conv1D weight is [in, out]) */
  rows: number;
  cols: number;
  /** [rows, cols] row-major, 1 = kept (stored in `<m>.compressed`), 0 = a zero the file leaves out */
  data: Uint8Array;
}

/**
 * The bitmask a compressed checkpoint stores for one linear weight (`<m>.bitmask`, numpy's little bit
 * order), unpacked to one byte per weight — what the sparse products read, as a picture.
 *
 * @param source a compressed checkpoint directory (or an opened one)
 * @param weight the weight's tensor name, e.g. "model.layers.0.self_attn.q_proj.weight"
 * @throws RangeError when the checkpoint is not compressed or stores that weight dense
 * @example
 * ```ts
 * const m = await storedMask("build/t24", "model.layers.0.mlp.up_proj.weight"); // m.data[r * m.cols + c]
 * ```
 */
export async function storedMask(source: string | Checkpoint, weight: string): Promise<StoredMask> {
  const ckpt = typeof source === "string" ? await openCheckpoint(source) : source;
  const t = ckpt.tensors;
  const shape = t instanceof CompressedSafetensorsReader ? t.modules.get(moduleOf(weight)) : undefined;
  if (!(t instanceof CompressedSafetensorsReader) || !shape) {
    throw new RangeError(
      `storedMask: ${weight} is not stored compressed in ${ckpt.dir}; expected a compressed linear weight`,
    );
  }
  const [rows, cols] = shape;
  const bitmask = (await t.readTensor(`${moduleOf(weight)}.bitmask`)).data as Uint8Array;
  return { format: t.format, rows, cols, data: unpackBitmask(bitmask, rows, cols) };
}
