/**
 * The causal language model the pruning pipeline drives, and what the three families share.
 *
 * {@link CausalLM} is the contract: embed token windows, run one decoder block at a time (with a
 * hook that sees every linear layer's input, once per distinct input), compute next-token NLL
 * (final norm + LM head + log-softmax on the GPU), hand out and replace a block's linear weights.
 * The families (llama.ts, opt.ts, gpt2.ts) each write their forward pass in one readable file on
 * top of {@link DecoderModel}, which checks arguments, computes the LM head and delegates where
 * weights live (resident, lazily loaded, streamed, written back) to a {@link WeightStore}.
 *
 * Ownership: a function that returns a tensor hands it to the caller; everything else a forward
 * pass allocates is declared with `using`, so it is freed when its scope ends — also when a
 * kernel throws.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { empty, filledBy, readAll, type Tensor, upload } from "../gpu/tensor.ts";
import { matmul, matmulNew, matmulRowStack, REGISTER_K_PER_DISPATCH, TILED_K_PER_DISPATCH } from "../linalg/matmul.ts";
import { matmulHalfWeight } from "../linalg/matmul_half.ts";
import { sparseMatmulNew } from "../linalg/sparse_matmul.ts";
import { mat, type MatrixView, sub } from "../linalg/view.ts";
import type { Checkpoint } from "./checkpoint.ts";
import type { ModelConfig } from "./config.ts";
import type { BlockLayout, ModelLayout } from "./layout.ts";
import {
  type AttentionShape,
  biasAdd,
  causalAttention,
  type FiniteSlot,
  gatherRows,
  layerNorm,
  type NllChunk,
  nllUpdate,
  residualAdd,
  rmsNorm,
} from "./ops.ts";
import type { TensorInput } from "./safetensors.ts";
import { ActivationWatch } from "./finite.ts";
import { recordFirstNonFinite } from "../linalg/finite.ts";
import {
  type BlockWeights,
  type F32LinearWeights,
  type GlobalWeights,
  type LinearWeightBytes,
  type LinearWeights,
  type NormWeights,
  type ResidencyOptions,
  transpose,
  WeightStore,
} from "./weights.ts";
import { tokenLogprobUpdate } from "./token_logprob.ts";

export type { BlockWeights, GlobalWeights, LinearWeightBytes, LinearWeights, NormWeights } from "./weights.ts";
export { transpose };

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
   * [batch·seqLen, inFeatures]. X may be a window of a larger tensor (LLaMA's MLP hidden layer is
   * written with its rows padded to a multiple of 64: ld ≥ cols): read row r at offset + r·ld. The
   * view is only valid during the call; awaited before the forward pass continues.
   */
  onLinearInput?(group: LinearGroup, x: MatrixView): Promise<void> | void;
}

