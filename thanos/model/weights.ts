/**
 * Where a model's weights live: which are on the GPU, when blocks are loaded and evicted, and how
 * pruned weights survive eviction. {@link DecoderModel} owns one {@link WeightStore}; the family
 * forward passes only read the {@link GlobalWeights} and {@link BlockWeights} it hands out.
 *
 * - embeddings, positions, final norm and LM head are resident; a table larger than one storage
 *   binding (a 128k vocabulary) is kept as row chunks ({@link RowChunks});
 * - decoder blocks are loaded lazily, the first time they are used; with `streaming` only one
 *   block is on the GPU at a time (checkpoints larger than GPU memory). A block whose weights were
 *   handed out or replaced is read back to the CPU before it is evicted, so pruned weights survive;
 * - every linear weight is f32 [outFeatures, inFeatures]: GPT-2's Conv1D weights are transposed on
 *   load and transposed back by {@link WeightStore.checkpointTensors};
 * - a compressed checkpoint's sparse linear weights stay compressed on the GPU
 *   ({@link LinearWeights.sparse}: 2:4 as kept values + 4-bit index when every group of 4 inputs holds
 *   at most 2 non-zeros, else values + bitmask + row starts), unless `denseWeights`; a layer handed
 *   out for pruning ({@link WeightStore.widenLinear}) is made dense f32 first.
 *
 * Each block's tensors (and the resident ones) are owned by one `DisposableStack`, so a load that
 * fails half-way frees what it had uploaded, and eviction or release frees everything at once.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { NonFiniteError } from "../linalg/finite.ts";
import { type HalfWeight, packHalfWeight } from "../linalg/matmul_half.ts";
import { type Tensor, upload } from "../gpu/tensor.ts";
import { type SparseWeight, sparseWeightBytes, upload24, uploadBitmask } from "../linalg/sparse_weight.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { compress24, compressBitmask, CompressedSafetensorsReader, moduleOf, weightSparsity } from "./compressed.ts";
import type { LinearLayer, ModelLayout, NormLayer } from "./layout.ts";
import { type RowChunks, rowsPerBinding } from "./ops.ts";
import type { TensorInput } from "./safetensors.ts";
import { checkBlockWeights, checkGlobalWeights } from "./finite.ts";

/** One linear layer of a block, as pruning sees it: y = x·Wᵀ + b. */
export interface LinearWeights {
  /** module path inside the block, e.g. "self_attn.q_proj" or "attn.c_attn" (the layout's name) */
  readonly name: string;
  /**
   * f32 [outFeatures, inFeatures] (GPT-2's Conv1D weights are transposed on load), or null when
   * the weight stays packed at 2 bytes a weight (`half`, with `halfWeights`) or compressed (`sparse`)
   */
  readonly weight: Tensor | null;
  /** the weight as packed F16/BF16 pairs [outFeatures, ceil(inFeatures/2)] words, or undefined */
  readonly half?: HalfWeight;
  /**
   * the weight [outFeatures, inFeatures] as compressed on the GPU (2:4 or bitmask), when the layer
   * came from a compressed checkpoint and the model was not loaded with `denseWeights`; else undefined
   */
  readonly sparse?: SparseWeight;
  /** f32 [outFeatures], or null */
  readonly bias: Tensor | null;
}

/** GPU bytes held by the linear weights of the resident blocks (biases excluded). */
export interface LinearWeightBytes {
  /** bytes of the layers held dense (f32, or packed halves) */
  dense: number;
  /** bytes of the layers held compressed (values, index or mask, row starts) */
  compressed: number;
  /** what the compressed layers would take dense (f32 [out, in]) */
  compressedAsDense: number;
  /** layers by how they are held */
  layers: { dense: number; half: number; "2:4": number; bitmask: number };
}

/** A norm's parameters on the GPU (a LayerNorm without affine parameters gets ones and zeros). */
export interface NormWeights {
  readonly kind: "rmsnorm" | "layernorm";
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly eps: number;
}

/** One decoder block's weights on the GPU. */
export interface BlockWeights {
  readonly index: number;
  readonly attentionNorm: NormWeights;
  readonly mlpNorm: NormWeights;
  /** by layout name, e.g. "self_attn.q_proj" */
  readonly linears: Map<string, LinearWeights>;
}

