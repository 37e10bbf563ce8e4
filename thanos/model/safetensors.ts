/**
 * safetensors reading and writing (https://huggingface.co/docs/safetensors).
 *
 * File layout: an 8-byte little-endian header length N, N bytes of JSON
 * (`{"__metadata__": {str: str}, name: {dtype, shape, data_offsets: [begin, end]}, …}`), then the
 * tensor data, row-major, little-endian, offsets relative to the end of the header.
 *
 * Reading is lazy: opening parses and validates only the header; each `readTensor` seeks to one
 * tensor and reads just its bytes. Float tensors (F32, F16, BF16) come back as `Float32Array`
 * (16-bit floats widened exactly on the CPU); U8/BOOL, I32, U32 and I64 come back as their own
 * typed arrays. A checkpoint sharded through `model.safetensors.index.json` reads like one file.
 *
 * Writing takes a map of name → {dtype, shape, data} (data may be a function, so a large model is
 * produced one tensor at a time), writes to a temporary file in the target's directory and renames
 * it into place at the end, so an error or interruption leaves nothing at the target.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { type Gpu, type Tensor, upload } from "../gpu/mod.ts";
import { exists, statOrNull } from "../util/fs.ts";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./half.ts";

/** Bytes per element of every dtype the safetensors format defines. */
export const SAFETENSORS_DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;

/** A dtype the safetensors format defines (a header with any other dtype is rejected). */
export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPE_BYTES;

/** Float dtypes read as (and written from) `Float32Array`. */
export type FloatDType = "F32" | "F16" | "BF16";

/** Dtypes this module converts to and from typed arrays (reading and writing). */
export const SUPPORTED_DTYPES = ["F32", "F16", "BF16", "U8", "BOOL", "I32", "U32", "I64"] as const;
export type SupportedDType = (typeof SUPPORTED_DTYPES)[number];

/** The typed array that holds a dtype's values in memory. */
export type ArrayOfDType<D extends SupportedDType> = D extends FloatDType ? Float32Array
  : D extends "U8" | "BOOL" ? Uint8Array
  : D extends "I32" ? Int32Array
  : D extends "U32" ? Uint32Array
  : BigInt64Array;

/** A tensor in memory: its file dtype, its shape and its values (row-major). */
export type TensorData = {
  [D in SupportedDType]: { dtype: D; shape: number[]; data: ArrayOfDType<D> };
}[SupportedDType];

/** A tensor to write: `data` may be a function, called when that tensor is written. */
export type TensorInput = {
  [D in SupportedDType]: {
    dtype: D;
    shape: readonly number[];
    data: ArrayOfDType<D> | (() => ArrayOfDType<D> | Promise<ArrayOfDType<D>>);
  };
}[SupportedDType];

/** One tensor's place in a file, from the header. */
export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** the file that holds it */
  file: string;
  /** absolute byte offset of its data in the file */
  start: number;
  byteLength: number;
}

/** The safetensors reference implementation refuses headers above 100 MB; so do we. */
const MAX_HEADER_BYTES = 100_000_000;
const INDEX_FILE = "model.safetensors.index.json";
const SINGLE_FILE = "model.safetensors";

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("safetensors: this module assumes a little-endian host");
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isDType(value: unknown): value is SafetensorsDType {
  return typeof value === "string" && Object.hasOwn(SAFETENSORS_DTYPE_BYTES, value);
}

function isSupported(dtype: string): dtype is SupportedDType {
  return (SUPPORTED_DTYPES as readonly string[]).includes(dtype);
}

/** True for the float dtypes read as (and written from) Float32Array. Internal: shared with checkpoint.ts. */
export function isFloat(dtype: string): dtype is FloatDType {
  return dtype === "F32" || dtype === "F16" || dtype === "BF16";
}