/** The model interface of the pruning pipeline (see the module documentation). */
export interface CausalLM {
  readonly config: ModelConfig;
  readonly layout: ModelLayout;
  readonly numBlocks: number;
  /**
   * the groups of every block (the same in all blocks), in forward order — observeBlock ends a
   * pass at the last one's input, so a family must list them in the order its block reads them
   */
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
   * Runs decoder block `b` for its linear layers' inputs only: calls `hooks.onLinearInput` for
   * every group, in forward order, as {@link runBlock} does, and skips what only the block's
   * output needs — the last group's layers and what follows them (LLaMA's down projection and
   * residual). The pruning pipeline's calibration forward, whose output nobody reads.
   * @param hidden f32 [batch·seqLen, hiddenSize]; not modified or released
   */
  observeBlock(b: number, hidden: Tensor, batch: number, seqLen: number, hooks: ForwardHooks): Promise<void>;
  /**
   * Reads the NaN/Inf checks recorded at block boundaries since the last check (one small
   * readback; `nll` does it with its own) and clears them.
   * @throws NonFiniteError naming the first block and layer whose activations are not finite
   */
  checkActivations(): Promise<void>;
  /**
   * Next-token NLL: final norm, LM head and log-softmax of each window's positions 0..seqLen−2
   * against the tokens at 1..seqLen−1. The vocabulary is reduced on the GPU.
   * @param hidden f32 [batch·seqLen, hiddenSize], the last block's output (not released)
   * @param ids the same [batch·seqLen] ids that were embedded
   * @returns [batch·(seqLen−1)] NLL values in nats, window-major
   */
  nll(hidden: Tensor, ids: Uint32Array, batch: number, seqLen: number): Promise<Float32Array>;
  /**
   * Log-probability of chosen tokens and whether each is the greedy choice: final norm, LM head
   * and log-softmax of rows of `hidden` on the GPU, reduced over the vocabulary there; only
   * [rows, 2] values come back (lm-eval's loglikelihood requests, thanos/zeroshot/).
   * @param hidden f32 [n, hiddenSize], the last block's output (not released)
   * @param rows row indices into `hidden`
   * @param targets the token scored at each row (same length as `rows`)
   * @returns [rows.length, 2]: (log p(target), 1 if target is the first argmax else 0)
   */
  tokenLogprobs(hidden: Tensor, rows: Uint32Array, targets: Uint32Array): Promise<Float32Array>;
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
  blockLinears(b: number): Promise<F32LinearWeights[]>;
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
  /**
   * GPU bytes held by the linear weights of the blocks now on the GPU (and OPT's projections): those
   * held dense and those held compressed (a compressed checkpoint loaded without `denseWeights`).
   */
  linearWeightBytes(): LinearWeightBytes;
  /** Frees every GPU tensor the model holds. */
  release(): void;
}

/** Options of `loadModel` that shape how weights live on the GPU. */
export interface ModelOptions extends ResidencyOptions {
  /** Bytes of logits computed per LM head matmul (default 64 MiB, capped by the binding limit). */
  logitsBytes?: number;
}

const DEFAULT_LOGITS_BYTES = 64 * 1024 * 1024;

/**
 * y = x·Wᵀ + b for x [rows, in] and W [out, in]: the dense product, from halves, or the sparse one
 * when the layer is held compressed ({@link LinearWeights.sparse}, which needs x as a whole tensor).
 * @param x the input, a tensor or a view (e.g. the unpadded window of a row-padded activation)
 * @returns a new f32 [rows, out] tensor labelled `label`
 */
export async function linear(x: Tensor | MatrixView, layer: LinearWeights, label = layer.name): Promise<Tensor> {
  const view = "tensor" in x ? x : mat(x);
  if (layer.sparse) {
    const y = await sparseMatmulNew(layer.sparse, wholeTensor(view, layer.name), label); // [rows, out], W held compressed
    return filledBy(y, (y) => layer.bias && biasAdd(y, layer.bias));
  }
  if (!layer.weight) {
    const y = empty(view.tensor.gpu, [view.rows, layer.half!.rows], "f32", label); //   [rows, out], W kept in halves
    return filledBy(y, async (y) => {
      await matmulHalfWeight(view, layer.half!, mat(y));
      if (layer.bias) await biasAdd(y, layer.bias);
    });
  }
  const y = await matmulNew(view, mat(layer.weight), { transB: true }, label); // [rows, out]
  return filledBy(y, (y) => layer.bias && biasAdd(y, layer.bias));
}

/** The tensor a view covers whole (the sparse product reads x as a tensor). */
function wholeTensor(v: MatrixView, layer: string): Tensor {
  const t = v.tensor;
  if (v.offset !== 0 || v.ld !== v.cols || t.shape.length !== 2 || t.shape[0] !== v.rows || t.shape[1] !== v.cols) {
    throw new Error(`linear: the input of compressed layer "${layer}" must be a whole tensor, not a window of one`);
  }
  return t;
}

