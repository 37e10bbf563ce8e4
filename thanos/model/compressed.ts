/**
 * Compressed sparse checkpoints in the compressed-tensors layout (neuralmagic / vllm-project
 * `compressed-tensors`, the last releases with sparse compressors: 0.14.x), written and read
 * without that library.
 *
 * For a linear weight `<m>.weight` of stored shape [rows, cols] (GPT-2 Conv1D: [in, out]):
 * - `sparse-bitmask` (`BitmaskCompressor`): `<m>.compressed` 1-D, the non-zero values (`w != 0`) in
 *   row-major order, the weight's dtype; `<m>.bitmask` U8 [rows, ceil(cols/8)]; `<m>.row_offsets` I64
 *   [rows], where row r starts in `compressed` (`cumsum(counts) - counts`); `<m>.shape` I64 [2].
 * - `sparse-24-bitmask` (`Sparse24BitMaskCompressor`): `<m>.compressed` [rows, cols/2], the two kept
 *   values of every group of four consecutive columns, row-major; `<m>.bitmask` U8 [rows, ceil(cols/8)];
 *   `<m>.shape` I64 [2, 1] (`torch.tensor(shape).reshape(-1, 1)`).
 * - bitmasks are `numpy.packbits(mask, axis=-1, bitorder="little")`: bit i of byte j of a row is column 8j+i,
 *   the last byte zero-padded.
 * - `config.json` gains `quantization_config = {quant_method: "compressed-tensors", version,
 *   sparsity_config: {format, targets, ignore, global_sparsity, sparsity_structure}, transform_config: {}}`
 *   (`ModelCompressor.update_config`). `global_sparsity` is the fraction of zeros over all of the
 *   model's parameters (llm-compressor's `ModuleSparsificationInfo.params_sparse_percent / 100`).
 *
 * One `sparsity_config` holds ONE format for the whole model (one compressor decompresses every
 * compressed module), so the format is chosen per model: `sparse-24-bitmask` when every layer written
 * compressed is exactly 2:4 along its stored rows, otherwise `sparse-bitmask` (which stores a 2:4
 * layer losslessly too, for 8 bytes a row more). A layer is written compressed only when that is
 * smaller than dense; the others stay dense and are listed in `ignore`.
 *
 * @module
 */

import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./half.ts";
import type { ModelLayout } from "./layout.ts";
import {
  type FloatDType,
  isFloat,
  SAFETENSORS_DTYPE_BYTES,
  type SafetensorsFile,
  SafetensorsReader,
  type TensorData,
  type TensorEntry,
  type TensorInput,
} from "./safetensors.ts";

/** The compressed-tensors release whose layout this module writes (its config's `version`). */
export const COMPRESSED_TENSORS_VERSION = "0.14.0.1";

/** The sparse formats this module reads and writes. */
export const SPARSE_FORMATS = ["sparse-bitmask", "sparse-24-bitmask"] as const;
export type SparseFormat = (typeof SPARSE_FORMATS)[number];

/** `quantization_config.sparsity_config` (compressed-tensors' `SparsityCompressionConfig`). */
export interface SparsityConfig {
  format: SparseFormat;
  global_sparsity: number;
  ignore: string[];
  sparsity_structure: string;
  targets: string[];
}

/** `quantization_config` of a compressed checkpoint (keys sorted, as `update_config` writes them). */
export interface CompressionConfig {
  quant_method: "compressed-tensors";
  sparsity_config: SparsityConfig;
  transform_config: Record<string, never>;
  version: string;
}

// ---------------------------------------------------------------------------------------------
// one weight

/** Float32 values rounded to what `dtype` stores (F16/BF16: round to nearest even), as float32. */
export function roundToDtype(values: Float32Array, dtype: FloatDType): Float32Array {
  if (dtype === "F16") return f16ToF32(f32ToF16(values));
  if (dtype === "BF16") return bf16ToF32(f32ToBf16(values));
  return values;
}

/** Bytes of one bitmask row: ceil(cols / 8). */
export function bitmaskRowBytes(cols: number): number {
  return Math.ceil(cols / 8);
}

/**
 * Packs a 0/1 mask [rows, cols] like `numpy.packbits(mask, axis=-1, bitorder="little")`.
 * @returns U8 [rows, ceil(cols/8)]: bit i of byte j of row r is mask[r, 8j + i]
 */
