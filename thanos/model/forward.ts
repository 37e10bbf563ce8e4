/**
 * The causal language model the pruning pipeline drives, and what the three families share.
 *
 * {@link CausalLM} is the contract: embed token windows, run one decoder block at a time (with a
 * hook that sees every linear layer's input, once per distinct input), compute next-token NLL
 * (final norm + LM head + log-softmax on the GPU), hand out and replace a block's linear weights.
 * The families (llama.ts, opt.ts, gpt2.ts) each write their forward pass in one readable file on
 * top of {@link DecoderModel}, which owns the weights:
 *
 * - embeddings, positions, final norm and LM head are resident; a table larger than one storage
 *   binding (a 128k vocabulary) is kept as row chunks ({@link RowChunks});
 * - decoder blocks are loaded lazily, the first time they are used; with `streaming` only one
 *   block is on the GPU at a time (checkpoints larger than GPU memory). A block whose weights were
 *   handed out or replaced is read back to the CPU before it is evicted, so pruned weights survive;
 * - every linear weight is f32 [outFeatures, inFeatures]: GPT-2's Conv1D weights are transposed on
 *   load and transposed back by {@link DecoderModel.checkpointTensors}.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { empty, readAll, type Tensor, upload } from "../gpu/tensor.ts";
import { matmul, matmulNew } from "../linalg/matmul.ts";
import { mat, type MatrixView, sub } from "../linalg/view.ts";
import type { Checkpoint } from "./checkpoint.ts";
import type { ModelConfig } from "./config.ts";
import type { BlockLayout, LinearLayer, ModelLayout, NormLayer } from "./layout.ts";
import {
  type AttentionShape,
  biasAdd,
  causalAttention,
  gatherRows,
  layerNorm,
  nllUpdate,
  releaseRowChunks,
  rmsNorm,
  type RowChunks,
  rowsPerBinding,
} from "./ops.ts";
import type { TensorInput } from "./safetensors.ts";

/** One linear layer of a block, as pruning sees it: y = x·Wᵀ + b. */
export interface LinearWeights {
  /** module path inside the block, e.g. "self_attn.q_proj" or "attn.c_attn" (the layout's name) */
  readonly name: string;
  /** f32 [outFeatures, inFeatures] (GPT-2's Conv1D weights are transposed on load) */
  readonly weight: Tensor;
  /** f32 [outFeatures], or null */
  readonly bias: Tensor | null;
}

/**
 * Linear layers of a block that read the SAME input, so calibration statistics (XᵀX, column
 * norms) are computed once for all of them: llama [q, k, v], [o], [gate, up], [down]; opt
 * [q, k, v], [out], [fc1], [fc2]; gpt2 [c_attn], [c_proj], [c_fc], [mlp.c_proj].
 */
export interface LinearGroup {
  /** which activation feeds the group: "attn_in", "attn_out", "mlp_in" or "mlp_hidden" */
  readonly input: string;
  /** the layers reading it ({@link LinearWeights.name}), in forward order */
  readonly names: readonly string[];
  /** columns of the input X (the layers' inFeatures) */
  readonly inFeatures: number;
}

/** Observers of a block's forward pass. */
export interface ForwardHooks {
  /**
   * Called once per {@link LinearGroup}, before its layers run, with their input X
   * [batch·seqLen, inFeatures]. The view is only valid during the call; awaited before the
   * forward pass continues.
   */
  onLinearInput?(group: LinearGroup, x: MatrixView): Promise<void> | void;
}