/** The outputs of a linear group's layers on one input (see {@link linearGroup}). */
export interface GroupOutputs extends Disposable {
  /** layer i's output [rows, out_i], in the order the layers were given */
  readonly views: readonly MatrixView[];
}

/**
 * The layers of a linear group applied to the same input: with every layer dense f32 and without
 * bias, ONE product into a [rows, Σ out_i] tensor whose column windows are the outputs
 * (`matmulRowStack`: bit for bit each layer's own product, one pass over x and one wide grid)
 * when that tensor fits one storage binding; otherwise {@link linear} per layer.
 * @returns the outputs as views; dispose of the result to free them
 * @example
 * ```ts
 * using qkv = await linearGroup(h, [wq, wk, wv]);
 * const [q, k, v] = qkv.views;
 * ```
 */
export async function linearGroup(x: Tensor, layers: readonly LinearWeights[]): Promise<GroupOutputs> {
  const tensors: Tensor[] = [];
  const outputs = (views: MatrixView[]): GroupOutputs => ({
    views,
    [Symbol.dispose]: () => tensors.forEach((t) => t.release()),
  });
  try {
    const weights = layers.flatMap((l) => l.weight && !l.bias && !l.sparse ? [l.weight] : []); // the dense ones
    const total = weights.reduce((n, w) => n + w.shape[0], 0);
    // one product when every layer is dense and one binding holds the outputs
    if (layers.length > 1 && weights.length === layers.length && x.shape[0] * total * 4 <= x.gpu.bindingLimit) {
      const y = empty(x.gpu, [x.shape[0], total], "f32", layers.map((l) => l.name).join("+"));
      tensors.push(y);
      await matmulRowStack(mat(x), weights, mat(y));
      let j = 0;
      return outputs(weights.map((w) => {
        const v = sub(mat(y), 0, j, x.shape[0], w.shape[0]);
        j += w.shape[0];
        return v;
      }));
    }
    for (const l of layers) tensors.push(await linear(x, l));
    return outputs(tensors.map((t) => mat(t)));
  } catch (err) {
    tensors.forEach((t) => t.release());
    throw err;
  }
}

/**
 * A residual branch's output added to the stream: skip + x·Wᵀ + b. For a dense layer without
 * bias whose product takes one pass over k, the stream is copied into the output and the product
 * accumulated onto it (one kernel less; skip + x·Wᵀ equals x·Wᵀ + skip bit for bit, the addition
 * being commutative); otherwise {@link linear} then a residual add.
 * @param skip the residual stream [rows, out] (not modified)
 * @param x the branch's input, a tensor or a view
 * @param check where the NaN/Inf check of the sum goes (in the residual add's pass where there is one)
 * @returns a new f32 [rows, out] tensor labelled "residual"
 */
export async function residual(
  skip: Tensor,
  x: Tensor | MatrixView,
  layer: LinearWeights,
  check?: FiniteSlot,
): Promise<Tensor> {
  const view = "tensor" in x ? x : mat(x);
  if (layer.weight && !layer.bias && view.cols <= SINGLE_PASS_K) {
    const y = empty(skip.gpu, [view.rows, layer.weight.shape[0]], "f32", "residual");
    return filledBy(y, async (y) => {
      if (skip.size !== y.size) {
        throw new RangeError(`residual: the stream "${skip.label}" is [${skip.shape}]; expected [${y.shape}]`);
      }
      skip.assertAlive();
      skip.gpu.recorder.copy(skip.buffer, 0, y.buffer, 0, y.byteLength);
      await matmul(view, mat(layer.weight!), mat(y), { transB: true, accumulate: true });
      if (check) await recordFirstNonFinite(y, check.flags, check.slot);
    });
  }
  const y = await linear(view, layer, "residual"); // [rows, out]
  return filledBy(y, (y) => residualAdd(y, skip, check));
}

