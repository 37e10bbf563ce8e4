/**
 * A model checkpoint in the Hugging Face layout — `config.json`, `model.safetensors` (or a
 * `model.safetensors.index.json` and its shards), `tokenizer.json` — opened and checked against
 * the tensor table its config implies, and written back the same way.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import type { Gpu, Tensor } from "../gpu/mod.ts";
import { isFile, lstatOrNull } from "../util/fs.ts";
import { type ModelConfig, parseConfig } from "./config.ts";
import {
  CompressedSafetensorsReader,
  compressedTensors,
  type CompressionPlan,
  moduleOf,
  parseCompressionConfig,
  planCompression,
  type SparsityConfig,
} from "./compressed.ts";
import { type HubOptions, isHubId, resolveHubModel } from "./hub.ts";
import { detectPrefix, type ModelLayout, modelLayout } from "./layout.ts";
import {
  isFloat,
  openSafetensors,
  type SafetensorsReader,
  temporarySibling,
  type TensorData,
  type TensorInput,
  writeSafetensorsSharded,
} from "./safetensors.ts";

/** An opened, validated checkpoint. Tensors stay on disk until read. */
export interface Checkpoint {
  /** the directory (for an hf: id, its cache snapshot) */
  dir: string;
  /** what the caller passed: a directory or an hf: id */
  source: string;
  config: ModelConfig;
  layout: ModelLayout;
  /** the checkpoint's tensors (lazy) */
  tensors: SafetensorsReader;
  /** the safetensors files */
  files: string[];
  /**
   * what `loadTokenizer` should read: tokenizer.json, else vocab.json (with merges.txt beside
   * it, GPT-2-style repositories such as facebook/opt-*), else null
   */
  tokenizerPath: string | null;
  /**
   * the sparsity config of a compressed checkpoint (compressed-tensors layout), or null; its
   * compressed weights read as dense ones (decompressed on read)
   */
  compression: SparsityConfig | null;
  /** tensors in the files that the layout does not use (e.g. rotary inv_freq buffers) */
  extraTensors: string[];
  /** reads one tensor (F16/BF16 widened to float32) */
  readTensor(name: string): Promise<TensorData>;
  /** reads a float tensor as float32 */
  readFloat32(name: string): Promise<{ shape: number[]; data: Float32Array }>;
  /** reads a float tensor (or rows [start, end) of it) into an f32 GPU tensor */
  uploadTensor(gpu: Gpu, name: string, rows?: [number, number]): Promise<Tensor<"f32">>;
}

/**
 * Opens a checkpoint and checks it against its config.
 *
 * @param source a checkpoint directory, or `hf:ORG/NAME[@REV]` (resolved through the HF cache)
 * @param hub options for hf: ids (cache, token, timeout, offline)
 * @returns the {@link Checkpoint}
 * @throws Error when config.json or the weights are missing, the config is unsupported, a tensor
 *   the config implies is absent, or a tensor has another shape than the config implies, e.g.
 *   `model.layers.3.mlp.up_proj.weight has shape [688, 255] but the config implies [688, 256]`
 * @example
 * ```ts
 * const ckpt = await openCheckpoint("models/tiny-llama");
 * const layer = ckpt.layout.blocks[0].linears[0];
 * const w = await ckpt.uploadTensor(await getGpu(), layer.weight);
 * ```
 */