/** The model interface of the pruning pipeline (see the module documentation). */
export interface CausalLM {
  readonly config: ModelConfig;
  readonly layout: ModelLayout;
  readonly numBlocks: number;
  /** the groups of every block (the same in all blocks), in forward order */
  readonly linearGroups: readonly LinearGroup[];
  readonly gpu: Gpu;
  /**
   * Hidden states entering block 0 for `batch` windows of `seqLen` tokens (positions 0..seqLen−1).
   * @param ids [batch·seqLen] token ids, window-major
   * @returns f32 [batch·seqLen, hiddenSize]; release it when done
   */
  embed(ids: Uint32Array, batch: number, seqLen: number): Promise<Tensor>;
  /**
   * Runs decoder block `b` (loading its weights if needed).
   * @param hidden f32 [batch·seqLen, hiddenSize]; not modified or released
   * @returns the block's output, a new tensor of the same shape
   */
  runBlock(b: number, hidden: Tensor, batch: number, seqLen: number, hooks?: ForwardHooks): Promise<Tensor>;
  /**
   * Next-token NLL: final norm, LM head and log-softmax of each window's positions 0..seqLen−2
   * against the tokens at 1..seqLen−1. The vocabulary is reduced on the GPU.
   * @param hidden f32 [batch·seqLen, hiddenSize], the last block's output (not released)
   * @param ids the same [batch·seqLen] ids that were embedded
   * @returns [batch·(seqLen−1)] NLL values in nats, window-major
   */
  nll(hidden: Tensor, ids: Uint32Array, batch: number, seqLen: number): Promise<Float32Array>;
  /**
   * Logits of chosen rows (final norm + LM head), read back to the CPU.
   * @param hidden f32 [rows, hiddenSize], the last block's output
   * @param rows row indices into `hidden`
   * @returns [rows.length, vocabSize], row-major
   */
  logits(hidden: Tensor, rows: readonly number[]): Promise<Float32Array>;
  /**
   * The linear layers of block `b` in forward order, loading the block if needed. The tensors stay
   * owned by the model; pruning may modify them in place (the model treats them as modified).
   */
  blockLinears(b: number): Promise<LinearWeights[]>;
  /**
   * Replaces a linear layer's weight (e.g. with its pruned version). The model takes ownership of
   * `weight` and releases the tensor it replaces (unless it is the same tensor).
   * @param weight f32 [outFeatures, inFeatures]
   */
  setLinearWeight(b: number, name: string, weight: Tensor): Promise<void>;
  /**
   * Every tensor of the checkpoint under its Hugging Face name and stored shape, with the current
   * (possibly pruned) values, read lazily — ready for `writeCheckpoint`.
   */
  checkpointTensors(): Map<string, TensorInput>;
  /** Frees every GPU tensor the model holds. */
  release(): void;
}

/** Options of `loadModel` that shape how weights live on the GPU. */
export interface ModelOptions {
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
  /** Bytes of logits computed per LM head matmul (default 64 MiB, capped by the binding limit). */
  logitsBytes?: number;
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
  tokenEmbedding: RowChunks;
  /** learned positions [maxPositions + offset, hiddenSize], or null (rotary models) */
  positionEmbedding: RowChunks | null;
  /** OPT-350m's projections between the embedding width and the hidden size */
  projectIn: LinearWeights | null;
  projectOut: LinearWeights | null;
  finalNorm: NormWeights | null;
  /** [vocab, embedDim]: the same object as tokenEmbedding when tied */
  lmHead: RowChunks;
}

const DEFAULT_LOGITS_BYTES = 64 * 1024 * 1024;

/**
 * y = x·Wᵀ + b for x [rows, in] and W [out, in].
 * @returns a new f32 [rows, out] tensor labelled `label`
 */
export async function linear(x: Tensor, layer: LinearWeights, label = layer.name): Promise<Tensor> {
  const y = await matmulNew(mat(x), mat(layer.weight), { transB: true }, label); // [rows, out]
  if (layer.bias) await biasAdd(y, layer.bias);
  return y;
}

/**
 * Causal self-attention with the 1/sqrt(headDim) scale every supported family uses (see
 * `causalAttention`); q, k and v may be windows of one fused projection.
 * @returns a new f32 [batch·seqLen, heads·headDim] tensor labelled "attention"
 */
export async function attention(
  q: MatrixView,
  k: MatrixView,
  v: MatrixView,
  shape: Omit<AttentionShape, "scale">,
): Promise<Tensor> {
  const out = empty(q.tensor.gpu, [shape.batch * shape.seqLen, shape.heads * shape.headDim], "f32", "attention");
  try {
    await causalAttention(q, k, v, out, { ...shape, scale: shape.headDim ** -0.5 });
  } catch (err) {
    out.release();
    throw err;
  }
  return out;
}