export function packBitmask(mask: Uint8Array, rows: number, cols: number): Uint8Array {
  const rb = bitmaskRowBytes(cols);
  const out = new Uint8Array(rows * rb);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) if (mask[r * cols + c]) out[r * rb + (c >> 3)] |= 1 << (c & 7);
  }
  return out;
}

/** Unpacks a bitmask to a 0/1 mask [rows, cols] (padding bits are ignored, like `unpackbits(count=cols)`). */
export function unpackBitmask(bitmask: Uint8Array, rows: number, cols: number): Uint8Array {
  const rb = bitmaskRowBytes(cols);
  const out = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = (bitmask[r * rb + (c >> 3)] >> (c & 7)) & 1;
  }
  return out;
}

/** What a weight's zeros allow. */
export interface WeightSparsity {
  rows: number;
  cols: number;
  /** non-zero values (`w != 0`; NaN counts as non-zero, −0 as zero) */
  nonzeros: number;
  /** cols % 4 == 0 and every group of 4 consecutive stored columns has at most 2 non-zeros */
  twoFour: boolean;
  /** cols % 8 == 0 and every group of 8 has at most 4 non-zeros */
  fourEight: boolean;
}

/** Counts a stored weight's non-zeros and checks its n:m structure along the stored rows. */
export function weightSparsity(values: Float32Array, rows: number, cols: number): WeightSparsity {
  let nonzeros = 0, twoFour = cols % 4 === 0, fourEight = cols % 8 === 0;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let g = 0; g < cols; g += 4) {
      let n = 0;
      for (let c = g; c < Math.min(g + 4, cols); c++) if (values[base + c] !== 0) n++;
      nonzeros += n;
      if (n > 2) twoFour = false;
      if (fourEight && g % 8 === 0 && g + 4 < cols) {
        let n8 = n;
        for (let c = g + 4; c < g + 8; c++) if (values[base + c] !== 0) n8++;
        if (n8 > 4) fourEight = false;
      }
    }
  }
  return { rows, cols, nonzeros, twoFour, fourEight };
}

/**
 * Bytes a weight takes on disk in each representation (the `.shape` tensor included).
 * @param elementBytes bytes of one value (4 for F32, 2 for F16/BF16)
 */
export function representationBytes(
  s: Pick<WeightSparsity, "rows" | "cols" | "nonzeros">,
  elementBytes: number,
): { dense: number; "sparse-bitmask": number; "sparse-24-bitmask": number } {
  const mask = s.rows * bitmaskRowBytes(s.cols);
  return {
    dense: s.rows * s.cols * elementBytes,
    "sparse-bitmask": s.nonzeros * elementBytes + mask + 8 * s.rows + 16,
    "sparse-24-bitmask": s.rows * Math.floor(s.cols / 2) * elementBytes + mask + 16,
  };
}

/** A compressed weight's tensors (values as float32; the file stores them in the weight's dtype). */
export interface CompressedWeight {
  compressed: Float32Array;
  /** [rows] for sparse-24-bitmask, 1-D for sparse-bitmask */
  compressedShape: number[];
  bitmask: Uint8Array;
  /** sparse-bitmask only */
  rowOffsets?: BigInt64Array;
}

/**
 * `bitmask_compress`: the non-zero values in row-major order, their bitmask and each row's offset.
 * @param values the stored weight [rows, cols], already rounded to its storage dtype
 */
export function compressBitmask(values: Float32Array, rows: number, cols: number): CompressedWeight {
  const mask = new Uint8Array(rows * cols);
  const rowOffsets = new BigInt64Array(rows);
  let n = 0;
  for (let r = 0; r < rows; r++) {
    rowOffsets[r] = BigInt(n);
    for (let c = 0; c < cols; c++) {
      if (values[r * cols + c] !== 0) {
        mask[r * cols + c] = 1;
        n++;
      }
    }
  }
  const compressed = new Float32Array(n);
  for (let i = 0, k = 0; i < values.length; i++) if (mask[i]) compressed[k++] = values[i];
  return { compressed, compressedShape: [n], bitmask: packBitmask(mask, rows, cols), rowOffsets };
}