export async function openCheckpoint(source: string, hub: HubOptions = {}): Promise<Checkpoint> {
  const dir = isHubId(source) ? await resolveHubModel(source, hub) : source;
  const configPath = join(dir, "config.json");
  let configText: string;
  try {
    configText = await Deno.readTextFile(configPath);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(`openCheckpoint: ${configPath} not found; expected a Hugging Face checkpoint directory`);
    }
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(configText);
  } catch (err) {
    throw new Error(`openCheckpoint: ${configPath} is not valid JSON (${(err as Error).message})`);
  }
  const config = parseConfig(raw, configPath);
  let compression: SparsityConfig | null;
  try {
    compression = parseCompressionConfig(config.raw, configPath);
  } catch (err) {
    throw new RangeError(`openCheckpoint: ${(err as Error).message}`);
  }
  let tensors: SafetensorsReader;
  try {
    tensors = await openSafetensors(dir);
    if (compression) tensors = await CompressedSafetensorsReader.open(tensors, compression.format);
  } catch (err) {
    throw new RangeError(`openCheckpoint: ${dir}: ${(err as Error).message}`);
  }
  const names = tensors.names();
  const prefix = detectPrefix(config.family, names);
  const layout = modelLayout(config, prefix);
  for (const { name, shape } of layout.tensors) {
    if (!tensors.has(name)) {
      throw new Error(
        `openCheckpoint: ${dir}: tensor ${name} is missing; the ${config.family} config implies it with shape [${
          shape.join(", ")
        }]`,
      );
    }
    const { shape: found, dtype } = tensors.entry(name);
    if (!isFloat(dtype)) {
      throw new Error(`openCheckpoint: ${dir}: ${name} has dtype ${dtype}; expected F32, F16 or BF16`);
    }
    if (found.length !== shape.length || found.some((d, i) => d !== shape[i])) {
      const what = tensors instanceof CompressedSafetensorsReader && tensors.modules.has(moduleOf(name))
        ? `${moduleOf(name)}.shape is` //                                a compressed weight's recorded shape
        : `${name} has shape`;
      throw new Error(
        `openCheckpoint: ${dir}: ${what} [${found.join(", ")}] but the config implies [${
          shape.join(", ")
        }] for ${name}`,
      );
    }
  }
  const used = new Set(layout.tensors.map((t) => t.name));
  const tokenizerPath = (await isFile(join(dir, "tokenizer.json")))
    ? join(dir, "tokenizer.json")
    : (await isFile(join(dir, "vocab.json"))) && (await isFile(join(dir, "merges.txt")))
    ? join(dir, "vocab.json")
    : null;
  return {
    dir,
    source,
    config,
    layout,
    tensors,
    files: tensors.files.map((f) => f.path),
    tokenizerPath,
    compression,
    extraTensors: names.filter((n) => !used.has(n)),
    readTensor: (name) => tensors.readTensor(name),
    readFloat32: (name) => tensors.readFloat32(name),
    uploadTensor: (gpu, name, rows) => tensors.uploadTensor(gpu, name, rows),
  };
}

/**
 * The storage dtype of a checkpoint's first decoder weight (F32, F16 or BF16; a compressed weight:
 * its values' dtype) — what a rewritten checkpoint keeps by default.
 */
export function storageDtype(checkpoint: Checkpoint): "F32" | "F16" | "BF16" {
  const first = checkpoint.layout.blocks[0]?.linears[0]?.weight;
  const dt = first ? checkpoint.tensors.entry(first).dtype : "F32";
  return dt === "F16" || dt === "BF16" ? dt : "F32";
}

/** Options of {@link writeCheckpoint}. */
export interface WriteCheckpointOptions {
  /** the config.json object to write (normally the source checkpoint's `config.raw`) */
  config: Record<string, unknown>;
  /** every tensor of the layout, float tensors as Float32Array (data may be a lazy function) */
  tensors: Map<string, TensorInput> | Record<string, TensorInput>;
  /** storage dtype of float tensors (default "F32"); config.json's torch_dtype is set to match */
  dtype?: "F32" | "F16" | "BF16";
  /**
   * the tokenizer to copy: a tokenizer.json, or a vocab.json (merges.txt beside it is copied too);
   * tokenizer_config.json and special_tokens_map.json beside it are copied as well
   */
  tokenizer?: string | null;
  /** shard the weights above this size (default 2 GiB per file) */
  maxShardBytes?: number;
  /** replace an existing directory (default false: an existing target is an error) */
  overwrite?: boolean;
  /**
   * "dense" (default): every tensor as is. "compressed": sparse linear weights in the
   * compressed-tensors layout (see `compressed.ts`), each only when smaller that way
   */
  format?: "dense" | "compressed";
  /** the sparsity_structure to record when compressing (default: detected from the zeros) */
  sparsityStructure?: string;
}

const TORCH_DTYPE = { F32: "float32", F16: "float16", BF16: "bfloat16" } as const;

/**
 * Copies a tokenizer (tokenizer.json, or GPT-2's vocab.json + merges.txt) and the config files
 * beside it into `dir`.
 * @returns the names of the files written
 */
async function copyTokenizer(tokenizer: string, dir: string): Promise<string[]> {
  const slow = basename(tokenizer) === "vocab.json";
  const main = slow ? "vocab.json" : "tokenizer.json";
  await Deno.copyFile(tokenizer, join(dir, main));
  const files = [main];
  for (const name of [...(slow ? ["merges.txt"] : []), "tokenizer_config.json", "special_tokens_map.json"]) {
    if (await isFile(join(dirname(tokenizer), name))) {
      await Deno.copyFile(join(dirname(tokenizer), name), join(dir, name));
      files.push(name);
    }
  }
  return files;
}