/** RMSNorm or LayerNorm of x [rows, d] with the given weights. @returns a new tensor */
export function applyNorm(x: Tensor, n: NormWeights): Promise<Tensor> {
  return n.kind === "rmsnorm" ? rmsNorm(x, n.weight, n.eps) : layerNorm(x, n.weight, n.bias!, n.eps);
}

/** Transposes a row-major [rows, cols] matrix on the CPU. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * Everything the families share: weight loading (resident globals, lazy or streamed blocks),
 * argument checks, the LM head with a vocabulary-chunked NLL, and the hook plumbing. A family
 * implements {@link embedTokens}, {@link forwardBlock} and {@link finalHidden}.
 */
export abstract class DecoderModel<C extends ModelConfig = ModelConfig> implements CausalLM {
  readonly config: C;
  readonly layout: ModelLayout;
  readonly numBlocks: number;
  readonly linearGroups: readonly LinearGroup[];
  readonly gpu: Gpu;
  readonly checkpoint: Checkpoint;
  readonly options: Readonly<ModelOptions>;
  protected globals!: GlobalWeights;
  readonly #blocks = new Map<number, BlockWeights>();
  /** blocks whose linear weights may differ from the checkpoint (handed out or replaced) */
  readonly #modified = new Set<number>();
  /** modified linear weights of evicted blocks, [out, in], by tensor name */
  readonly #offloaded = new Map<string, Float32Array>();
  #released = false;

  constructor(checkpoint: Checkpoint, gpu: Gpu, options: ModelOptions = {}) {
    this.checkpoint = checkpoint;
    this.config = checkpoint.config as C;
    this.layout = checkpoint.layout;
    this.numBlocks = checkpoint.layout.blocks.length;
    this.gpu = gpu;
    this.options = options;
    this.linearGroups = groupsOf(checkpoint.layout.blocks[0]);
  }

  // ------------------------------------------------------------------------------------------
  // what a family implements

  /**
   * Hidden states entering block 0.
   * @param ids u32 [n] token ids
   * @param positions u32 [n] row of the position table to add (position + offset), for families
   *   with learned positions
   * @param n batch·seqLen
   */
  protected abstract embedTokens(ids: Tensor, positions: Tensor, n: number): Promise<Tensor>;

  /** One decoder block; must not modify or release `x`. */
  protected abstract forwardBlock(
    w: BlockWeights,
    x: Tensor,
    batch: number,
    seqLen: number,
    hooks: ForwardHooks,
  ): Promise<Tensor>;

  /**
   * Final norm (and OPT-350m's project_out) of rows x [m, hiddenSize] → [m, lmHead.cols]; may
   * return x itself when there is nothing to apply (the caller then owns it).
   */
  protected abstract finalHidden(x: Tensor): Promise<Tensor>;

  // ------------------------------------------------------------------------------------------
  // loading

  /** Loads the resident weights; called once by `loadModel`. */
  async init(): Promise<void> {
    const L = this.layout;
    const tokenEmbedding = await this.#loadRowChunks(L.tokenEmbedding.name, L.tokenEmbedding.shape);
    const positionEmbedding = L.positionEmbedding
      ? await this.#loadRowChunks(L.positionEmbedding.name, L.positionEmbedding.shape)
      : null;
    const lmHead = L.lmHead.tied ? tokenEmbedding : await this.#loadRowChunks(L.lmHead.weight, L.lmHead.shape);
    this.globals = {
      tokenEmbedding,
      positionEmbedding,
      projectIn: L.projectIn ? await this.#loadLinear(L.projectIn) : null,
      projectOut: L.projectOut ? await this.#loadLinear(L.projectOut) : null,
      finalNorm: L.finalNorm ? await this.#loadNorm(L.finalNorm) : null,
      lmHead,
    };
  }