/** The resident (non-block) weights. */
export interface GlobalWeights {
  /** [vocab, embedDim] */
  readonly tokenEmbedding: RowChunks;
  /** learned positions [maxPositions + offset, hiddenSize], or null (rotary models) */
  readonly positionEmbedding: RowChunks | null;
  /** OPT-350m's projections between the embedding width and the hidden size */
  readonly projectIn: LinearWeights | null;
  readonly projectOut: LinearWeights | null;
  readonly finalNorm: NormWeights | null;
  /** [vocab, embedDim]: the same object as tokenEmbedding when tied */
  readonly lmHead: RowChunks;
}

/** How weights live on the GPU (the residency part of `loadModel`'s options). */
export interface ResidencyOptions {
  /**
   * Keep at most one decoder block's weights on the GPU (evicting the others, reading modified
   * weights back to the CPU first). Default false: blocks stay once loaded.
   */
  streaming?: boolean;
  /**
   * Largest tensor (bytes) of an embedding table or LM head chunk; default the device's storage
   * binding limit. Tests lower it to exercise chunking.
   */
  maxChunkBytes?: number;
  /**
   * Keep the decoder blocks' linear weights of an F16/BF16 checkpoint at 2 bytes a weight on the GPU
   * (packed pairs, widened in the shader: `matmulHalfWeight`) for the forward passes. A layer handed
   * out for pruning (`blockLinears`) is widened to f32 first and stays f32. Default false. The KV-cache
   * decoder needs f32 weights.
   */
  halfWeights?: boolean;
  /**
   * Hold a compressed checkpoint's sparse linear weights dense (f32, decompressed at load), so the
   * forward and the decoder run the dense products — for comparison. Default false: they stay
   * compressed on the GPU and the sparse products run. No effect on a dense checkpoint.
   */
  denseWeights?: boolean;
}

/** A linear layer whose weight is f32 on the GPU (what pruning and the decoder read). */
export type F32LinearWeights = LinearWeights & { readonly weight: Tensor };

/** The f32 weight of `l`, or a clear error for a layer kept in halves. */
export function f32Weight(l: LinearWeights, op: string): Tensor {
  if (!l.weight && l.sparse) {
    throw new Error(
      `${op}: ${l.name} is held compressed on the GPU (${l.sparse.kind}); ${op} needs f32 weights (denseWeights)`,
    );
  }
  if (!l.weight) {
    throw new Error(`${op}: ${l.name} is kept in ${l.half!.dtype} on the GPU (halfWeights); ${op} needs f32 weights`);
  }
  return l.weight;
}

/** A resident block: its weights and the stack that owns their tensors. */
interface Resident {
  readonly weights: BlockWeights;
  readonly owner: DisposableStack;
}

/** The weights of one checkpoint on one GPU (see the module documentation). */
export class WeightStore implements Disposable {
  readonly #checkpoint: Checkpoint;
  readonly #layout: ModelLayout;
  readonly #gpu: Gpu;
  readonly #options: ResidencyOptions;
  readonly #globalOwner = new DisposableStack();
  #globals: GlobalWeights | null = null;
  readonly #blocks = new Map<number, Resident>();
  /** blocks whose linear weights may differ from the checkpoint (handed out or replaced) */
  readonly #modified = new Set<number>();
  /** modified linear weights of evicted blocks, [out, in], by tensor name */
  readonly #offloaded = new Map<string, Float32Array>();
  #released = false;

  constructor(checkpoint: Checkpoint, gpu: Gpu, options: ResidencyOptions = {}) {
    this.#checkpoint = checkpoint;
    this.#layout = checkpoint.layout;
    this.#gpu = gpu;
    this.#options = options;
  }