/**
 * `sparse24_bitmask_compress`: in every group of 4 consecutive columns the 2 values of largest
 * magnitude are kept (their bits set), row-major, as [rows, cols/2].
 *
 * INTENT: compressed-tensors picks them with `torch.topk(|w|, 2)`, whose order among ties is
 * implementation-defined (torch 1.13 on CPU keeps columns 2,3 of an all-zero group but 0,2 of
 * [5,0,0,0]). Only groups with fewer than 2 non-zeros have ties that matter, and there any choice
 * decompresses to the same weight; here the tie goes to the lower column, so the output is
 * deterministic. Readers (this one and compressed-tensors') accept any 2-of-4 choice.
 *
 * @throws RangeError when cols is not a multiple of 4 or a group holds more than 2 non-zeros
 *   (the weight is not 2:4 and this format would lose values)
 */
export function compress24(values: Float32Array, rows: number, cols: number, name = "weight"): CompressedWeight {
  if (cols % 4 !== 0) throw new RangeError(`${name}: ${cols} columns are not a multiple of 4; not 2:4`);
  const mask = new Uint8Array(rows * cols);
  const compressed = new Float32Array((rows * cols) / 2);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols; g += 4) {
      const base = r * cols + g;
      let nz = 0;
      for (let c = 0; c < 4; c++) if (values[base + c] !== 0) nz++;
      if (nz > 2) throw new RangeError(`${name}: row ${r}, columns ${g}..${g + 3} hold ${nz} non-zeros; not 2:4`);
      let zerosToKeep = 2 - nz;
      for (let c = 0; c < 4; c++) {
        if (values[base + c] !== 0 || (zerosToKeep > 0 && zerosToKeep-- > 0)) mask[base + c] = 1;
      }
      for (let c = 0; c < 4; c++) if (mask[base + c]) compressed[k++] = values[base + c];
    }
  }
  return { compressed, compressedShape: [rows, cols / 2], bitmask: packBitmask(mask, rows, cols) };
}

/** The raw tensors of one compressed module, as read from the file. */
export interface CompressedParts {
  compressed: TensorData;
  bitmask: TensorData;
  shape: TensorData;
  rowOffsets?: TensorData;
}

/**
 * Checks a compressed module's tensors and rebuilds the dense weight (`bitmask_decompress` /
 * `sparse24_bitmask_decompress`).
 * @param prefix the module's tensor-name prefix (`<m>`), for error messages
 * @returns the dense weight [rows, cols] as float32
 * @throws RangeError naming the tensor and what is wrong: a bitmask whose popcount disagrees with the
 *   number of values, row_offsets not monotone, out of range or disagreeing with the bitmask, a
 *   sparse-24-bitmask bitmask that is not 2 of every 4
 */