/**
 * Writes a checkpoint in the Hugging Face layout. Everything goes into a temporary directory beside
 * `dir`, renamed into place at the end, so an error leaves nothing at `dir`.
 *
 * The tensors are checked against the layout the config implies (same names, same shapes) before
 * anything is written.
 *
 * @param dir the checkpoint directory to create (its parent must exist)
 * @param options config, tensors, storage dtype, tokenizer, sharding, overwrite
 * @returns the directory and the files written
 * @throws Error for a missing parent directory, an existing target without `overwrite`, a tensor
 *   missing from or unknown to the layout, or a shape that disagrees with the config
 * @example
 * ```ts
 * const src = await openCheckpoint("models/tiny-llama");
 * const tensors = new Map(src.layout.tensors.map(({ name, shape }) => [name,
 *   { dtype: "F32", shape, data: async () => (await src.readFloat32(name)).data }]));
 * await writeCheckpoint("out/tiny-llama-pruned", { config: { ...src.config.raw }, tensors, tokenizer: src.tokenizerPath });
 * ```
 */
export async function writeCheckpoint(
  dir: string,
  options: WriteCheckpointOptions,
): Promise<{ dir: string; files: string[]; compression: CompressionPlan | null }> {
  const op = "writeCheckpoint";
  const { dtype = "F32", tokenizer = null, maxShardBytes = 2 * 1024 ** 3, overwrite = false } = options;
  const { format = "dense" } = options;
  const target = resolve(dir);
  const parent = dirname(target);
  const tmp = await temporarySibling(target, op); //                     checks that the parent exists
  const targetExists = (await lstatOrNull(target)) !== null; //          a dangling symlink counts
  if (targetExists && !overwrite) throw new Error(`${op}: ${dir} already exists; pass overwrite: true to replace it`);

  // Validate names and shapes against the layout before writing anything.
  const config = parseConfig(options.config, `${op} config`);
  const entries = options.tensors instanceof Map ? [...options.tensors] : Object.entries(options.tensors);
  const given = new Map(entries);
  const layout = modelLayout(config, detectPrefix(config.family, given.keys()));
  const expected = new Map(layout.tensors.map((t) => [t.name, t.shape]));
  for (const [name, shape] of expected) {
    const t = given.get(name);
    if (!t) {
      throw new Error(
        `${op}: tensor ${name} is missing; the ${config.family} config implies it with shape [${shape.join(", ")}]`,
      );
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${op}: ${name} has shape [${t.shape.join(", ")}] but the config implies [${shape.join(", ")}]`);
    }
  }
  for (const name of given.keys()) {
    if (!expected.has(name)) throw new Error(`${op}: tensor ${name} is not part of the ${config.family} layout`);
  }
  if (tokenizer && !(await isFile(tokenizer))) throw new Error(`${op}: tokenizer ${tokenizer} not found`);
  // Order the file like the layout (embeddings, block by block, head); store floats in `dtype`.
  const ordered = new Map<string, TensorInput>();
  for (const { name } of layout.tensors) {
    const t = given.get(name)!;
    ordered.set(name, isFloat(t.dtype) ? { ...t, dtype } as TensorInput : t);
  }

  // A compressed source's quantization_config describes its files, not these: drop it.
  const { quantization_config: _q, compression_config: _c, ...plainConfig } = options.config;
  let plan: CompressionPlan | null = null;
  let toWrite = ordered;
  let compressionConfig = {};
  if (format === "compressed") {
    plan = await planCompression(layout, ordered, dtype, options.sparsityStructure);
    if (plan.config) {
      toWrite = compressedTensors(ordered, plan, dtype);
      compressionConfig = { quantization_config: plan.config };
    }
  }

  await Deno.mkdir(tmp);
  try {
    const files: string[] = [];
    const rawConfig = { ...plainConfig, torch_dtype: TORCH_DTYPE[dtype], ...compressionConfig };
    await Deno.writeTextFile(join(tmp, "config.json"), JSON.stringify(rawConfig, null, 2) + "\n");
    files.push("config.json");
    const written = await writeSafetensorsSharded(tmp, toWrite, { maxShardBytes, metadata: { format: "pt" } });
    files.push(...written.files.map((f) => basename(f)));
    if (tokenizer) files.push(...await copyTokenizer(tokenizer, tmp));
    if (targetExists) {
      const old = join(parent, `.${basename(target)}.${crypto.randomUUID().slice(0, 8)}.old`);
      await Deno.rename(target, old);
      await Deno.rename(tmp, target);
      await Deno.remove(old, { recursive: true });
    } else {
      await Deno.rename(tmp, target);
    }
    return { dir, files: files.map((f) => join(dir, f)), compression: plan };
  } catch (err) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw err;
  }
}