/** Depth up to which every matmul variant sums k in one pass (a single dispatch's store). */
const SINGLE_PASS_K = Math.min(REGISTER_K_PER_DISPATCH, TILED_K_PER_DISPATCH);

/**
 * Causal self-attention with the 1/sqrt(headDim) scale every supported family uses (see
 * `causalAttention`); q, k and v may be windows of one fused projection.
 * @param check where the NaN/Inf check of the output goes (recorded by the kernel as it writes)
 * @returns a new f32 [batch·seqLen, heads·headDim] tensor labelled "attention"
 */
export function attention(
  q: MatrixView,
  k: MatrixView,
  v: MatrixView,
  shape: Omit<AttentionShape, "scale">,
  check?: FiniteSlot,
): Promise<Tensor> {
  const out = empty(q.tensor.gpu, [shape.batch * shape.seqLen, shape.heads * shape.headDim], "f32", "attention");
  const full = { ...shape, scale: shape.headDim ** -0.5 };
  return filledBy(out, (out) => causalAttention(q, k, v, out, full, undefined, check));
}

/**
 * RMSNorm or LayerNorm of x [rows, d] with the given weights.
 * @param check where the NaN/Inf check of the result goes (recorded by RMSNorm's own pass)
 * @returns a new tensor
 */
export async function applyNorm(x: Tensor, n: NormWeights, check?: FiniteSlot): Promise<Tensor> {
  if (n.kind === "rmsnorm") return await rmsNorm(x, n.weight, n.eps, undefined, check);
  const y = await layerNorm(x, n.weight, n.bias!, n.eps);
  return filledBy(y, (y) => check && recordFirstNonFinite(y, check.flags, check.slot));
}

/** Ends an {@link DecoderModel.observeBlock} pass once the last linear group's input was seen. */
class InputsSeen extends Error {
  constructor() {
    super("observeBlock: the last linear group's input was seen");
  }
}

/**
 * Everything the families share: argument checks, the LM head with a vocabulary-chunked NLL, and
 * the hook plumbing; the weights come from a {@link WeightStore}. A family implements
 * {@link embedTokens}, {@link forwardBlock} and {@link finalHidden}.
 */
export abstract class DecoderModel<C extends ModelConfig = ModelConfig> implements CausalLM {
  readonly config: C;
  readonly layout: ModelLayout;
  readonly numBlocks: number;
  readonly linearGroups: readonly LinearGroup[];
  readonly gpu: Gpu;
  readonly checkpoint: Checkpoint;
  readonly options: Readonly<ModelOptions>;
  /** tensors a family caches across calls (e.g. rotary tables), freed by {@link release} */
  protected readonly caches = new DisposableStack();
  readonly #weights: WeightStore;
  #released = false;
  /** NaN/Inf checks of activations at block boundaries (see finite.ts) */
  readonly #watch: ActivationWatch;
  /** the block being run, for the checks recorded by {@link observe} */
  #current = 0;
  /** the block being run took on its output's NaN/Inf check ({@link outputSlot}) */
  #outputChecked = false;
  /** the block is run by {@link observeBlock}: stop after the last group's input */
  #inputsOnly = false;