/** The header's `__metadata__`: an object of strings. */
function parseMetadata(where: string, value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${where}: __metadata__ must be an object of strings`);
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") {
      throw new Error(`${where}: __metadata__.${k} is ${JSON.stringify(v)}; expected a string`);
    }
    metadata[k] = v;
  }
  return metadata;
}

/**
 * Parses and validates a safetensors header.
 *
 * @param bytes the header JSON bytes (without the 8-byte length)
 * @param fileSize size of the whole file in bytes
 * @param file the file's path, for error messages
 * @returns the metadata and every tensor's entry, in data order
 * @throws Error naming the file (and tensor) for malformed JSON, an unknown dtype, a bad shape,
 *   offsets that disagree with dtype × shape, gaps or overlaps, or data past the end of the file
 */
function parseHeader(
  bytes: Uint8Array,
  fileSize: number,
  file: string,
): { metadata: Record<string, string>; entries: TensorEntry[] } {
  const where = `safetensors ${file}`;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new Error(`${where}: header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`${where}: header must be a JSON object but is ${Array.isArray(json) ? "an array" : typeof json}`);
  }
  const dataStart = 8 + bytes.length;
  const dataLength = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const entries: (TensorEntry & { begin: number; end: number })[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      Object.assign(metadata, parseMetadata(where, value));
      continue;
    }
    const t = `${where}: tensor "${name}"`;
    if (typeof value !== "object" || value === null) throw new Error(`${t} has no {dtype, shape, data_offsets} entry`);
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (!isDType(dtype)) {
      throw new Error(
        `${t} has unknown dtype ${JSON.stringify(dtype)}; expected one of ${
          Object.keys(SAFETENSORS_DTYPE_BYTES).join(", ")
        }`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${t} has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      throw new Error(`${t} has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offsets as [number, number];
    const need = product(shape) * SAFETENSORS_DTYPE_BYTES[dtype];
    if (end - begin !== need) {
      throw new Error(
        `${t} has data_offsets [${begin}, ${end}] (${end - begin} bytes) but dtype ${dtype} and shape ` +
          `[${shape}] need ${need} bytes`,
      );
    }
    entries.push({ name, dtype, shape, file, start: dataStart + begin, byteLength: need, begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0, previous = "";
  for (const e of entries) {
    if (e.begin !== cursor) {
      throw new Error(
        `${where}: tensor "${e.name}" starts at data byte ${e.begin} but ` +
          (previous ? `"${previous}" ends at ${cursor}` : "the data starts at 0") +
          (e.begin < cursor ? " (overlap)" : " (gap)") + "; expected contiguous tensors",
      );
    }
    cursor = e.end;
    previous = e.name;
  }
  if (cursor > dataLength) {
    throw new Error(
      `${where}: file is truncated: tensor "${previous}" ends at data byte ${cursor} but the file holds only ` +
        `${dataLength} bytes of data (${fileSize} bytes in all); expected ${dataStart + cursor} bytes`,
    );
  }
  if (cursor < dataLength) {
    throw new Error(
      `${where}: ${dataLength - cursor} unexpected bytes after the last tensor; expected the file to end at ` +
        `byte ${dataStart + cursor} but it has ${fileSize}`,
    );
  }
  return { metadata, entries: entries.map(({ begin: _b, end: _e, ...entry }) => entry) };
}

async function readExactly(file: Deno.FsFile, buffer: Uint8Array, path: string, what: string): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const n = await file.read(buffer.subarray(done));
    if (n === null) {
      throw new Error(`safetensors ${path}: file is truncated: ${what} needs ${buffer.length} bytes, found ${done}`);
    }
    done += n;
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Converts raw little-endian bytes of `dtype` into its in-memory typed array. */
function decode(dtype: SupportedDType, bytes: Uint8Array, shape: number[]): TensorData {
  const n = product(shape);
  // `bytes` is always a fresh, 0-offset buffer here, so the views below are aligned
  switch (dtype) {
    case "F32":
      return { dtype, shape, data: new Float32Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, n) };
    case "F16":
      return { dtype, shape, data: f16ToF32(new Uint16Array(bytes.buffer, bytes.byteOffset, n)) };
    case "BF16":
      return { dtype, shape, data: bf16ToF32(new Uint16Array(bytes.buffer, bytes.byteOffset, n)) };
    case "U8":
    case "BOOL":
      return { dtype, shape, data: bytes as Uint8Array<ArrayBuffer> };
    case "I32":
      return { dtype, shape, data: new Int32Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, n) };
    case "U32":
      return { dtype, shape, data: new Uint32Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, n) };
    case "I64":
      return { dtype, shape, data: new BigInt64Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, n) };
  }
}

/**
 * One `.safetensors` file: its validated header, with tensors read lazily on demand.
 * Usually reached through {@link openSafetensors}, which also handles sharded checkpoints.
 */
export class SafetensorsFile {
  /** path of the file */
  readonly path: string;
  /** the header's `__metadata__` (empty when absent) */
  readonly metadata: Readonly<Record<string, string>>;
  /** every tensor of the file, in data order */
  readonly entries: ReadonlyMap<string, TensorEntry>;
  /** size of the file when it was opened */
  readonly size: number;

  private constructor(path: string, size: number, metadata: Record<string, string>, entries: TensorEntry[]) {
    this.path = path;
    this.size = size;
    this.metadata = Object.freeze(metadata);
    this.entries = new Map(entries.map((e) => [e.name, e]));
  }

  /**
   * Opens a file and validates its header (only the header is read).
   * @param path a `.safetensors` file
   * @returns the opened file
   * @throws Error naming the file when it is missing, truncated or malformed
   * @example
   * ```ts
   * const f = await SafetensorsFile.open("models/tiny-llama/model.safetensors");
   * console.log([...f.entries.keys()]);
   * ```
   */
  static async open(path: string): Promise<SafetensorsFile> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) throw new Error(`safetensors ${path}: file not found`);
      throw err;
    }
    try {
      const size = (await file.stat()).size;
      if (size < 8) {
        throw new Error(`safetensors ${path}: file is ${size} bytes, too short for the 8-byte header length`);
      }
      const lengthBytes = new Uint8Array(8);
      await readExactly(file, lengthBytes, path, "the header length");
      const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
      if (headerLength > BigInt(size - 8)) {
        throw new Error(
          `safetensors ${path}: file is truncated or not safetensors: header length ${headerLength} exceeds the ` +
            `${size - 8} bytes after the length field`,
        );
      }
      if (headerLength > BigInt(MAX_HEADER_BYTES)) {
        throw new Error(`safetensors ${path}: header length ${headerLength} exceeds the limit of ${MAX_HEADER_BYTES}`);
      }
      const header = new Uint8Array(Number(headerLength));
      await readExactly(file, header, path, "the header");
      const { metadata, entries } = parseHeader(header, size, path);
      return new SafetensorsFile(path, size, metadata, entries);
    } finally {
      file.close();
    }
  }

  /** The tensor's entry; throws an Error listing a few names when it is absent. */
  entry(name: string): TensorEntry {
    const e = this.entries.get(name);
    if (!e) throw new Error(missingTensor(name, this.path, [...this.entries.keys()]));
    return e;
  }

  /**
   * Reads the raw bytes of a tensor, or of rows [rowStart, rowEnd) of its first dimension.
   * @returns a fresh buffer (offset 0) holding exactly those bytes
   */
  async readBytes(
    name: string,
    rowStart?: number,
    rowEnd?: number,
  ): Promise<{ entry: TensorEntry; bytes: Uint8Array; shape: number[] }> {
    const entry = this.entry(name);
    let { start, byteLength } = entry;
    let shape = entry.shape;
    if (rowStart !== undefined || rowEnd !== undefined) {
      const rows = entry.shape[0];
      const lo = rowStart ?? 0, hi = rowEnd ?? rows;
      if (
        entry.shape.length === 0 || !Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || lo > hi || hi > rows
      ) {
        throw new RangeError(
          `safetensors ${this.path}: rows [${lo}, ${hi}) of tensor "${name}" with shape [${entry.shape}]; ` +
            `expected 0 <= start <= end <= ${entry.shape.length ? rows : "(a tensor with at least one dimension)"}`,
        );
      }
      const rowBytes = rows === 0 ? 0 : byteLength / rows;
      start += lo * rowBytes;
      byteLength = (hi - lo) * rowBytes;
      shape = [hi - lo, ...entry.shape.slice(1)];
    }
    const bytes = new Uint8Array(byteLength);
    if (byteLength > 0) {
      const file = await Deno.open(this.path, { read: true });
      try {
        await file.seek(start, Deno.SeekMode.Start);
        await readExactly(file, bytes, this.path, `tensor "${name}"`);
      } finally {
        file.close();
      }
    }
    return { entry, bytes, shape };
  }

  /**
   * Reads one tensor (optionally only rows [rowStart, rowEnd) of its first dimension).
   * @returns dtype, shape and values; F16/BF16 are widened to float32
   * @throws Error for a dtype this module does not convert (F64, I8, …), naming the tensor
   */
  async readTensor(name: string, rowStart?: number, rowEnd?: number): Promise<TensorData> {
    const entry = this.entry(name);
    if (!isSupported(entry.dtype)) {
      throw new Error(
        `safetensors ${this.path}: tensor "${name}" has dtype ${entry.dtype}, which cannot be read; ` +
          `supported: ${SUPPORTED_DTYPES.join(", ")}`,
      );
    }
    const { bytes, shape } = await this.readBytes(name, rowStart, rowEnd);
    return decode(entry.dtype, bytes, shape);
  }
}

function missingTensor(name: string, where: string, names: string[]): string {
  const some = names.slice(0, 5).map((n) => `"${n}"`).join(", ");
  return `safetensors ${where}: no tensor "${name}" (it has ${names.length} tensors: ${some}${
    names.length > 5 ? ", …" : ""
  })`;
}

/**
 * All tensors of a checkpoint — one `.safetensors` file or the shards of a
 * `model.safetensors.index.json` — read lazily, one tensor at a time.
 */
export class SafetensorsReader {
  /** what was opened: the file, the index, or the directory */
  readonly source: string;
  /** the files, in index order */
  readonly files: readonly SafetensorsFile[];
  /** name → entry over all files */
  readonly entries: ReadonlyMap<string, TensorEntry>;
  /** `__metadata__` of the first file (sharded checkpoints repeat it) */
  readonly metadata: Readonly<Record<string, string>>;
  readonly #fileOf: Map<string, SafetensorsFile>;

  /**
   * @param entries the tensors to present, when they differ from the files' (a subclass that
   *   shows derived tensors, e.g. compressed weights as dense ones); default: every tensor of `fileOf`
   */
  constructor(
    source: string,
    files: SafetensorsFile[],
    fileOf: Map<string, SafetensorsFile>,
    entries?: Map<string, TensorEntry>,
  ) {
    this.source = source;
    this.files = files;
    this.#fileOf = fileOf;
    this.entries = entries ?? new Map([...fileOf].map(([name, f]) => [name, f.entries.get(name)!]));
    this.metadata = files[0]?.metadata ?? {};
  }

  /** Every tensor name (file order, then data order). */
  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The tensor's entry (dtype, shape, file, byte range); throws when absent. */
  entry(name: string): TensorEntry {
    const e = this.entries.get(name);
    if (!e) throw new Error(missingTensor(name, this.source, this.names()));
    return e;
  }

  /**
   * Reads one tensor from disk.
   * @param name tensor name
   * @returns `{dtype, shape, data}`; F32/F16/BF16 data is a Float32Array
   * @example
   * ```ts
   * const st = await openSafetensors("models/tiny-llama");
   * const { shape, data } = await st.readTensor("model.norm.weight");
   * ```
   */
  readTensor(name: string): Promise<TensorData> {
    this.entry(name);
    return this.#fileOf.get(name)!.readTensor(name);
  }

  /**
   * The raw 16-bit patterns of an F16 or BF16 tensor, as stored (row-major), without widening.
   * @throws Error when the tensor is not F16 or BF16
   */
  async readHalfBits(name: string): Promise<Uint16Array> {
    const e = this.entry(name);
    if (e.dtype !== "F16" && e.dtype !== "BF16") {
      throw new Error(`safetensors ${this.source}: tensor "${name}" has dtype ${e.dtype}; expected F16 or BF16`);
    }
    const { bytes } = await this.#fileOf.get(name)!.readBytes(name);
    return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  }

  /**
   * Reads rows [start, end) of a tensor's first dimension (e.g. a slice of an embedding table).
   * @returns `{dtype, shape: [end - start, …], data}`
   */
  readRows(name: string, start: number, end: number): Promise<TensorData> {
    this.entry(name);
    return this.#fileOf.get(name)!.readTensor(name, start, end);
  }

  /**
   * Reads a float tensor as float32 values.
   * @throws Error when the tensor is not F32, F16 or BF16
   */
  async readFloat32(name: string): Promise<{ shape: number[]; data: Float32Array }> {
    const t = await this.readTensor(name);
    if (!isFloat(t.dtype)) {
      throw new Error(`safetensors ${this.source}: tensor "${name}" has dtype ${t.dtype}; expected F32, F16 or BF16`);
    }
    return { shape: t.shape, data: t.data as Float32Array };
  }

  /**
   * Reads a float tensor and uploads it as an f32 GPU tensor labelled with its name.
   * @param gpu the GPU context
   * @param name tensor name
   * @param rows optional [start, end) of the first dimension, for tensors too large for one binding
   * @returns a new f32 {@link Tensor} of the tensor's (or the row slice's) shape
   * @example
   * ```ts
   * const w = await st.uploadTensor(await getGpu(), "model.layers.0.mlp.up_proj.weight");
   * ```
   */
  async uploadTensor(gpu: Gpu, name: string, rows?: [number, number]): Promise<Tensor<"f32">> {
    const t = rows ? await this.readRows(name, rows[0], rows[1]) : await this.readTensor(name);
    if (!isFloat(t.dtype)) {
      throw new Error(`safetensors ${this.source}: tensor "${name}" has dtype ${t.dtype}; expected F32, F16 or BF16`);
    }
    return upload(gpu, t.data as Float32Array, t.shape, name);
  }
}

/**
 * Opens a checkpoint's tensors: a `.safetensors` file, a `model.safetensors.index.json`, or a
 * directory holding either (the index wins when both exist).
 *
 * @param path file or directory
 * @returns a reader that loads tensors lazily
 * @throws Error naming the path when nothing is found or a file or the index is malformed
 * @example
 * ```ts
 * const st = await openSafetensors("models/tiny-llama");
 * for (const name of st.names()) console.log(name, st.entry(name).shape);
 * ```
 */
export async function openSafetensors(path: string): Promise<SafetensorsReader> {
  const info = await statOrNull(path);
  if (info === null) throw new Error(`safetensors ${path}: not found`);
  if (info.isDirectory) {
    const index = join(path, INDEX_FILE);
    if (await exists(index)) return openIndex(index);
    const single = join(path, SINGLE_FILE);
    if (await exists(single)) return openSingle(single);
    throw new Error(`safetensors ${path}: directory has neither ${INDEX_FILE} nor ${SINGLE_FILE}`);
  }
  return path.endsWith(".json") ? openIndex(path) : openSingle(path);
}

async function openSingle(path: string): Promise<SafetensorsReader> {
  const file = await SafetensorsFile.open(path);
  return new SafetensorsReader(path, [file], new Map([...file.entries.keys()].map((n) => [n, file])));
}

async function openIndex(indexPath: string): Promise<SafetensorsReader> {
  let index: unknown;
  try {
    index = JSON.parse(await Deno.readTextFile(indexPath));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new Error(`safetensors index ${indexPath}: file not found`);
    throw new Error(`safetensors index ${indexPath}: not valid JSON (${(err as Error).message})`);
  }
  const weightMap = (index as { weight_map?: unknown })?.weight_map;
  if (typeof weightMap !== "object" || weightMap === null || Array.isArray(weightMap)) {
    throw new Error(`safetensors index ${indexPath}: expected an object with a "weight_map" of tensor name → file`);
  }
  const dir = dirname(indexPath);
  const opened = new Map<string, SafetensorsFile>();
  const fileOf = new Map<string, SafetensorsFile>();
  for (const [name, fileName] of Object.entries(weightMap)) {
    if (typeof fileName !== "string" || fileName.includes("..") || fileName.startsWith("/")) {
      throw new Error(
        `safetensors index ${indexPath}: tensor "${name}" maps to ${
          JSON.stringify(fileName)
        }; expected a file name beside the index`,
      );
    }
    let file = opened.get(fileName);
    if (!file) {
      file = await SafetensorsFile.open(join(dir, fileName));
      opened.set(fileName, file);
    }
    if (!file.entries.has(name)) {
      throw new Error(`safetensors index ${indexPath}: maps tensor "${name}" to ${fileName}, which has no such tensor`);
    }
    fileOf.set(name, file);
  }
  // shards must not overlap: a tensor stored in two shards is ambiguous (which one is the model?)
  for (const [fileName, file] of opened) {
    for (const name of file.entries.keys()) {
      const owner = fileOf.get(name);
      if (owner && owner !== file) {
        const other = [...opened].find(([, f]) => f === owner)![0];
        throw new Error(
          `safetensors index ${indexPath}: tensor "${name}" is stored in both ${other} and ${fileName} (shards ` +
            `overlap); expected each tensor in exactly one shard`,
        );
      }
    }
  }
  return new SafetensorsReader(indexPath, [...opened.values()], fileOf);
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Options of {@link writeSafetensors}. */
export interface WriteOptions {
  /** string → string pairs stored as `__metadata__` (e.g. `{format: "pt"}`) */
  metadata?: Record<string, string>;
}

const EXPECTED_ARRAY: Record<SupportedDType, { ctor: { name: string }; label: string }> = {
  F32: { ctor: Float32Array, label: "Float32Array" },
  F16: { ctor: Float32Array, label: "Float32Array" },
  BF16: { ctor: Float32Array, label: "Float32Array" },
  U8: { ctor: Uint8Array, label: "Uint8Array" },
  BOOL: { ctor: Uint8Array, label: "Uint8Array" },
  I32: { ctor: Int32Array, label: "Int32Array" },
  U32: { ctor: Uint32Array, label: "Uint32Array" },
  I64: { ctor: BigInt64Array, label: "BigInt64Array" },
};

/** Checks names, dtypes and shapes and returns the entries in the order they are written. */
function planWrite(
  tensors: Record<string, TensorInput> | Map<string, TensorInput>,
  op: string,
): [string, TensorInput][] {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  for (const [name, t] of list) {
    if (name === "" || name === "__metadata__") throw new Error(`${op}: invalid tensor name ${JSON.stringify(name)}`);
    if (!isSupported(t.dtype)) {
      throw new Error(
        `${op}: tensor "${name}" has dtype ${JSON.stringify(t.dtype)}; supported: ${SUPPORTED_DTYPES.join(", ")}`,
      );
    }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new RangeError(
        `${op}: tensor "${name}" has shape ${JSON.stringify(t.shape)}; expected non-negative integers`,
      );
    }
    if (typeof t.data !== "function") checkData(op, name, t, t.data);
  }
  // The reference writer's order: larger elements first (keeps every tensor aligned), then by name.
  return list.sort(([an, a], [bn, b]) =>
    SAFETENSORS_DTYPE_BYTES[b.dtype] - SAFETENSORS_DTYPE_BYTES[a.dtype] || (an < bn ? -1 : an > bn ? 1 : 0)
  );
}

function checkData(op: string, name: string, t: TensorInput, data: unknown): void {
  const want = EXPECTED_ARRAY[t.dtype];
  if (!(data instanceof (want.ctor as typeof Float32Array))) {
    throw new TypeError(
      `${op}: tensor "${name}" (${t.dtype}) needs a ${want.label} but got ${
        Object.prototype.toString.call(data).slice(8, -1)
      }`,
    );
  }
  const need = product(t.shape);
  if ((data as ArrayLike<unknown>).length !== need) {
    throw new RangeError(
      `${op}: tensor "${name}" has ${(data as ArrayLike<unknown>).length} values but shape [${t.shape}] needs ${need}`,
    );
  }
}

function encode(t: TensorInput, data: ArrayBufferView): Uint8Array {
  if (t.dtype === "F16") return bytesOf(f32ToF16(data as Float32Array));
  if (t.dtype === "BF16") return bytesOf(f32ToBf16(data as Float32Array));
  return bytesOf(data);
}

function buildHeader(plan: [string, TensorInput][], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new TypeError(`writeSafetensors: metadata "${k}" must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of plan) {
    const size = product(t.shape) * SAFETENSORS_DTYPE_BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // pad with spaces so the data starts 8-byte aligned
  const out = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

/**
 * A fresh temporary name beside `target` (nothing is created yet), after checking that the
 * directory exists. Internal: shared with the checkpoint writer.
 * @throws Error `<op>: cannot write <target>: directory <dir> does not exist` (or `… is not a directory`)
 */
export async function temporarySibling(target: string, op: string): Promise<string> {
  const dir = dirname(target);
  const info = await statOrNull(dir);
  if (info === null) throw new Error(`${op}: cannot write ${target}: directory ${dir} does not exist`);
  if (!info.isDirectory) throw new Error(`${op}: cannot write ${target}: ${dir} is not a directory`);
  return join(dir, `.${basename(target)}.${crypto.randomUUID().slice(0, 8)}.tmp`);
}

/**
 * Writes tensors to a `.safetensors` file, atomically (temporary file + rename).
 *
 * Float tensors are given as Float32Array and stored as F32, F16 or BF16 (round to nearest even);
 * U8/BOOL take a Uint8Array, I32 an Int32Array, U32 a Uint32Array, I64 a BigInt64Array.
 *
 * @param path the file to create (its directory must exist); an existing file is replaced
 * @param tensors name → {dtype, shape, data}; `data` may be a (possibly async) function, called
 *   once when that tensor is written, so tensors can be produced one at a time
 * @param options `metadata` for `__metadata__`
 * @returns the path and the number of bytes written
 * @throws Error for a missing directory, a bad name, dtype, shape or data length; nothing is left at `path`
 * @example
 * ```ts
 * await writeSafetensors("out/layer.safetensors", {
 *   weight: { dtype: "F32", shape: [2, 3], data: new Float32Array(6) },
 *   mask: { dtype: "U8", shape: [2, 3], data: new Uint8Array(6) },
 * }, { metadata: { format: "pt" } });
 * ```
 */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorInput> | Map<string, TensorInput>,
  options: WriteOptions = {},
): Promise<{ path: string; bytes: number }> {
  const op = "writeSafetensors";
  const plan = planWrite(tensors, op);
  const header = buildHeader(plan, options.metadata);
  const tmp = await temporarySibling(path, op);
  const file = await Deno.open(tmp, { write: true, createNew: true });
  let bytes = 0;
  try {
    await writeAll(file, header);
    bytes += header.length;
    for (const [name, t] of plan) {
      const data = typeof t.data === "function" ? await t.data() : t.data;
      checkData(op, name, t, data);
      const encoded = encode(t, data as ArrayBufferView);
      await writeAll(file, encoded);
      bytes += encoded.length;
    }
    file.close();
    await Deno.rename(tmp, path);
  } catch (err) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  return { path, bytes };
}

/** Options of {@link writeSafetensorsSharded}. */
export interface ShardOptions extends WriteOptions {
  /** largest data size of one shard in bytes (a larger single tensor gets a shard of its own) */
  maxShardBytes: number;
  /** file name stem: `model` → `model.safetensors` or `model-00001-of-00003.safetensors` */
  baseName?: string;
}

/**
 * Writes tensors into `dir` the way Hugging Face `save_pretrained` shards them: one
 * `<base>.safetensors` when everything fits in `maxShardBytes`, otherwise
 * `<base>-0000i-of-0000n.safetensors` files plus `<base>.safetensors.index.json`
 * (`{metadata: {total_size}, weight_map}`). Each file is written atomically.
 *
 * @param dir an existing directory
 * @param tensors as for {@link writeSafetensors}; filled greedily into shards in the given order
 * @param options `maxShardBytes`, `baseName`, `metadata`
 * @returns the files written (shards, then the index if any)
 * @example
 * ```ts
 * await writeSafetensorsSharded("out", tensors, { maxShardBytes: 2 ** 30 });
 * ```
 */
export async function writeSafetensorsSharded(
  dir: string,
  tensors: Record<string, TensorInput> | Map<string, TensorInput>,
  options: ShardOptions,
): Promise<{ files: string[] }> {
  const { maxShardBytes, baseName = "model", metadata } = options;
  if (!(maxShardBytes > 0)) {
    throw new RangeError(`writeSafetensorsSharded: maxShardBytes is ${maxShardBytes}; expected a positive number`);
  }
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  planWrite(new Map(list), "writeSafetensorsSharded");
  const shards: [string, TensorInput][][] = [[]];
  let used = 0, total = 0;
  for (const entry of list) {
    const size = product(entry[1].shape) * SAFETENSORS_DTYPE_BYTES[entry[1].dtype];
    if (used > 0 && used + size > maxShardBytes) {
      shards.push([]);
      used = 0;
    }
    shards[shards.length - 1].push(entry);
    used += size;
    total += size;
  }
  if (shards.length === 1) {
    const path = join(dir, `${baseName}.safetensors`);
    await writeSafetensors(path, new Map(shards[0]), { metadata });
    return { files: [path] };
  }
  const n = shards.length;
  const pad = (i: number) => String(i).padStart(5, "0");
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const fileName = `${baseName}-${pad(i + 1)}-of-${pad(n)}.safetensors`;
    const path = join(dir, fileName);
    await writeSafetensors(path, new Map(shards[i]), { metadata });
    files.push(path);
    for (const [name] of shards[i]) weightMap[name] = fileName;
  }
  const sortedMap = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
  const indexPath = join(dir, `${baseName}.safetensors.index.json`);
  const tmp = await temporarySibling(indexPath, "writeSafetensorsSharded");
  await Deno.writeTextFile(
    tmp,
    JSON.stringify({ metadata: { total_size: total }, weight_map: sortedMap }, null, 2) + "\n",
  );
  await Deno.rename(tmp, indexPath);
  files.push(indexPath);
  return { files };
}