export function decompressWeight(
  prefix: string,
  format: SparseFormat,
  parts: CompressedParts,
  [rows, cols]: readonly number[],
): Float32Array {
  const bitmask = parts.bitmask.data as Uint8Array;
  const values = parts.compressed.data as Float32Array;
  const rb = bitmaskRowBytes(cols);
  const out = new Float32Array(rows * cols);
  let k = 0;
  const rowOffsets = parts.rowOffsets?.data as BigInt64Array | undefined;
  for (let r = 0; r < rows; r++) {
    if (rowOffsets) {
      const start = rowOffsets[r];
      if (r > 0 && start < rowOffsets[r - 1]) {
        throw new RangeError(
          `${prefix}.row_offsets is not monotone: row ${r} starts at ${start}, before row ${r - 1} (${
            rowOffsets[r - 1]
          })`,
        );
      }
      if (start < 0n || start > BigInt(values.length)) {
        throw new RangeError(
          `${prefix}.row_offsets[${r}] = ${start} is out of range; expected 0..${values.length} (the length of ${prefix}.compressed)`,
        );
      }
      if (start !== BigInt(k)) {
        throw new RangeError(
          `${prefix}.row_offsets[${r}] = ${start} but ${prefix}.bitmask has ${k} set bits before row ${r}`,
        );
      }
    }
    for (let g = 0; g < cols; g += 4) {
      let set = 0;
      for (let c = g; c < Math.min(g + 4, cols); c++) {
        if ((bitmask[r * rb + (c >> 3)] >> (c & 7)) & 1) {
          set++;
          if (k < values.length) out[r * cols + c] = values[k];
          k++;
        }
      }
      if (format === "sparse-24-bitmask" && set !== 2) {
        throw new RangeError(
          `${prefix}.bitmask is not 2:4 though the format is sparse-24-bitmask: row ${r}, columns ${g}..${
            g + 3
          } have ${set} bits set; expected 2`,
        );
      }
    }
  }
  if (k !== values.length) {
    throw new RangeError(
      `${prefix}.compressed holds ${values.length} values but ${prefix}.bitmask has ${k} bits set; expected equal`,
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// a whole checkpoint: writing

/** The choice made for one linear weight. */
export interface LayerCompression {
  /** the weight's tensor name */
  name: string;
  /** how it is stored: compressed in the model's format, or dense (listed in `ignore`) */
  stored: SparseFormat | "dense";
  shape: number[];
  sparsity: number;
  nonzeros: number;
  twoFour: boolean;
  bytesDense: number;
  bytesStored: number;
  /** why it stays dense, when it does */
  reason?: string;
}

/** Bytes before and after, per kind of tensor (the storage dtype's bytes; headers not counted). */
export interface CompressionBytes {
  /** the linear weights of the decoder blocks (the only tensors that may be compressed) */
  linear: { before: number; after: number };
  /** other matrices: token/position embeddings, an untied LM head, OPT's project_in/out */
  embeddings: { before: number; after: number };
  /** vectors: norm weights and biases */
  vectors: { before: number; after: number };
  total: { before: number; after: number };
}

/** What {@link planCompression} decided. */
export interface CompressionPlan {
  /** null when no layer gains: the checkpoint is written dense */
  config: CompressionConfig | null;
  format: SparseFormat | null;
  layers: LayerCompression[];
  bytes: CompressionBytes;
}

async function dataOf(t: TensorInput): Promise<ArrayBufferView> {
  return typeof t.data === "function" ? await t.data() : t.data;
}

/** The module name of a weight (`<m>.weight` → `<m>`). */
export function moduleOf(weight: string): string {
  return weight.endsWith(".weight") ? weight.slice(0, -".weight".length) : weight;
}

/**
 * Decides how each linear weight of `layout` is stored: reads every tensor once (lazy data is
 * called), counts zeros in the storage dtype, and picks the model's format.
 *
 * @param layout the model layout (its blocks' linears are the candidates)
 * @param tensors every tensor of the layout (float data as Float32Array)
 * @param dtype the storage dtype of float tensors
 * @param structure the sparsity structure to record, or undefined to detect it ("2:4" when every
 *   compressed layer is 2:4 along its input dimension, else "4:8" likewise, else "unstructured")
 */
export async function planCompression(
  layout: ModelLayout,
  tensors: Map<string, TensorInput>,
  dtype: FloatDType,
  structure?: string,
): Promise<CompressionPlan> {
  const eb = SAFETENSORS_DTYPE_BYTES[dtype];
  const linears = layout.blocks.flatMap((b) => b.linears);
  const linearByWeight = new Map(linears.map((l) => [l.weight, l]));
  let zeros = 0, total = 0;
  const bytes: CompressionBytes = {
    linear: { before: 0, after: 0 },
    embeddings: { before: 0, after: 0 },
    vectors: { before: 0, after: 0 },
    total: { before: 0, after: 0 },
  };
  const kind = (shape: readonly number[]) => shape.length >= 2 ? bytes.embeddings : bytes.vectors;
  const candidates:
    (WeightSparsity & { name: string; transposed: boolean; logicalTwoFour: boolean; logicalFourEight: boolean })[] = [];
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const size = n * (isFloat(t.dtype) ? eb : SAFETENSORS_DTYPE_BYTES[t.dtype]);
    if (!isFloat(t.dtype)) {
      kind(t.shape).before += size;
      continue;
    }
    const values = roundToDtype((await dataOf(t)) as Float32Array, dtype);
    total += n;
    const layer = linearByWeight.get(name);
    if (!layer) {
      for (let i = 0; i < n; i++) if (values[i] === 0) zeros++;
      kind(t.shape).before += size;
      continue;
    }
    const [rows, cols] = t.shape;
    const s = weightSparsity(values, rows, cols);
    zeros += n - s.nonzeros;
    bytes.linear.before += size;
    // the n:m structure along the input dimension (Conv1D stores it down the columns)
    const logical = layer.transposed ? weightSparsity(transpose(values, rows, cols), cols, rows) : s;
    candidates.push({
      ...s,
      name,
      transposed: layer.transposed,
      logicalTwoFour: logical.twoFour,
      logicalFourEight: logical.fourEight,
    });
  }
  bytes.embeddings.after = bytes.embeddings.before;
  bytes.vectors.after = bytes.vectors.before;
  const gains = (c: (typeof candidates)[number], f: SparseFormat) =>
    representationBytes(c, eb)[f] < c.rows * c.cols * eb;
  // sparse-24-bitmask only when every layer that gains is 2:4 along its stored rows (and is a
  // Linear: a Conv1D's groups run down its stored columns)
  const gaining = candidates.filter((c) => gains(c, "sparse-bitmask") || (c.twoFour && !c.transposed));
  const format: SparseFormat | null = gaining.length === 0
    ? null
    : gaining.every((c) => c.twoFour && !c.transposed)
    ? "sparse-24-bitmask"
    : "sparse-bitmask";
  const layers = candidates.map((c) =>
    storedAs(c, format, representationBytes(c, eb), gains(c, format ?? "sparse-bitmask"))
  );
  for (const l of layers) bytes.linear.after += l.bytesStored;
  bytes.total.before = bytes.linear.before + bytes.embeddings.before + bytes.vectors.before;
  bytes.total.after = bytes.linear.after + bytes.embeddings.after + bytes.vectors.after;
  if (!format) return { config: null, format, layers, bytes };

  const config = compressionConfig(layout, layers, candidates, format, structure, total === 0 ? 0 : zeros / total);
  return { config, format, layers, bytes };
}

/** How one candidate layer is stored: in `format` when that makes it smaller, else dense (and why). */
function storedAs(
  c: WeightSparsity & { name: string; logicalTwoFour: boolean },
  format: SparseFormat | null,
  sizes: Record<SparseFormat | "dense", number>,
  gains: boolean,
): LayerCompression {
  const common = {
    name: c.name,
    shape: [c.rows, c.cols],
    sparsity: 1 - c.nonzeros / (c.rows * c.cols),
    nonzeros: c.nonzeros,
    twoFour: c.logicalTwoFour,
    bytesDense: sizes.dense,
  };
  if (format && gains) return { ...common, stored: format, bytesStored: sizes[format] };
  return {
    ...common,
    stored: "dense" as const,
    bytesStored: sizes.dense,
    reason: `${(100 * common.sparsity).toFixed(1)}% zeros: ${format ?? "sparse-bitmask"} would take ${
      sizes[format ?? "sparse-bitmask"]
    } bytes, dense ${sizes.dense}`,
  };
}

/**
 * The `quantization_config` that describes a compressed checkpoint: the format, the sparsity
 * structure (detected from the compressed layers unless `structure` is given), the module class
 * the compressed layers are (`targets`) and every module of that class that stays dense (`ignore`).
 */
function compressionConfig(
  layout: ModelLayout,
  layers: readonly LayerCompression[],
  candidates: readonly { name: string; logicalTwoFour: boolean; logicalFourEight: boolean }[],
  format: SparseFormat,
  structure: string | undefined,
  globalSparsity: number,
): CompressionConfig {
  const compressedSet = new Set(layers.filter((l) => l.stored !== "dense").map((l) => l.name));
  const done = candidates.filter((c) => compressedSet.has(c.name));
  const detected = done.every((c) => c.logicalTwoFour)
    ? "2:4"
    : done.every((c) => c.logicalFourEight)
    ? "4:8"
    : "unstructured";
  // targets: the module class the pruned layers are (compressed-tensors matches class names);
  // ignore: every module of that class that stays dense
  const conv = layout.family === "gpt2";
  const ignore = [
    ...layers.filter((l) => l.stored === "dense").map((l) => moduleOf(l.name)),
    ...(conv ? [] : [
      ...(layout.projectIn ? [moduleOf(layout.projectIn.weight)] : []),
      ...(layout.projectOut ? [moduleOf(layout.projectOut.weight)] : []),
      lmHeadModule(layout),
    ]),
  ];
  return {
    quant_method: "compressed-tensors",
    sparsity_config: {
      format,
      global_sparsity: globalSparsity,
      ignore,
      sparsity_structure: structure ?? detected,
      targets: [conv ? "Conv1D" : "Linear"],
    },
    transform_config: {},
    version: COMPRESSED_TENSORS_VERSION,
  };
}

/** The LM head's module name as the model class names it (tied heads are still the module `lm_head`). */
function lmHeadModule(layout: ModelLayout): string {
  return layout.lmHead.tied ? "lm_head" : moduleOf(layout.lmHead.weight);
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * The tensors to write for a plan: each compressed weight `<m>.weight` replaced by `<m>.compressed`,
 * `<m>.bitmask`, `<m>.shape` (and `<m>.row_offsets` for sparse-bitmask), computed lazily.
 */
export function compressedTensors(
  tensors: Map<string, TensorInput>,
  plan: CompressionPlan,
  dtype: FloatDType,
): Map<string, TensorInput> {
  const out = new Map<string, TensorInput>();
  const byName = new Map(plan.layers.map((l) => [l.name, l]));
  for (const [name, t] of tensors) {
    const layer = byName.get(name);
    if (!layer || layer.stored === "dense" || !plan.format) {
      out.set(name, t);
      continue;
    }
    const format = plan.format;
    const [rows, cols] = t.shape;
    // computed once, on the first part written, and dropped after the last
    let cached: Promise<CompressedWeight> | null = null;
    let fetched = 0;
    const partsWithData = format === "sparse-bitmask" ? 3 : 2;
    const get = async () => {
      cached ??= dataOf(t).then((d) => {
        const values = roundToDtype(d as Float32Array, dtype);
        return format === "sparse-24-bitmask"
          ? compress24(values, rows, cols, name)
          : compressBitmask(values, rows, cols);
      });
      const result = await cached;
      if (++fetched === partsWithData) cached = null;
      return result;
    };
    const m = moduleOf(name);
    const nonzeros = layer.nonzeros;
    out.set(`${m}.compressed`, {
      dtype,
      shape: format === "sparse-24-bitmask" ? [rows, cols / 2] : [nonzeros],
      data: async () => (await get()).compressed,
    });
    out.set(`${m}.bitmask`, {
      dtype: "U8",
      shape: [rows, bitmaskRowBytes(cols)],
      data: async () => (await get()).bitmask,
    });
    if (format === "sparse-bitmask") {
      out.set(`${m}.row_offsets`, { dtype: "I64", shape: [rows], data: async () => (await get()).rowOffsets! });
    }
    out.set(`${m}.shape`, {
      dtype: "I64",
      shape: format === "sparse-24-bitmask" ? [2, 1] : [2],
      data: new BigInt64Array([BigInt(rows), BigInt(cols)]),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// reading

/**
 * Parses and checks `config.json`'s `quantization_config` of a compressed checkpoint.
 * @returns the sparsity config, or null when the checkpoint is not compressed
 * @throws RangeError for a `quant_method` other than compressed-tensors, quantization schemes
 *   (`config_groups`, not supported), or an unknown sparsity `format`
 */
export function parseCompressionConfig(raw: Readonly<Record<string, unknown>>, where: string): SparsityConfig | null {
  const q = raw.quantization_config ?? raw.compression_config;
  if (q === undefined || q === null) return null;
  if (typeof q !== "object" || Array.isArray(q)) {
    throw new RangeError(`${where}: quantization_config is ${JSON.stringify(q)}; expected an object`);
  }
  const qc = q as Record<string, unknown>;
  if (qc.quant_method !== undefined && qc.quant_method !== "compressed-tensors") {
    throw new RangeError(
      `${where}: quantization_config.quant_method is ${
        JSON.stringify(qc.quant_method)
      }; only "compressed-tensors" sparse checkpoints are supported`,
    );
  }
  if (qc.config_groups && Object.keys(qc.config_groups as object).length > 0) {
    throw new RangeError(
      `${where}: quantization_config has config_groups (quantized weights); only sparse compression is supported`,
    );
  }
  const s = qc.sparsity_config as Record<string, unknown> | undefined | null;
  if (!s || Object.keys(s).length === 0) return null;
  if (s.format === "dense") return null;
  if (!(SPARSE_FORMATS as readonly unknown[]).includes(s.format)) {
    throw new RangeError(
      `${where}: quantization_config.sparsity_config.format is ${JSON.stringify(s.format)}; expected one of ${
        ["dense", ...SPARSE_FORMATS].join(", ")
      }`,
    );
  }
  return {
    format: s.format as SparseFormat,
    global_sparsity: Number(s.global_sparsity ?? 0),
    ignore: Array.isArray(s.ignore) ? s.ignore as string[] : [],
    sparsity_structure: String(s.sparsity_structure ?? "unstructured"),
    targets: Array.isArray(s.targets) ? s.targets as string[] : [],
  };
}

const PART_NAMES = ["compressed", "bitmask", "row_offsets", "shape"] as const;

/**
 * Checks the parts of compressed module `m` of `base` against its `.shape`: dtypes and shapes of
 * `.compressed`, `.bitmask` and (sparse-bitmask) `.row_offsets`.
 * @returns [rows, cols] of the dense weight
 * @throws RangeError naming the tensor and what is wrong
 */
async function checkModuleParts(base: SafetensorsReader, m: string, format: SparseFormat): Promise<[number, number]> {
  const where = base.source;
  const shapeT = await base.readTensor(`${m}.shape`);
  if (shapeT.dtype !== "I64" && shapeT.dtype !== "I32") {
    throw new RangeError(`${where}: ${m}.shape has dtype ${shapeT.dtype}; expected I64`);
  }
  const dims = Array.from(shapeT.data as ArrayLike<number | bigint>, Number);
  if (dims.length !== 2 || dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new RangeError(
      `${where}: ${m}.shape is [${dims.join(", ")}]; expected two non-negative sizes [rows, cols]`,
    );
  }
  const [rows, cols] = dims;
  const c = base.entry(`${m}.compressed`);
  if (!isFloat(c.dtype)) {
    throw new RangeError(`${where}: ${m}.compressed has dtype ${c.dtype}; expected F32, F16 or BF16`);
  }
  const b = base.entry(`${m}.bitmask`);
  const wantMask = [rows, bitmaskRowBytes(cols)];
  if (b.dtype !== "U8" || b.shape.length !== 2 || b.shape[0] !== wantMask[0] || b.shape[1] !== wantMask[1]) {
    throw new RangeError(
      `${where}: ${m}.bitmask is ${b.dtype} [${b.shape.join(", ")}]; expected U8 [${
        wantMask.join(", ")
      }] for ${m}.shape [${rows}, ${cols}]`,
    );
  }
  if (format === "sparse-24-bitmask") {
    if (cols % 4 !== 0 || c.shape.length !== 2 || c.shape[0] !== rows || c.shape[1] !== cols / 2) {
      throw new RangeError(
        `${where}: ${m}.compressed has shape [${
          c.shape.join(", ")
        }]; sparse-24-bitmask of [${rows}, ${cols}] expects [${rows}, ${cols / 2}]`,
      );
    }
  } else {
    if (c.shape.length !== 1) {
      throw new RangeError(
        `${where}: ${m}.compressed has shape [${c.shape.join(", ")}]; sparse-bitmask expects 1-D values`,
      );
    }
    const o = base.entry(`${m}.row_offsets`);
    if (o.dtype !== "I64" || o.shape.length !== 1 || o.shape[0] !== rows) {
      throw new RangeError(
        `${where}: ${m}.row_offsets is ${o.dtype} [${o.shape.join(", ")}]; expected I64 [${rows}]`,
      );
    }
  }
  return [rows, cols];
}

/**
 * A checkpoint reader that shows each compressed module `<m>` as its dense `<m>.weight` (dtype of
 * `<m>.compressed`, shape from `<m>.shape`), decompressing on read; every other tensor reads as stored.
 * Decompression happens at load: the GPU holds dense weights (no sparse kernels yet).
 */
export class CompressedSafetensorsReader extends SafetensorsReader {
  /** the checkpoint's sparsity format */
  readonly format: SparseFormat;
  /** module prefix → its dense shape */
  readonly modules: ReadonlyMap<string, [number, number]>;
  readonly #base: SafetensorsReader;

  private constructor(
    base: SafetensorsReader,
    format: SparseFormat,
    modules: Map<string, [number, number]>,
    entries: Map<string, TensorEntry>,
  ) {
    super(base.source, [...base.files] as SafetensorsFile[], fileMap(base), entries);
    this.#base = base;
    this.format = format;
    this.modules = modules;
  }

  /**
   * Wraps a reader of a compressed checkpoint after checking every compressed module: its parts
   * present with the right dtypes and shapes, the bitmask's popcount equal to the number of values,
   * row_offsets monotone, in range and consistent, 2 of every 4 bits for sparse-24-bitmask.
   * @throws RangeError naming the tensor and what is wrong
   */
  static async open(base: SafetensorsReader, format: SparseFormat): Promise<CompressedSafetensorsReader> {
    const where = base.source;
    const modules = new Map<string, [number, number]>();
    const parts = new Set<string>();
    for (const name of base.names()) {
      for (const p of PART_NAMES) {
        if (name.endsWith(`.${p}`)) {
          const m = name.slice(0, -(p.length + 1));
          if (p === "compressed") modules.set(m, [0, 0]);
          parts.add(name);
        }
      }
    }
    const entries = new Map<string, TensorEntry>();
    for (const name of base.names()) if (!parts.has(name)) entries.set(name, base.entry(name));
    for (const m of modules.keys()) {
      const need = format === "sparse-bitmask" ? PART_NAMES : PART_NAMES.filter((p) => p !== "row_offsets");
      for (const p of need) {
        if (!base.has(`${m}.${p}`)) {
          throw new RangeError(
            `${where}: ${m}.${p} is missing; a ${format} module has ${need.map((q) => `.${q}`).join(", ")}`,
          );
        }
      }
      if (base.has(`${m}.weight`)) {
        throw new RangeError(`${where}: ${m} has both .weight and .compressed; expected one`);
      }
      const [rows, cols] = await checkModuleParts(base, m, format);
      modules.set(m, [rows, cols]);
      const c = base.entry(`${m}.compressed`);
      // the data checks (popcount, offsets, 2:4) — decompressing validates everything
      await decompressModule(base, m, format, [rows, cols], where);
      entries.set(`${m}.weight`, { ...c, name: `${m}.weight`, shape: [rows, cols], byteLength: -1, start: -1 });
    }
    for (const p of parts) {
      const m = p.slice(0, p.lastIndexOf("."));
      if (!modules.has(m)) throw new RangeError(`${where}: ${p} has no ${m}.compressed beside it`);
    }
    return new CompressedSafetensorsReader(base, format, modules, entries);
  }

  override names(): string[] {
    return [...this.entries.keys()];
  }

  override has(name: string): boolean {
    return this.entries.has(name);
  }

  override async readTensor(name: string): Promise<TensorData> {
    const m = moduleOf(name);
    const shape = name.endsWith(".weight") ? this.modules.get(m) : undefined;
    if (!shape) return this.#base.readTensor(name);
    const dtype = this.entry(name).dtype as FloatDType;
    const data = await decompressModule(this.#base, m, this.format, shape, this.source);
    return { dtype, shape: [...shape], data };
  }

  override async readRows(name: string, start: number, end: number): Promise<TensorData> {
    const m = moduleOf(name);
    const shape = name.endsWith(".weight") ? this.modules.get(m) : undefined;
    if (!shape) return this.#base.readRows(name, start, end);
    const t = await this.readTensor(name);
    const cols = shape[1];
    return {
      dtype: t.dtype as FloatDType,
      shape: [end - start, cols],
      data: (t.data as Float32Array).slice(start * cols, end * cols),
    };
  }
}

function fileMap(base: SafetensorsReader): Map<string, SafetensorsFile> {
  const byPath = new Map(base.files.map((f) => [f.path, f]));
  return new Map(base.names().map((n) => [n, byPath.get(base.entry(n).file)!]));
}

async function decompressModule(
  base: SafetensorsReader,
  m: string,
  format: SparseFormat,
  shape: readonly number[],
  where: string,
): Promise<Float32Array> {
  const parts: CompressedParts = {
    compressed: await base.readTensor(`${m}.compressed`),
    bitmask: await base.readTensor(`${m}.bitmask`),
    shape: await base.readTensor(`${m}.shape`),
    rowOffsets: format === "sparse-bitmask" ? await base.readTensor(`${m}.row_offsets`) : undefined,
  };
  try {
    return decompressWeight(m, format, parts, shape);
  } catch (err) {
    throw new RangeError(`${where}: ${(err as Error).message}`);
  }
}
