/**
 * Sparse linear weights on the GPU, as the sparse products read them: a 2:4 weight as its kept values
 * plus 4 bits per group of 4 ({@link Sparse24Weight}), an unstructured one as its non-zero values plus
 * one bit per weight and a start per row ({@link BitmaskWeight}). Both are built once from the
 * compressed-tensors tensors (`<m>.compressed`, `<m>.bitmask`, `<m>.row_offsets`) and never expanded to
 * dense on the GPU. The one-token products are in `thanos/decode/sparse_ops.ts`, the batch products
 * in `sparse_matmul.ts`.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { type Tensor, upload } from "../gpu/tensor.ts";

/** A 2:4 weight [rows, cols] on the GPU: values [rows, cols/2] f32 and index [rows, ceil(cols/32)] u32. */
export interface Sparse24Weight {
  kind: "2:4";
  rows: number;
  cols: number;
  values: Tensor<"f32">;
  index: Tensor<"u32">;
  [Symbol.dispose](): void;
}

/** An unstructured sparse weight [rows, cols] on the GPU: values [nnz], mask [rows, ceil(cols/32)], rowStart [rows]. */
export interface BitmaskWeight {
  kind: "bitmask";
  rows: number;
  cols: number;
  values: Tensor<"f32">;
  mask: Tensor<"u32">;
  rowStart: Tensor<"u32">;
  [Symbol.dispose](): void;
}

/**
 * Repacks a sparse-24-bitmask weight's bitmask (2 bits set in every group of 4) into 4 bits per group:
 * the in-group columns of its two kept values, 8 groups per u32 word, rows padded to whole words.
 * @param bitmask U8 [rows, ceil(cols/8)] (numpy.packbits little bit order)
 * @throws RangeError when cols is not a multiple of 4 or a group has other than 2 bits set
 */
export function pack24Index(bitmask: Uint8Array, rows: number, cols: number): Uint32Array {
  if (cols % 4 !== 0) throw new RangeError(`pack24Index: cols is ${cols}; expected a multiple of 4`);
  const groups = cols / 4, words = Math.ceil(groups / 8), rb = Math.ceil(cols / 8);
  const out = new Uint32Array(rows * words);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const byte = bitmask[r * rb + (g >> 1)], bits = (g & 1) ? byte >> 4 : byte & 15;
      const kept: number[] = [];
      for (let i = 0; i < 4; i++) if ((bits >> i) & 1) kept.push(i);
      if (kept.length !== 2) {
        throw new RangeError(
          `pack24Index: row ${r}, columns ${4 * g}..${4 * g + 3} have ${kept.length} bits set; expected 2`,
        );
      }
      out[r * words + (g >> 3)] |= (kept[0] | (kept[1] << 2)) << ((g & 7) * 4);
    }
  }
  return out;
}

/**
 * A sparse-24-bitmask weight on the GPU.
 * @param compressed the kept values [rows, cols/2] as float32
 * @param bitmask U8 [rows, ceil(cols/8)]
 * @example
 * ```ts
 * using w = upload24(gpu, compressed, bitmask, 688, 256, "mlp.up_proj");
 * await sparse24Matvec(w, x, y);
 * ```
 */
export function upload24(
  gpu: Gpu,
  compressed: Float32Array,
  bitmask: Uint8Array,
  rows: number,
  cols: number,
  label = "sparse24",
): Sparse24Weight {
  if (compressed.length !== rows * cols / 2) {
    throw new RangeError(
      `upload24: ${label} has ${compressed.length} values; [${rows}, ${cols}] at 2:4 needs ${rows * cols / 2}`,
    );
  }
  const index = pack24Index(bitmask, rows, cols);
  const values = upload(gpu, compressed, [rows, cols / 2], `${label}.values`);
  const idx = upload(gpu, index, [index.length], `${label}.index`);
  return {
    kind: "2:4",
    rows,
    cols,
    values,
    index: idx,
    [Symbol.dispose]() {
      values.release();
      idx.release();
    },
  };
}

/**
 * A sparse-bitmask weight on the GPU: the bitmask's bytes regrouped into u32 words per row (rows padded
 * to whole words), row_offsets as u32.
 * @param compressed the non-zero values [nnz] as float32
 * @param bitmask U8 [rows, ceil(cols/8)]
 * @param rowOffsets I64 [rows]
 */
export function uploadBitmask(
  gpu: Gpu,
  compressed: Float32Array,
  bitmask: Uint8Array,
  rowOffsets: BigInt64Array,
  rows: number,
  cols: number,
  label = "bitmask",
): BitmaskWeight {
  const rb = Math.ceil(cols / 8), words = Math.ceil(cols / 32);
  const bytes = new Uint8Array(rows * words * 4);
  for (let r = 0; r < rows; r++) bytes.set(bitmask.subarray(r * rb, (r + 1) * rb), r * words * 4);
  const maskWords = new Uint32Array(bytes.buffer); //                 little-endian: bit i of word w = column 32w + i
  if (compressed.length >= 2 ** 32) {
    throw new RangeError(`uploadBitmask: ${label} has ${compressed.length} values; at most 2^32 - 1`);
  }
  const starts = Uint32Array.from(rowOffsets, (v) => Number(v));
  const values = upload(
    gpu,
    compressed.length ? compressed : new Float32Array(1),
    [Math.max(1, compressed.length)],
    `${label}.values`,
  );
  const mask = upload(gpu, maskWords, [maskWords.length], `${label}.mask`);
  const rowStart = upload(gpu, starts, [rows], `${label}.row_start`);
  return {
    kind: "bitmask",
    rows,
    cols,
    values,
    mask,
    rowStart,
    [Symbol.dispose]() {
      values.release();
      mask.release();
      rowStart.release();
    },
  };
}

/** A sparse linear weight on the GPU: 2:4 or unstructured (bitmask). */
export type SparseWeight = Sparse24Weight | BitmaskWeight;

/** Bytes the GPU holds for a sparse weight (values, index or mask, row starts). */
export function sparseWeightBytes(w: SparseWeight): number {
  return w.kind === "2:4"
    ? w.values.byteLength + w.index.byteLength
    : w.values.byteLength + w.mask.byteLength + w.rowStart.byteLength;
}