  constructor(checkpoint: Checkpoint, gpu: Gpu, options: ModelOptions = {}) {
    this.checkpoint = checkpoint;
    this.config = checkpoint.config as C;
    this.layout = checkpoint.layout;
    this.numBlocks = checkpoint.layout.blocks.length;
    this.gpu = gpu;
    this.options = options;
    this.linearGroups = groupsOf(checkpoint.layout.blocks[0]);
    this.#weights = new WeightStore(checkpoint, gpu, options);
    this.#watch = new ActivationWatch(gpu, this.numBlocks, this.linearGroups, this.config.hiddenSize);
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

  /** The resident weights (embeddings, final norm, LM head). */
  protected get globals(): GlobalWeights {
    return this.#weights.globals;
  }

  // ------------------------------------------------------------------------------------------
  // loading

  /** Loads the resident weights; called once by `loadModel`. */
  init(): Promise<void> {
    return this.#weights.loadGlobals();
  }

  /** Block `b`'s weights, loading them (and, when streaming, evicting the others) if needed. */
  protected block(b: number): Promise<BlockWeights> {
    this.#checkAlive();
    if (!Number.isInteger(b) || b < 0 || b >= this.numBlocks) {
      throw new RangeError(`block index ${b} is out of range; expected an integer in [0, ${this.numBlocks})`);
    }
    return this.#weights.block(b);
  }

  /**
   * Block `b`'s weights (loaded if needed) for read-only use by the KV-cache decoder
   * (thanos/decode/), which runs the families' block math one token at a time.
   */
  decoderBlock(b: number): Promise<BlockWeights> {
    return this.block(b);
  }

  /** The resident weights (embeddings, final norm, LM head) for read-only use by the decoder. */
  decoderGlobals(): GlobalWeights {
    this.#checkAlive();
    return this.globals;
  }

  linearWeightBytes(): LinearWeightBytes {
    this.#checkAlive();
    return this.#weights.linearBytes();
  }

  /** Indices of the blocks currently on the GPU. */
  get residentBlocks(): number[] {
    return this.#weights.residentBlocks;
  }

  // ------------------------------------------------------------------------------------------
  // CausalLM

  async embed(ids: Uint32Array, batch: number, seqLen: number): Promise<Tensor> {
    this.#checkAlive();
    this.#checkIds("embed", ids, batch, seqLen);
    const n = batch * seqLen;
    const offset = this.layout.positionEmbedding?.offset ?? 0;
    const positions = Uint32Array.from({ length: n }, (_, r) => (r % seqLen) + offset);
    using idsT = upload(this.gpu, ids, [n], "token ids");
    using posT = upload(this.gpu, positions, [n], "positions");
    return await this.embedTokens(idsT, posT, n);
  }

  async runBlock(b: number, hidden: Tensor, batch: number, seqLen: number, hooks: ForwardHooks = {}): Promise<Tensor> {
    const w = await this.block(b);
    this.#checkHidden("runBlock", hidden, batch * seqLen);
    checkWindows("runBlock", batch, seqLen, this.config.maxPositions);
    this.#current = b;
    this.#outputChecked = false;
    const out = await this.forwardBlock(w, hidden, batch, seqLen, hooks);
    return filledBy(out, (out) => this.#outputChecked || this.#watch.record(b, null, out));
  }

  async observeBlock(b: number, hidden: Tensor, batch: number, seqLen: number, hooks: ForwardHooks): Promise<void> {
    this.#inputsOnly = true;
    try {
      // the last group's observe() ends the pass by throwing InputsSeen; every tensor the block
      // made is freed on the way out by its `using` (as for any error inside a block)
      (await this.runBlock(b, hidden, batch, seqLen, hooks)).release(); // a family without linear groups
    } catch (err) {
      if (!(err instanceof InputsSeen)) throw err;
    } finally {
      this.#inputsOnly = false;
    }
  }

  checkActivations(): Promise<void> {
    return this.#watch.check();
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
    using final = await this.#finalRows(hidden, rows); // [m, embedDim]
    using targetsT = upload(this.gpu, targets, [m], "targets");
    using out = await this.#headNll(final, targetsT); // [m]
    const [values, flags] = await readAll(out, this.#watch.flags); // one round trip for both
    this.#watch.verify(flags, { seqLen });
    return values as Float32Array;
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
    using final = await this.#finalRows(hidden, Uint32Array.from(rows)); // [m, embedDim]
    using parts = new DisposableStack();
    const chunks = this.globals.lmHead.chunks;
    const logits: Tensor[] = [];
    for (const { tensor } of chunks) {
      logits.push(parts.use(await matmulNew(mat(final), mat(tensor), { transB: true }, "logits"))); // [m, chunk]
    }
    const values = await readAll(...logits); //                         one round trip for every chunk
    const out = new Float32Array(m * V);
    for (const [i, { lo, tensor }] of chunks.entries()) {
      const width = tensor.shape[0];
      for (let r = 0; r < m; r++) out.set(values[i].subarray(r * width, (r + 1) * width), r * V + lo);
    }
    return out;
  }

  async tokenLogprobs(hidden: Tensor, rows: Uint32Array, targets: Uint32Array): Promise<Float32Array> {
    this.#checkAlive();
    const n = hidden.shape[0];
    this.#checkHidden("tokenLogprobs", hidden, n);
    if (targets.length !== rows.length) {
      throw new RangeError(`tokenLogprobs: ${targets.length} targets for ${rows.length} rows; expected one per row`);
    }
    const V = this.config.vocabSize;
    rows.forEach((r, i) => {
      if (r >= n) throw new RangeError(`tokenLogprobs: row ${r} is out of range; expected < ${n}`);
      if (targets[i] >= V) {
        throw new RangeError(`tokenLogprobs: target ${targets[i]} is outside the vocabulary of ${V}`);
      }
    });
    const m = rows.length;
    if (m === 0) return new Float32Array(0);
    using final = await this.#finalRows(hidden, rows); // [m, embedDim]
    using targetsT = upload(this.gpu, targets, [m], "targets");
    using state = empty(this.gpu, [m, 4], "f32", "token logprob state");
    using scores = empty(this.gpu, [m, 2], "f32", "token logprobs");
    await this.#forEachLogitsBlock(
      final,
      (logits, chunk) => tokenLogprobUpdate(logits, targetsT, state, scores, chunk),
    );
    return (await scores.read()) as Float32Array;
  }

  async blockLinears(b: number): Promise<F32LinearWeights[]> {
    await this.block(b);
    this.#weights.markModified(b); // handed out: pruning may change them in place
    const out: F32LinearWeights[] = [];
    for (const l of this.layout.blocks[b].linears) out.push(await this.#weights.widenLinear(b, l.name)); // f32 to prune
    return out;
  }

  async setLinearWeight(b: number, name: string, weight: Tensor): Promise<void> {
    await this.block(b);
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
    this.#weights.replaceLinear(b, name, weight);
  }

  checkpointTensors(): Map<string, TensorInput> {
    this.#checkAlive();
    return this.#weights.checkpointTensors();
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#weights[Symbol.dispose]();
    this.#watch[Symbol.dispose]();
    this.caches.dispose();
  }

  // ------------------------------------------------------------------------------------------
  // shared pieces

  /**
   * Calls the hook of the group fed by `input` with x, after recording x's NaN/Inf check (no
   * readback) — unless `checked`: the kernel that wrote x recorded it into {@link watchSlot}.
   * @param x the group's input, a tensor, or a view (of a checked one: a window cannot be checked here)
   */
  protected async observe(
    hooks: ForwardHooks,
    input: string,
    x: Tensor | MatrixView,
    { checked = false } = {},
  ): Promise<void> {
    const group = this.#group(input);
    if (!checked) {
      if ("tensor" in x) {
        throw new Error(`observe: the window of "${input}" must be checked by the kernel that wrote it`);
      }
      await this.#watch.record(this.#current, group, x);
    }
    if (hooks.onLinearInput) await hooks.onLinearInput(group, "tensor" in x ? x : mat(x));
    if (this.#inputsOnly && group === this.linearGroups.at(-1)) throw new InputsSeen(); // observeBlock is done
  }

  /** Where a kernel writing the input of the group fed by `input` records its NaN/Inf check. */
  protected watchSlot(input: string): FiniteSlot {
    return this.#watch.slot(this.#current, this.#group(input));
  }

  /**
   * Where the kernel writing the block's output records its NaN/Inf check; a family that asks
   * takes it on (`runBlock` then records none of its own).
   */
  protected outputSlot(): FiniteSlot {
    this.#outputChecked = true;
    return this.#watch.slot(this.#current, null);
  }

  #group(input: string): LinearGroup {
    const group = this.linearGroups.find((g) => g.input === input);
    if (!group) throw new Error(`${this.config.family}: no linear group reads "${input}"`);
    return group;
  }

  /** The linear layer `name` of a block's weights. */
  protected linearOf(w: BlockWeights, name: string): LinearWeights {
    const l = w.linears.get(name);
    if (!l) throw new Error(`${this.config.family} block ${w.index}: no linear layer "${name}"`);
    return l;
  }

  /** Gathers rows of `hidden` and applies the family's final norm: a new [rows.length, lmHead.cols]. */
  async #finalRows(hidden: Tensor, rows: Uint32Array): Promise<Tensor> {
    using rowsT = upload(this.gpu, rows, [rows.length], "rows");
    const picked = empty(this.gpu, [rows.length, hidden.shape[1]], "f32", "picked rows");
    let final: Tensor | null = null;
    try {
      await gatherRows(rowsT, hidden, picked);
      final = await this.finalHidden(picked);
      return final;
    } finally {
      if (final !== picked) picked.release(); // finalHidden made a new tensor, or threw
    }
  }

  /**
   * NLL of each row of x [m, embedDim] against `targets`, with the LM head applied one block of
   * vocabulary columns at a time (a [m, block] logits buffer), reduced on the GPU.
   * @returns a new f32 [m]
   */
  async #headNll(x: Tensor, targets: Tensor): Promise<Tensor> {
    using state = empty(this.gpu, [x.shape[0], 3], "f32", "nll state");
    return await filledBy(
      empty(this.gpu, [x.shape[0]], "f32", "nll"),
      (out) => this.#forEachLogitsBlock(x, (logits, chunk) => nllUpdate(logits, targets, state, out, chunk)),
    );
  }

  /**
   * The LM head applied to x [m, embedDim] one block of vocabulary columns at a time, in vocabulary
   * order: `reduce(logits, chunk)` gets each block's logits [m, n] (one reused buffer of at most
   * `logitsBytes`) and where it lies in the vocabulary, so a running reduction never holds the
   * whole [m, vocab] matrix.
   */
  async #forEachLogitsBlock(
    x: Tensor,
    reduce: (logits: MatrixView, chunk: NllChunk) => Promise<void>,
  ): Promise<void> {
    const m = x.shape[0];
    const head = this.globals.lmHead;
    const budget = Math.min(
      this.options.logitsBytes ?? DEFAULT_LOGITS_BYTES,
      this.gpu.limits.maxStorageBufferBindingSize,
    );
    const largestChunk = Math.max(...head.chunks.map((c) => c.tensor.shape[0]));
    const width = Math.max(1, Math.min(largestChunk, Math.floor(budget / (4 * m))));
    using buffer = empty(this.gpu, [m, width], "f32", "logits");
    for (const [i, { lo, tensor }] of head.chunks.entries()) {
      const chunkRows = tensor.shape[0];
      for (let v0 = 0; v0 < chunkRows; v0 += width) {
        const n = Math.min(width, chunkRows - v0); // vocabulary ids lo+v0 .. lo+v0+n−1
        const headRows = sub(mat(tensor), v0, 0, n, head.cols); // [n, embedDim]
        const logits: MatrixView = { tensor: buffer, offset: 0, rows: m, cols: n, ld: width };
        await matmul(mat(x), headRows, logits, { transB: true }); // [m, n] = x · W[v0:v0+n]ᵀ
        await reduce(logits, {
          lo: lo + v0,
          first: i === 0 && v0 === 0,
          last: i === head.chunks.length - 1 && v0 + n >= chunkRows,
        });
      }
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