  /** The resident weights; {@link loadGlobals} must have run. */
  get globals(): GlobalWeights {
    if (!this.#globals) throw new Error("WeightStore: the resident weights are not loaded yet");
    return this.#globals;
  }

  /** Indices of the blocks currently on the GPU, ascending. */
  get residentBlocks(): number[] {
    return [...this.#blocks.keys()].sort((a, b) => a - b);
  }

  /** Uploads the resident weights (embeddings, final norm, LM head). */
  async loadGlobals(): Promise<void> {
    const L = this.#layout, own = this.#globalOwner;
    const tokenEmbedding = await this.#loadRowChunks(own, L.tokenEmbedding.name, L.tokenEmbedding.shape);
    this.#globals = {
      tokenEmbedding,
      positionEmbedding: L.positionEmbedding
        ? await this.#loadRowChunks(own, L.positionEmbedding.name, L.positionEmbedding.shape)
        : null,
      projectIn: L.projectIn ? await this.#loadLinear(own, L.projectIn) : null,
      projectOut: L.projectOut ? await this.#loadLinear(own, L.projectOut) : null,
      finalNorm: L.finalNorm ? await this.#loadNorm(own, L.finalNorm) : null,
      lmHead: L.lmHead.tied ? tokenEmbedding : await this.#loadRowChunks(own, L.lmHead.weight, L.lmHead.shape),
    };
    await checkGlobalWeights(this.#gpu, L, this.#globals, this.#checkpoint.dir); // NaN/Inf: one reduction each
  }

  /** Block `b`'s weights, loading them (and, when streaming, evicting the others) if needed. */
  async block(b: number): Promise<BlockWeights> {
    const resident = this.#blocks.get(b);
    if (resident) return resident.weights;
    if (this.#options.streaming) { for (const other of [...this.#blocks.keys()]) await this.#evict(other); }
    const layout = this.#layout.blocks[b];
    // weights restored after an eviction were checked when first loaded (and may be pruned)
    const restored = new Set(layout.linears.filter((l) => this.#offloaded.has(l.weight)).map((l) => l.weight));
    using loading = new DisposableStack(); // frees the uploads if a later one fails
    const linears = new Map<string, LinearWeights>();
    for (const layer of layout.linears) linears.set(layer.name, await this.#loadLinear(loading, layer));
    const weights: BlockWeights = {
      index: b,
      attentionNorm: await this.#loadNorm(loading, layout.attentionNorm),
      mlpNorm: await this.#loadNorm(loading, layout.mlpNorm),
      linears,
    };
    await checkBlockWeights(this.#gpu, layout, weights, this.#checkpoint.dir, restored); // NaN/Inf
    this.#blocks.set(b, { weights, owner: loading.move() });
    return weights;
  }

  /**
   * Makes linear layer `name` of resident block `b` f32 on the GPU (a layer kept in halves or
   * compressed is read from the checkpoint as f32 — the same values, widened or decompressed exactly
   * — and its packed copy freed).
   */
  async widenLinear(b: number, name: string): Promise<F32LinearWeights> {
    const resident = this.#blocks.get(b);
    if (!resident) throw new Error(`WeightStore: block ${b} is not resident`);
    const current = resident.weights.linears.get(name)!;
    if (current.weight) return current as F32LinearWeights;
    const layer = this.#layout.blocks[b].linears.find((l) => l.name === name)!;
    const widened = await this.#loadLinear(resident.owner, layer, { half: false, sparse: false });
    current.half?.tensor.release();
    current.sparse?.[Symbol.dispose]();
    resident.weights.linears.set(name, { ...widened, bias: current.bias });
    return resident.weights.linears.get(name) as F32LinearWeights;
  }

  /** Records that block `b`'s linear weights may now differ from the checkpoint. */
  markModified(b: number): void {
    this.#modified.add(b);
  }

  /**
   * Puts `weight` in place of linear layer `name` of resident block `b`; the store takes ownership
   * of it and frees the tensor it replaces (unless it is the same tensor).
   */
  replaceLinear(b: number, name: string, weight: Tensor): void {
    const resident = this.#blocks.get(b);
    if (!resident) throw new Error(`WeightStore: block ${b} is not resident`);
    const current = resident.weights.linears.get(name)!;
    resident.owner.use(weight);
    if (current.weight !== weight) current.weight?.release();
    current.half?.tensor.release();
    current.sparse?.[Symbol.dispose]();
    resident.weights.linears.set(name, { name, weight, bias: current.bias });
    this.#modified.add(b);
  }

  /** GPU bytes held by the resident blocks' linear weights (and OPT's projections), dense and compressed. */
  linearBytes(): LinearWeightBytes {
    const out: LinearWeightBytes = {
      dense: 0,
      compressed: 0,
      compressedAsDense: 0,
      layers: { dense: 0, half: 0, "2:4": 0, bitmask: 0 },
    };
    const g = this.#globals;
    const all = [
      ...(g?.projectIn ? [g.projectIn] : []),
      ...(g?.projectOut ? [g.projectOut] : []),
      ...[...this.#blocks.values()].flatMap((r) => [...r.weights.linears.values()]),
    ];
    for (const l of all) {
      if (l.sparse) {
        out.compressed += sparseWeightBytes(l.sparse);
        out.compressedAsDense += l.sparse.rows * l.sparse.cols * 4;
        out.layers[l.sparse.kind]++;
      } else if (l.weight) {
        out.dense += l.weight.byteLength;
        out.layers.dense++;
      } else if (l.half) {
        out.dense += l.half.tensor.byteLength;
        out.layers.half++;
      }
    }
    return out;
  }

  /**
   * Every tensor of the checkpoint under its Hugging Face name and stored shape, with the current
   * (possibly pruned) values, read lazily.
   */
  checkpointTensors(): Map<string, TensorInput> {
    const out = new Map<string, TensorInput>();
    const linearOf = new Map<string, { block: number; layer: LinearLayer }>();
    for (const block of this.#layout.blocks) {
      for (const layer of block.linears) linearOf.set(layer.weight, { block: block.index, layer });
    }
    for (const { name, shape } of this.#layout.tensors) {
      const owner = linearOf.get(name);
      const data = owner && this.#modified.has(owner.block)
        ? () => this.#currentWeight(owner.block, owner.layer)
        : async () => (await this.#checkpoint.readFloat32(name)).data;
      out.set(name, { dtype: "F32", shape, data });
    }
    return out;
  }

  /** Frees every GPU tensor the store holds. Idempotent. */
  [Symbol.dispose](): void {
    for (const { owner } of this.#blocks.values()) owner.dispose();
    this.#blocks.clear();
    this.#offloaded.clear();
    this.#globalOwner.dispose();
    this.#released = true;
  }

  /** The current values of a linear weight in its stored layout (Conv1D transposed back). */
  async #currentWeight(b: number, layer: LinearLayer): Promise<Float32Array> {
    if (this.#released) {
      // the modified values are gone; the checkpoint's would be silently wrong
      throw new Error(`${layer.weight} was modified, and the model was released before it was read; read it first`);
    }
    const resident = this.#blocks.get(b)?.weights.linears.get(layer.name);
    const data = resident?.weight ? (await resident.weight.read()) as Float32Array : this.#offloaded.get(layer.weight);
    if (!data) return (await this.#checkpoint.readFloat32(layer.weight)).data;
    return layer.transposed ? transpose(data, layer.outFeatures, layer.inFeatures) : data;
  }

  /** Frees block `b`'s GPU weights, first reading modified linear weights back to the CPU. */
  async #evict(b: number): Promise<void> {
    const resident = this.#blocks.get(b);
    if (!resident) return;
    if (this.#modified.has(b)) {
      for (const layer of this.#layout.blocks[b].linears) {
        const weight = resident.weights.linears.get(layer.name)!.weight;
        if (weight) this.#offloaded.set(layer.weight, (await weight.read()) as Float32Array); // halves are unmodified
      }
    }
    this.#blocks.delete(b);
    resident.owner.dispose();
  }

  async #loadRowChunks(owner: DisposableStack, name: string, [rows, cols]: readonly number[]): Promise<RowChunks> {
    const per = rowsPerBinding(this.#gpu, cols, this.#options.maxChunkBytes);
    const chunks = [];
    for (let lo = 0; lo < rows; lo += per) {
      const hi = Math.min(rows, lo + per);
      const rowRange: [number, number] | undefined = lo === 0 && hi === rows ? undefined : [lo, hi];
      chunks.push({ lo, tensor: owner.use(await this.#checkpoint.uploadTensor(this.#gpu, name, rowRange)) });
    }
    return { rows, cols, chunks };
  }

  async #loadLinear(
    owner: DisposableStack,
    layer: LinearLayer,
    { half = this.#options.halfWeights ?? false, sparse = !this.#options.denseWeights } = {},
  ): Promise<LinearWeights> {
    const { outFeatures: out, inFeatures: inF } = layer;
    let data = this.#offloaded.get(layer.weight);
    const t = this.#checkpoint.tensors;
    if (sparse && !data && t instanceof CompressedSafetensorsReader && t.modules.has(moduleOf(layer.weight))) {
      // [out, in] as the products read it: 2:4 along the inputs when every group of 4 allows it (a
      // GPT-2 Conv1D weight stored as sparse-bitmask [in, out] included), else values + bitmask
      data = (await this.#checkpoint.readFloat32(layer.weight)).data;
      if (layer.transposed) data = transpose(data, inF, out); // Conv1D [in, out] → [out, in]
      const held = owner.use(sparseOnGpu(this.#gpu, data, out, inF, layer.weight));
      const bias = layer.bias ? owner.use(await this.#checkpoint.uploadTensor(this.#gpu, layer.bias)) : null;
      return { name: layer.name, weight: null, sparse: held, bias };
    }
    const dtype = this.#checkpoint.tensors.entry(layer.weight).dtype;
    if (half && !data && !this.#checkpoint.compression && (dtype === "F16" || dtype === "BF16")) {
      let bits = await this.#checkpoint.tensors.readHalfBits(layer.weight);
      checkHalfFinite(bits, dtype, layer, this.#checkpoint.dir);
      if (layer.transposed) bits = transposeBits(bits, inF, out); //     Conv1D [in, out] → [out, in]
      const packed = packHalfWeight(this.#gpu, bits, out, inF, dtype, layer.weight);
      owner.use(packed.tensor);
      const bias = layer.bias ? owner.use(await this.#checkpoint.uploadTensor(this.#gpu, layer.bias)) : null;
      return { name: layer.name, weight: null, half: packed, bias };
    }
    if (!data) {
      data = (await this.#checkpoint.readFloat32(layer.weight)).data;
      if (layer.transposed) data = transpose(data, inF, out); // Conv1D [in, out] → [out, in]
    }
    const weight = owner.use(upload(this.#gpu, data, [out, inF], layer.weight));
    const bias = layer.bias ? owner.use(await this.#checkpoint.uploadTensor(this.#gpu, layer.bias)) : null;
    return { name: layer.name, weight, bias };
  }

  async #loadNorm(owner: DisposableStack, n: NormLayer): Promise<NormWeights> {
    const weight = owner.use(
      n.weight
        ? await this.#checkpoint.uploadTensor(this.#gpu, n.weight)
        : upload(this.#gpu, new Float32Array(n.size).fill(1), [n.size], `${n.name}.weight (ones)`),
    );
    let bias: Tensor | null = null;
    if (n.kind === "layernorm") {
      bias = owner.use(
        n.bias
          ? await this.#checkpoint.uploadTensor(this.#gpu, n.bias)
          : upload(this.#gpu, new Float32Array(n.size), [n.size], `${n.name}.bias (zeros)`),
      );
    }
    return { kind: n.kind, weight, bias, eps: n.eps };
  }
}

/**
 * A sparse weight [rows, cols] on the GPU from its dense values: 2:4 (kept values + 4-bit index) when
 * cols % 4 == 0 and every group of 4 holds at most 2 non-zeros, else values + bitmask + row starts.
 */
export function sparseOnGpu(gpu: Gpu, dense: Float32Array, rows: number, cols: number, label: string): SparseWeight {
  if (weightSparsity(dense, rows, cols).twoFour) {
    const c = compress24(dense, rows, cols, label);
    return upload24(gpu, c.compressed, c.bitmask, rows, cols, label);
  }
  const c = compressBitmask(dense, rows, cols);
  return uploadBitmask(gpu, c.compressed, c.bitmask, c.rowOffsets!, rows, cols, label);
}

/** Transposes a row-major [rows, cols] matrix on the CPU. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** Transposes a row-major [rows, cols] matrix of 16-bit patterns. */
function transposeBits(data: Uint16Array, rows: number, cols: number): Uint16Array {
  const out = new Uint16Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** The load-time NaN/Inf check of a weight kept in halves (all-ones exponent), on its stored bits. */
function checkHalfFinite(bits: Uint16Array, dtype: "F16" | "BF16", layer: LinearLayer, dir: string): void {
  const exponent = dtype === "F16" ? 0x7c00 : 0x7f80;
  const i = bits.findIndex((b) => (b & exponent) === exponent);
  if (i < 0) return;
  const [rows, cols] = layer.transposed ? [layer.inFeatures, layer.outFeatures] : [layer.outFeatures, layer.inFeatures];
  void rows;
  throw new NonFiniteError(
    `${dir}: ${layer.weight} contains NaN/Inf, the first at [${Math.floor(i / cols)}, ${i % cols}]`,
  );
}
