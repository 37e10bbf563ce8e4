/**
 * Rotary position embedding tables, computed on the CPU exactly as Hugging Face transformers
 * computes them (`modeling_rope_utils.py`), so the GPU only multiplies by them.
 *
 * - default: `inv_freq[i] = 1 / theta^(2i / headDim)`, in float32 as torch computes it;
 * - `linear`: `inv_freq / factor` (`_compute_linear_scaling_rope_parameters`);
 * - `llama3`: Llama-3.1's frequency-dependent interpolation (`_compute_llama3_parameters`): long
 *   wavelengths (> original_max_position_embeddings / low_freq_factor) are divided by `factor`,
 *   short ones (< … / high_freq_factor) kept, the band between blended by a smooth factor.
 *
 * Every intermediate is rounded to float32 where torch holds a float32 tensor, and the angles
 * `pos · inv_freq` are rounded to float32 before cos/sin (HF's `inv_freq @ position_ids` in f32).
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { type Tensor, upload } from "../gpu/tensor.ts";
import type { RopeScaling } from "./config.ts";

const f32 = Math.fround;

/** The rotary settings of a LLaMA config (`LlamaConfig.rope`). */
export interface RopeSettings {
  theta: number;
  scaling: RopeScaling | null;
}

/**
 * The inverse frequencies of the rotary embedding, [headDim / 2].
 *
 * @param headDim the head dimension (even)
 * @param rope theta and the optional scaling (linear or llama3)
 * @returns float32 inverse frequencies, as HF's `rotary_emb.inv_freq`
 * @throws RangeError for an odd or non-positive headDim
 * @example
 * ```ts
 * ropeInverseFrequencies(64, { theta: 500000, scaling: { type: "llama3", factor: 32, lowFreqFactor: 1,
 *   highFreqFactor: 4, originalMaxPositions: 8192 } });
 * ```
 */
export function ropeInverseFrequencies(headDim: number, rope: RopeSettings): Float32Array {
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) {
    throw new RangeError(`ropeInverseFrequencies: headDim is ${headDim}; expected an even integer >= 2`);
  }
  const half = headDim / 2;
  const inv = new Float32Array(half);
  // torch: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all float32
  for (let i = 0; i < half; i++) inv[i] = f32(1 / f32(Math.pow(rope.theta, f32(f32(2 * i) / headDim))));
  const s = rope.scaling;
  if (s === null) return inv;
  if (s.type === "linear") {
    for (let i = 0; i < half; i++) inv[i] = f32(inv[i] / s.factor);
    return inv;
  }
  // llama3
  const lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const wavelen = f32(f32(2 * Math.PI) / inv[i]);
    // long wavelengths: divide by factor; short ones: keep
    const scaled = wavelen > lowFreqWavelen ? f32(inv[i] / s.factor) : inv[i];
    const medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
    if (medium) {
      const smooth = f32(
        f32(f32(s.originalMaxPositions / wavelen) - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor),
      );
      inv[i] = f32(f32(f32(f32(1 - smooth) * scaled) / s.factor) + f32(smooth * scaled));
    } else {
      inv[i] = scaled;
    }
  }
  return inv;
}

/**
 * cos and sin of `pos · inv_freq[j]` for positions 0 .. seqLen−1, each [seqLen, headDim/2].
 *
 * @param invFreq from {@link ropeInverseFrequencies}
 * @param seqLen number of positions
 * @returns float32 tables, row `pos`, column `j`
 * @example
 * ```ts
 * const { cos, sin } = ropeTables(ropeInverseFrequencies(32, { theta: 10000, scaling: null }), 256);
 * ```
 */
export function ropeTables(invFreq: Float32Array, seqLen: number): { cos: Float32Array; sin: Float32Array } {
  if (!Number.isInteger(seqLen) || seqLen < 1) {
    throw new RangeError(`ropeTables: seqLen is ${seqLen}; expected an integer >= 1`);
  }
  const half = invFreq.length;
  const cos = new Float32Array(seqLen * half), sin = new Float32Array(seqLen * half);
  for (let pos = 0; pos < seqLen; pos++) {
    for (let j = 0; j < half; j++) {
      const angle = f32(pos * invFreq[j]);
      cos[pos * half + j] = Math.cos(angle);
      sin[pos * half + j] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * {@link ropeTables} uploaded to the GPU, as the `rope` kernel takes them.
 * @returns `cos` and `sin`, f32 [seqLen, headDim/2]; release both when done
 */
export function ropeTablesOnGpu(gpu: Gpu, invFreq: Float32Array, seqLen: number): { cos: Tensor; sin: Tensor } {
  const { cos, sin } = ropeTables(invFreq, seqLen);
  const half = invFreq.length;
  return {
    cos: upload(gpu, cos, [seqLen, half], "rope.cos"),
    sin: upload(gpu, sin, [seqLen, half], "rope.sin"),
  };
}