  async #loadRowChunks(name: string, [rows, cols]: readonly number[]): Promise<RowChunks> {
    const per = rowsPerBinding(this.gpu, cols, this.options.maxChunkBytes);
    const chunks = [];
    for (let lo = 0; lo < rows; lo += per) {
      const hi = Math.min(rows, lo + per);
      const rowRange: [number, number] | undefined = lo === 0 && hi === rows ? undefined : [lo, hi];
      chunks.push({ lo, tensor: await this.checkpoint.uploadTensor(this.gpu, name, rowRange) });
    }
    return { rows, cols, chunks };
  }

  async #loadLinear(layer: LinearLayer): Promise<LinearWeights> {
    const { outFeatures: out, inFeatures: inF } = layer;
    let data = this.#offloaded.get(layer.weight);
    if (!data) {
      data = (await this.checkpoint.readFloat32(layer.weight)).data;
      if (layer.transposed) data = transpose(data, inF, out); // Conv1D [in, out] → [out, in]
    }
    const weight = upload(this.gpu, data, [out, inF], layer.weight);
    const bias = layer.bias ? await this.checkpoint.uploadTensor(this.gpu, layer.bias) : null;
    return { name: layer.name, weight, bias };
  }

  async #loadNorm(n: NormLayer): Promise<NormWeights> {
    const weight = n.weight
      ? await this.checkpoint.uploadTensor(this.gpu, n.weight)
      : upload(this.gpu, new Float32Array(n.size).fill(1), [n.size], `${n.name}.weight (ones)`);
    let bias: Tensor | null = null;
    if (n.kind === "layernorm") {
      bias = n.bias
        ? await this.checkpoint.uploadTensor(this.gpu, n.bias)
        : upload(this.gpu, new Float32Array(n.size), [n.size], `${n.name}.bias (zeros)`);
    }
    return { kind: n.kind, weight, bias, eps: n.eps };
  }

  /** Block `b`'s weights, loading them (and, when streaming, evicting the others) if needed. */
  protected async block(b: number): Promise<BlockWeights> {
    this.#checkAlive();
    if (!Number.isInteger(b) || b < 0 || b >= this.numBlocks) {
      throw new RangeError(`block index ${b} is out of range; expected an integer in [0, ${this.numBlocks})`);
    }
    const resident = this.#blocks.get(b);
    if (resident) return resident;
    if (this.options.streaming) { for (const other of [...this.#blocks.keys()]) await this.#evict(other); }
    const layout = this.layout.blocks[b];
    const linears = new Map<string, LinearWeights>();
    for (const layer of layout.linears) linears.set(layer.name, await this.#loadLinear(layer));
    const weights: BlockWeights = {
      index: b,
      attentionNorm: await this.#loadNorm(layout.attentionNorm),
      mlpNorm: await this.#loadNorm(layout.mlpNorm),
      linears,
    };
    this.#blocks.set(b, weights);
    return weights;
  }

  /** Frees block `b`'s GPU weights, first reading modified linear weights back to the CPU. */
  async #evict(b: number): Promise<void> {
    const w = this.#blocks.get(b);
    if (!w) return;
    if (this.#modified.has(b)) {
      for (const layer of this.layout.blocks[b].linears) {
        this.#offloaded.set(layer.weight, (await w.linears.get(layer.name)!.weight.read()) as Float32Array);
      }
    }
    releaseBlock(w);
    this.#blocks.delete(b);
  }

  /** Indices of the blocks currently on the GPU. */
  get residentBlocks(): number[] {
    return [...this.#blocks.keys()].sort((a, b) => a - b);
  }

  // ------------------------------------------------------------------------------------------
  // CausalLM

  async embed(ids: Uint32Array, batch: number, seqLen: number): Promise<Tensor> {
    this.#checkAlive();
    this.#checkIds("embed", ids, batch, seqLen);
    const n = batch * seqLen;
    const offset = this.layout.positionEmbedding?.offset ?? 0;
    const positions = Uint32Array.from({ length: n }, (_, r) => (r % seqLen) + offset);
    const idsT = upload(this.gpu, ids, [n], "token ids");
    const posT = upload(this.gpu, positions, [n], "positions");
    try {
      return await this.embedTokens(idsT, posT, n);
    } finally {
      idsT.release();
      posT.release();
    }
  }

  async runBlock(b: number, hidden: Tensor, batch: number, seqLen: number, hooks: ForwardHooks = {}): Promise<Tensor> {
    const w = await this.block(b);
    this.#checkHidden("runBlock", hidden, batch * seqLen);
    checkWindows("runBlock", batch, seqLen, this.config.maxPositions);
    return this.forwardBlock(w, hidden, batch, seqLen, hooks);
  }

  async nll(hidden: Tensor, ids: Uint32Array, batch: number, seqLen: number): Promise<Float32Array> {
    this.#checkAlive();
    this.#checkIds("nll", ids, batch, seqLen);
    this.#checkHidden("nll", hidden, batch * seqLen);
    const m = batch * (seqLen - 1);
    if (m === 0) return new Float32Array(0);
    const rows = new Uint32Array(m), targets = new Uint32Array(m);
    for (let b = 0, i = 0; b < batch; b++) {
      for (let t = 0; t < seqLen - 1; t++, i++) {
        rows[i] = b * seqLen + t; // the prediction at position t ...
        targets[i] = ids[b * seqLen + t + 1]; // ... of the token at t + 1
      }
    }
    const final = await this.#finalRows(hidden, rows); // [m, embedDim]
    const targetsT = upload(this.gpu, targets, [m], "targets");
    try {
      const out = await this.#headNll(final, targetsT);
      const values = (await out.read()) as Float32Array;
      out.release();
      return values;
    } finally {
      final.release();
      targetsT.release();
    }
  }

  async logits(hidden: Tensor, rows: readonly number[]): Promise<Float32Array> {
    this.#checkAlive();
    const n = hidden.shape[0];
    this.#checkHidden("logits", hidden, n);
    for (const r of rows) {
      if (!Number.isInteger(r) || r < 0 || r >= n) {
        throw new RangeError(`logits: row ${r} is out of range; expected an integer in [0, ${n})`);
      }
    }
    const m = rows.length, V = this.globals.lmHead.rows;
    if (m === 0) return new Float32Array(0);
    const final = await this.#finalRows(hidden, Uint32Array.from(rows));
    const out = new Float32Array(m * V);
    const parts: Tensor[] = [];
    try {
      const chunks = this.globals.lmHead.chunks;
      for (const { tensor } of chunks) {
        parts.push(await matmulNew(mat(final), mat(tensor), { transB: true }, "logits")); // [m, chunk]
      }
      const values = await readAll(...parts); //                       one round trip for every chunk
      for (const [i, { lo, tensor }] of chunks.entries()) {
        const width = tensor.shape[0];
        for (let r = 0; r < m; r++) out.set(values[i].subarray(r * width, (r + 1) * width), r * V + lo);
      }
    } finally {
      final.release();
      for (const p of parts) p.release();
    }
    return out;
  }

  async blockLinears(b: number): Promise<LinearWeights[]> {
    const w = await this.block(b);
    this.#modified.add(b); // handed out: pruning may change them in place
    return this.layout.blocks[b].linears.map((l) => w.linears.get(l.name)!);
  }

  async setLinearWeight(b: number, name: string, weight: Tensor): Promise<void> {
    const w = await this.block(b);
    const layer = this.layout.blocks[b].linears.find((l) => l.name === name);
    if (!layer) {
      const names = this.layout.blocks[b].linears.map((l) => l.name).join(", ");
      throw new RangeError(`setLinearWeight: block ${b} has no linear layer "${name}"; it has ${names}`);
    }
    weight.assertAlive();
    const [out, inF] = [layer.outFeatures, layer.inFeatures];
    if (weight.dtype !== "f32" || weight.shape.length !== 2 || weight.shape[0] !== out || weight.shape[1] !== inF) {
      throw new RangeError(
        `setLinearWeight: ${name} of block ${b} needs an f32 [${out}, ${inF}] tensor but "${weight.label}" is ` +
          `${weight.dtype} [${weight.shape.join(", ")}]`,
      );
    }
    const current = w.linears.get(name)!;
    if (current.weight !== weight) current.weight.release();
    w.linears.set(name, { name, weight, bias: current.bias });
    this.#modified.add(b);
  }

  checkpointTensors(): Map<string, TensorInput> {
    this.#checkAlive();
    const out = new Map<string, TensorInput>();
    const linearOf = new Map<string, { block: number; layer: LinearLayer }>();
    for (const block of this.layout.blocks) {
      for (const layer of block.linears) linearOf.set(layer.weight, { block: block.index, layer });
    }
    for (const { name, shape } of this.layout.tensors) {
      const owner = linearOf.get(name);
      const data = owner && this.#modified.has(owner.block)
        ? () => this.#currentWeight(owner.block, owner.layer)
        : async () => (await this.checkpoint.readFloat32(name)).data;
      out.set(name, { dtype: "F32", shape, data });
    }
    return out;
  }

  /** The current values of a linear weight in its stored layout (Conv1D transposed back). */
  async #currentWeight(b: number, layer: LinearLayer): Promise<Float32Array> {
    const resident = this.#blocks.get(b)?.linears.get(layer.name);
    const data = resident ? (await resident.weight.read()) as Float32Array : this.#offloaded.get(layer.weight);
    if (!data) return (await this.checkpoint.readFloat32(layer.weight)).data;
    return layer.transposed ? transpose(data, layer.outFeatures, layer.inFeatures) : data;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const w of this.#blocks.values()) releaseBlock(w);
    this.#blocks.clear();
    this.#offloaded.clear();
    const g = this.globals;
    if (!g) return;
    releaseRowChunks(g.tokenEmbedding);
    if (g.lmHead !== g.tokenEmbedding) releaseRowChunks(g.lmHead);
    if (g.positionEmbedding) releaseRowChunks(g.positionEmbedding);
    for (const l of [g.projectIn, g.projectOut]) releaseLinear(l);
    releaseNorm(g.finalNorm);
    this.releaseCaches();
  }

  /** Families free their own caches (e.g. rotary tables) here. */
  protected releaseCaches(): void {}

  // ------------------------------------------------------------------------------------------
  // shared pieces

  /** Calls the hook of the group fed by `input` with x. */
  protected async observe(hooks: ForwardHooks, input: string, x: Tensor): Promise<void> {
    if (!hooks.onLinearInput) return;
    const group = this.linearGroups.find((g) => g.input === input);
    if (!group) throw new Error(`${this.config.family}: no linear group reads "${input}"`);
    await hooks.onLinearInput(group, mat(x));
  }

  /** The linear layer `name` of a block's weights. */
  protected linearOf(w: BlockWeights, name: string): LinearWeights {
    const l = w.linears.get(name);
    if (!l) throw new Error(`${this.config.family} block ${w.index}: no linear layer "${name}"`);
    return l;
  }

  /** Gathers rows of `hidden` and applies the family's final norm: [rows.length, lmHead.cols]. */
  async #finalRows(hidden: Tensor, rows: Uint32Array): Promise<Tensor> {
    const rowsT = upload(this.gpu, rows, [rows.length], "rows");
    const picked = empty(this.gpu, [rows.length, hidden.shape[1]], "f32", "picked rows");
    let final: Tensor | null = null;
    try {
      await gatherRows(rowsT, hidden, picked);
      final = await this.finalHidden(picked);
      return final;
    } finally {
      rowsT.release();
      if (final !== picked) picked.release();
    }
  }

  /**
   * NLL of each row of x [m, embedDim] against `targets`, with the LM head applied one block of
   * vocabulary columns at a time (a [m, block] logits buffer), reduced on the GPU.
   */
  async #headNll(x: Tensor, targets: Tensor): Promise<Tensor> {
    const m = x.shape[0];
    const head = this.globals.lmHead;
    const budget = Math.min(
      this.options.logitsBytes ?? DEFAULT_LOGITS_BYTES,
      this.gpu.limits.maxStorageBufferBindingSize,
    );
    const largestChunk = Math.max(...head.chunks.map((c) => c.tensor.shape[0]));
    const width = Math.max(1, Math.min(largestChunk, Math.floor(budget / (4 * m))));
    const logits = empty(this.gpu, [m, width], "f32", "logits");
    const state = empty(this.gpu, [m, 3], "f32", "nll state");
    const out = empty(this.gpu, [m], "f32", "nll");
    try {
      for (const [i, { lo, tensor }] of head.chunks.entries()) {
        const chunkRows = tensor.shape[0];
        for (let v0 = 0; v0 < chunkRows; v0 += width) {
          const n = Math.min(width, chunkRows - v0); // vocabulary ids lo+v0 .. lo+v0+n−1
          const headRows = sub(mat(tensor), v0, 0, n, head.cols); // [n, embedDim]
          const view: MatrixView = { tensor: logits, offset: 0, rows: m, cols: n, ld: width };
          await matmul(mat(x), headRows, view, { transB: true }); // [m, n] = x · W[v0:v0+n]ᵀ
          await nllUpdate(view, targets, state, out, {
            lo: lo + v0,
            first: i === 0 && v0 === 0,
            last: i === head.chunks.length - 1 && v0 + n >= chunkRows,
          });
        }
      }
      return out;
    } catch (err) {
      out.release();
      throw err;
    } finally {
      logits.release();
      state.release();
    }
  }

  #checkAlive(): void {
    if (this.#released) throw new Error(`${this.config.family} model was used after release()`);
  }

  #checkIds(op: string, ids: Uint32Array, batch: number, seqLen: number): void {
    checkWindows(op, batch, seqLen, this.config.maxPositions);
    if (!(ids instanceof Uint32Array)) throw new TypeError(`${op}: ids must be a Uint32Array`);
    if (ids.length !== batch * seqLen) {
      throw new RangeError(
        `${op}: ids has ${ids.length} tokens; expected batch·seqLen = ${batch}·${seqLen} = ${batch * seqLen}`,
      );
    }
    const vocab = this.config.vocabSize;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] >= vocab) {
        throw new RangeError(
          `${op}: token id ${ids[i]} at index ${i} is out of range; expected ids < vocab size ${vocab}`,
        );
      }
    }
  }

  #checkHidden(op: string, hidden: Tensor, rows: number): void {
    hidden.assertAlive();
    const d = this.config.hiddenSize;
    if (hidden.dtype !== "f32" || hidden.shape.length !== 2 || hidden.shape[0] !== rows || hidden.shape[1] !== d) {
      throw new RangeError(
        `${op}: hidden "${hidden.label}" is ${hidden.dtype} [${hidden.shape.join(", ")}]; expected f32 [${rows}, ${d}]`,
      );
    }
  }
}

