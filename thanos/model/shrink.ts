/**
 * Structured pruning made physical: drop the MLP's intermediate channels that structured pruning
 * removed, so the checkpoint is a smaller *dense* model that every Hugging Face loader reads as is.
 *
 * Thanos structured pruning with α = 0 zeroes the same ⌈s·cols⌉ input columns in every row of every
 * block's MLP down-projection (LLaMA `mlp.down_proj`, OPT `fc2`, GPT-2 `mlp.c_proj`). Channel j of the
 * intermediate activation then contributes `W_down[:, j] · h_j = 0` whatever h_j is, so removing it —
 * column j of the down-projection, row j of every layer that produces it (`gate_proj` and `up_proj`,
 * `fc1`, `c_fc`) and its bias entries — changes no output (only the order of a float sum). The config's
 * `intermediate_size` / `ffn_dim` / `n_inner` drops to match, so every block must lose the same number
 * of channels: the smallest number of all-zero down-projection columns over the blocks (the first that
 * many, by index, in each block).
 *
 * With α > 0 the outlier rows of the down-projection keep every column, so no column is zero in every
 * row and nothing can be dropped ({@link shrinkStructured} then returns `dropped: 0`).
 *
 * @module
 */

import type { ModelConfig } from "./config.ts";
import type { LinearLayer, ModelLayout } from "./layout.ts";
import type { TensorInput } from "./safetensors.ts";

/** The config key that holds the MLP width, per family. */
const WIDTH_KEY = { llama: "intermediate_size", opt: "ffn_dim", gpt2: "n_inner" } as const;

/** What {@link shrinkStructured} did. */
export interface ShrinkResult {
  /** the config with the lower MLP width */
  config: Record<string, unknown>;
  /** the tensors with the channels dropped (every other tensor as given) */
  tensors: Map<string, TensorInput>;
  /** intermediate channels dropped from every block (0: nothing could be) */
  dropped: number;
  /** the MLP width before and after */
  width: { before: number; after: number };
  /** all-zero down-projection columns found in each block */
  zeroColumns: number[];
}

async function valuesOf(t: TensorInput): Promise<Float32Array> {
  const d = typeof t.data === "function" ? await t.data() : t.data;
  if (!(d instanceof Float32Array)) throw new TypeError(`shrinkStructured: expected float data, got ${t.dtype}`);
  return d;
}

/** Indices j where logical column j of the layer's weight is zero in every row. */
function zeroColumns(values: Float32Array, layer: LinearLayer): number[] {
  const out = layer.outFeatures, inF = layer.inFeatures;
  const zero: number[] = [];
  for (let j = 0; j < inF; j++) {
    let all = true;
    for (let r = 0; r < out && all; r++) {
      // stored [out, in], or [in, out] for a Conv1D
      if ((layer.transposed ? values[j * out + r] : values[r * inF + j]) !== 0) all = false;
    }
    if (all) zero.push(j);
  }
  return zero;
}

/** Keeps logical input columns `keep` of a weight (stored layout preserved). */
function keepColumns(values: Float32Array, layer: LinearLayer, keep: number[]): Float32Array {
  const out = layer.outFeatures, inF = layer.inFeatures, k = keep.length;
  const res = new Float32Array(out * k);
  if (layer.transposed) { //                                 stored [in, out]: keep stored rows
    keep.forEach((j, i) => res.set(values.subarray(j * out, (j + 1) * out), i * out));
  } else {
    for (let r = 0; r < out; r++) keep.forEach((j, i) => (res[r * k + i] = values[r * inF + j]));
  }
  return res;
}

/** Keeps logical output rows `keep` of a weight (stored layout preserved). */
function keepRows(values: Float32Array, layer: LinearLayer, keep: number[]): Float32Array {
  const out = layer.outFeatures, inF = layer.inFeatures, k = keep.length;
  const res = new Float32Array(k * inF);
  if (layer.transposed) { //                                 stored [in, out]: keep stored columns
    for (let c = 0; c < inF; c++) keep.forEach((j, i) => (res[c * k + i] = values[c * out + j]));
  } else {
    keep.forEach((j, i) => res.set(values.subarray(j * inF, (j + 1) * inF), i * inF));
  }
  return res;
}

/**
 * Drops the intermediate MLP channels whose down-projection column is zero in every row (the same
 * number from every block) and lowers the config's MLP width.
 *
 * @param config the parsed config of the model (its `raw` is copied with the new width)
 * @param layout the model layout
 * @param tensors every tensor of the layout (F32 data, possibly lazy; read once here)
 * @returns the smaller model's config and tensors, and how many channels went; `dropped: 0` (and the
 *   tensors unchanged) when some block has no all-zero column
 * @example
 * ```ts
 * const { config, tensors, dropped } = await shrinkStructured(ckpt.config, ckpt.layout, model.checkpointTensors());
 * await writeCheckpoint("out/smaller", { config, tensors });
 * ```
 */
export async function shrinkStructured(
  config: ModelConfig,
  layout: ModelLayout,
  tensors: Map<string, TensorInput>,
): Promise<ShrinkResult> {
  const width = config.intermediateSize;
  const mlp = layout.blocks.map((b) => {
    const down = b.linears.filter((l) => l.input === "mlp_hidden");
    const ups = b.linears.filter((l) => l.input === "mlp_in");
    if (down.length !== 1 || ups.length === 0) {
      throw new Error(`shrinkStructured: block ${b.index} has no single MLP down-projection`);
    }
    return { down: down[0], ups };
  });
  const zero: number[][] = [];
  for (const { down } of mlp) zero.push(zeroColumns(await valuesOf(tensors.get(down.weight)!), down));
  const zeroColumnsPerBlock = zero.map((z) => z.length);
  const dropped = Math.min(...zeroColumnsPerBlock, width - 1); //         keep at least one channel
  if (dropped <= 0) {
    return {
      config: { ...config.raw },
      tensors,
      dropped: 0,
      width: { before: width, after: width },
      zeroColumns: zeroColumnsPerBlock,
    };
  }
  const out = new Map(tensors);
  mlp.forEach(({ down, ups }, b) => {
    const gone = new Set(zero[b].slice(0, dropped));
    const keep = Array.from({ length: width }, (_, j) => j).filter((j) => !gone.has(j));
    const k = keep.length;
    const d = tensors.get(down.weight)!;
    out.set(down.weight, {
      dtype: "F32",
      shape: down.transposed ? [k, down.outFeatures] : [down.outFeatures, k],
      data: async () => keepColumns(await valuesOf(d), down, keep),
    });
    for (const up of ups) {
      const w = tensors.get(up.weight)!;
      out.set(up.weight, {
        dtype: "F32",
        shape: up.transposed ? [up.inFeatures, k] : [k, up.inFeatures],
        data: async () => keepRows(await valuesOf(w), up, keep),
      });
      if (up.bias) {
        const bias = tensors.get(up.bias)!;
        out.set(up.bias, {
          dtype: "F32",
          shape: [k],
          data: async () => {
            const v = await valuesOf(bias);
            return Float32Array.from(keep, (j) => v[j]);
          },
        });
      }
    }
  });
  return {
    config: { ...config.raw, [WIDTH_KEY[config.family]]: width - dropped },
    tensors: out,
    dropped,
    width: { before: width, after: width - dropped },
    zeroColumns: zeroColumnsPerBlock,
  };
}