function checkWindows(op: string, batch: number, seqLen: number, maxPositions: number): void {
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`${op}: batch is ${batch}; expected an integer >= 1`);
  if (!Number.isInteger(seqLen) || seqLen < 1) {
    throw new RangeError(`${op}: seqLen is ${seqLen}; expected an integer >= 1`);
  }
  if (seqLen > maxPositions) {
    throw new RangeError(`${op}: seqLen ${seqLen} exceeds the model's context of ${maxPositions} positions`);
  }
}

/** The linear groups of a block: layers with the same `input`, in forward order. */
function groupsOf(block: BlockLayout | undefined): LinearGroup[] {
  const groups: { input: string; names: string[]; inFeatures: number }[] = [];
  for (const l of block?.linears ?? []) {
    const g = groups.find((x) => x.input === l.input);
    if (g) g.names.push(l.name);
    else groups.push({ input: l.input, names: [l.name], inFeatures: l.inFeatures });
  }
  return groups;
}

function releaseLinear(l: LinearWeights | null): void {
  l?.weight.release();
  l?.bias?.release();
}

function releaseNorm(n: NormWeights | null): void {
  n?.weight.release();
  n?.bias?.release();
}

function releaseBlock(w: BlockWeights): void {
  releaseNorm(w.attentionNorm);
  releaseNorm(w.mlpNorm);
  for (const l of w.linears.values()) releaseLinear(l);
}
