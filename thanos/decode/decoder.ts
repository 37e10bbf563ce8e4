/**
 * KV-cache decoding of a {@link DecoderModel}: a prefill that runs the prompt through the model's
 * batched forward pass while filling the cache, then one token at a time through matrix-vector
 * products and attention over the cache, for the three families:
 *
 *   per block (pre-norm: LLaMA, OPT, GPT-2):
 *     h = norm₁(x);  q | k | v = projections of h;  (LLaMA: q, k = RoPE at the token's position)
 *     K[pos], V[pos] = k, v;  att_h = Σ_{j ≤ pos} softmax_j(q_h·K_j / √hs) V_j  (GQA: kv head h / (nh/nkv))
 *     x += out_proj(att);  h = norm₂(x);  x += down(act(gate(h)) · up(h))   (or down(act(up(h))))
 *   post-norm (OPT-350m): x = LN₁(x + out_proj(att(x)));  x = LN₂(x + fc2(relu(fc1(x))))
 *   logits = lm_head(final(x))
 *
 * The decoder owns every buffer of a step (allocated once), and the step's bind groups are made at
 * the first step and reused (a `BindGroupCache`), so a step records its dispatches and nothing else, in
 * one submission; the logits of the newest position stay on the GPU until the caller asks for their
 * argmax ({@link Decoder.argmax}, 4 bytes back; {@link Decoder.startArgmax} without waiting, so greedy
 * decoding records the next step from it on the GPU meanwhile) or the whole row ({@link Decoder.readLogits}).
 *
 * A linear layer the model holds compressed (`LinearWeights.sparse`, a compressed checkpoint loaded
 * without `denseWeights`) is multiplied with the sparse matvecs (2:4 or bitmask) straight from its
 * compressed form; dense layers with the dense matvec. The prefill's keys and values use the batched
 * forward's own `linear` (dense, halves or sparse).
 *
 * @module
 */

import { f32Weight } from "../model/weights.ts";
import type { Gpu } from "../gpu/device.ts";
import { BindGroupCache } from "../gpu/recorder.ts";
import { empty, type Tensor } from "../gpu/tensor.ts";
import { copyView } from "../linalg/elementwise.ts";
import { mat, type MatrixView, sub } from "../linalg/view.ts";
import type { ModelConfig, ModelFamily } from "../model/config.ts";
import type { BlockWeights, CausalLM, LinearWeights, NormWeights } from "../model/forward.ts";
import { DecoderModel, linear } from "../model/forward.ts";
import { activation, gatedActivation, gatherRows, layerNorm, rmsNorm, rope as ropeInPlace } from "../model/ops.ts";
import { ropeInverseFrequencies, ropeTablesOnGpu } from "../model/rope.ts";
import { KvCache } from "./kv_cache.ts";
import { bitmaskMatvec, sparse24Matvec } from "./sparse_ops.ts";
import {
  argmax,
  decodeAttend,
  decodeAttention,
  type DecodeHeads,
  decodeScores,
  decodeSoftmax,
  fitsDecodeAttention,
  kvAppend,
  matvec,
  matvecHalf,
} from "./ops.ts";

/** The layer names a family's decode step reads (the layout's names). */
interface FamilySpec {
  /** q, k and v projections, or one fused [q | k | v] projection */
  readonly qkv: readonly string[];
  readonly out: string;
  /** the gate of a gated MLP (act(gate(h)) · up(h)), or null for act(up(h)) */
  readonly gate: string | null;
  readonly up: string;
  readonly down: string;
}

const SPECS: Record<ModelFamily, FamilySpec> = {
  llama: {
    qkv: ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"],
    out: "self_attn.o_proj",
    gate: "mlp.gate_proj",
    up: "mlp.up_proj",
    down: "mlp.down_proj",
  },
  opt: {
    qkv: ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"],
    out: "self_attn.out_proj",
    gate: null,
    up: "fc1",
    down: "fc2",
  },
  gpt2: { qkv: ["attn.c_attn"], out: "attn.c_proj", gate: null, up: "mlp.c_fc", down: "mlp.c_proj" },
};

/** Options of {@link Decoder.create}. */
export interface DecoderOptions {
  /** positions the KV cache holds: prompt + new tokens, at most the model's context */
  maxLength: number;
  /** largest tensor of one KV-cache chunk (default the device's binding limit; tests lower it) */
  maxChunkBytes?: number;
}

/** A decoding session over one sequence (see the module documentation). Release it when done. */
export class Decoder implements Disposable {
  readonly model: DecoderModel;
  readonly config: ModelConfig;
  readonly gpu: Gpu;
  readonly maxLength: number;
  readonly cache: KvCache;
  readonly #spec: FamilySpec;
  readonly #heads: DecodeHeads;
  readonly #preNorm: boolean;
  /** rotary tables [maxLength, hs/2] (LLaMA), else null */
  readonly #rope: { cos: Tensor; sin: Tensor } | null;
  readonly #invFreq: Float32Array | null;
  /** step buffers */
  readonly #buffers: Tensor[] = [];
  readonly #x: Tensor; //            [1, d] residual stream
  readonly #h: Tensor; //            [1, d] normed
  readonly #embed: Tensor | null; // [1, p] token embedding / project_out output (OPT-350m)
  readonly #qkv: Tensor; //          [nh·hs + 2·nkv·hs]
  readonly #att: Tensor; //          [1, nh·hs]
  readonly #gate: Tensor; //         [1, f]
  readonly #up: Tensor | null; //    [1, f] (gated MLPs)
  readonly #scores: Tensor; //       [nh, maxLength]
  readonly #logits: Tensor; //       [vocab]
  readonly #next: Tensor; //         u32 [1]
  readonly #ids: Tensor; //          u32 [1]
  readonly #positions: Tensor; //    u32 [1]
  /** the step's bind groups, made at the first step and reused by every later one */
  readonly #bindings = new BindGroupCache();
  /** the token #next holds (the last argmax read back), or −1 when #next may differ from it */
  #argmaxToken = -1;
  /** #next holds an argmax of the newest logits that {@link startArgmax} recorded */
  #argmaxPending = false;
  #length = 0;
  #released = false;

  private constructor(model: DecoderModel, options: DecoderOptions) {
    this.model = model;
    this.config = model.config;
    this.gpu = model.gpu;
    const c = this.config;
    this.maxLength = options.maxLength;
    this.#spec = SPECS[c.family];
    this.#heads = { heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim };
    this.#preNorm = c.family !== "opt" || c.preLayerNorm;
    const kvWidth = c.numKvHeads * c.headDim, qWidth = c.numHeads * c.headDim;
    const globals = model.decoderGlobals();
    const f = model.layout.blocks[0].linears.find((l) => l.name === this.#spec.up)!.outFeatures;
    const buf = (shape: number[], label: string, dtype: "f32" | "u32" = "f32") => {
      const t = empty(this.gpu, shape, dtype, `decode.${label}`);
      this.#buffers.push(t);
      return t;
    };
    this.cache = new KvCache(this.gpu, model.numBlocks, this.maxLength, kvWidth, options.maxChunkBytes);
    try {
      this.#x = buf([1, c.hiddenSize], "x");
      this.#h = buf([1, c.hiddenSize], "h");
      this.#embed = globals.projectIn || globals.projectOut ? buf([1, globals.tokenEmbedding.cols], "embed") : null;
      this.#qkv = buf([qWidth + 2 * kvWidth], "qkv");
      this.#att = buf([1, qWidth], "att");
      this.#gate = buf([1, f], "mlp");
      this.#up = this.#spec.gate ? buf([1, f], "up") : null;
      this.#scores = buf([c.numHeads, this.maxLength], "scores");
      this.#logits = buf([globals.lmHead.rows], "logits");
      this.#next = buf([1], "next", "u32");
      this.#ids = buf([1], "ids", "u32");
      this.#positions = buf([1], "positions", "u32");
      this.#invFreq = c.family === "llama" ? ropeInverseFrequencies(c.headDim, c.rope) : null;
      if (this.#invFreq) {
        const tables = ropeTablesOnGpu(this.gpu, this.#invFreq, this.maxLength);
        this.#buffers.push(tables.cos, tables.sin);
        this.#rope = tables;
      } else {
        this.#rope = null;
      }
    } catch (err) {
      this.release();
      throw err;
    }
  }

  /**
   * A decoder over `model` with a KV cache of `options.maxLength` positions.
   *
   * @param model a model from `loadModel` (not streaming: every block stays on the GPU)
   * @throws RangeError when maxLength is not in [1, context] or the model is streaming or unsupported
   * @example
   * ```ts
   * const model = await loadModel("models/tiny-llama");
   * using decoder = await Decoder.create(model, { maxLength: 64 });
   * await decoder.prefill(Uint32Array.from(ids));
   * const next = await decoder.argmax();
   * ```
   */
  static async create(model: CausalLM, options: DecoderOptions): Promise<Decoder> {
    if (!(model instanceof DecoderModel)) {
      throw new TypeError("Decoder: the model must come from loadModel (a DecoderModel)");
    }
    if (model.options.streaming) {
      throw new RangeError("Decoder: a streaming model keeps one block on the GPU; load it without streaming");
    }
    const context = model.config.maxPositions;
    const n = options.maxLength;
    if (!Number.isInteger(n) || n < 1 || n > context) {
      throw new RangeError(`Decoder: maxLength is ${n}; expected an integer in [1, ${context}] (the model's context)`);
    }
    for (let b = 0; b < model.numBlocks; b++) await model.decoderBlock(b); // resident before the first step
    return new Decoder(model, options);
  }

  /** Positions in the cache (prompt plus decoded tokens). */
  get length(): number {
    return this.#length;
  }

  /**
   * Runs the prompt through the model's batched forward pass, filling every block's cache with its
   * keys and values, and leaves the logits of the last prompt position on the GPU.
   * @param ids u32 [T] prompt token ids, 1 ≤ T ≤ maxLength
   */
  async prefill(ids: Uint32Array): Promise<void> {
    this.#checkAlive();
    const T = ids.length;
    if (this.#length !== 0) {
      throw new Error("Decoder.prefill: the cache already holds a sequence; create a new decoder");
    }
    if (T < 1 || T > this.maxLength) {
      throw new RangeError(`Decoder.prefill: the prompt has ${T} tokens; expected 1 to ${this.maxLength} (maxLength)`);
    }
    const m = this.model;
    const rope = this.#invFreq ? ropeTablesOnGpu(this.gpu, this.#invFreq, T) : null; // [T, hs/2]
    let hidden = await m.embed(ids, 1, T); // [T, d]
    try {
      for (let b = 0; b < m.numBlocks; b++) {
        const w = await m.decoderBlock(b);
        const next = await m.runBlock(b, hidden, 1, T, {
          onLinearInput: async (group, x) => {
            if (group.input === "attn_in") await this.#fillCache(b, w, x, T, rope);
          },
        });
        hidden.release();
        hidden = next;
      }
      // the last position's hidden state continues like a decode step's
      this.gpu.recorder.copy(
        hidden.buffer,
        (T - 1) * this.config.hiddenSize * 4,
        this.#x.buffer,
        0,
        this.config.hiddenSize * 4,
      );
    } finally {
      hidden.release();
      rope?.cos.release();
      rope?.sin.release();
    }
    this.#length = T;
    await this.#head();
  }

  /** k, v of a block's input rows x [T, d] (as its forward computes them) into cache rows 0 .. T−1. */
  async #fillCache(
    b: number,
    w: BlockWeights,
    x: MatrixView,
    T: number,
    rope: { cos: Tensor; sin: Tensor } | null,
  ): Promise<void> {
    const { kvHeads, headDim, heads } = this.#heads;
    const kvWidth = kvHeads * headDim;
    const made: Tensor[] = [];
    try {
      let k: MatrixView, v: MatrixView;
      if (this.#spec.qkv.length === 1) {
        const qkv = await linearOf(x, this.#linear(w, this.#spec.qkv[0]));
        made.push(qkv);
        k = sub(mat(qkv), 0, heads * headDim, T, kvWidth);
        v = sub(mat(qkv), 0, heads * headDim + kvWidth, T, kvWidth);
      } else {
        const kt = await linearOf(x, this.#linear(w, this.#spec.qkv[1]));
        made.push(kt);
        const vt = await linearOf(x, this.#linear(w, this.#spec.qkv[2]));
        made.push(vt);
        k = mat(kt), v = mat(vt);
      }
      if (rope) await ropeInPlace(k, rope.cos, rope.sin, { seqLen: T, heads: kvHeads, headDim });
      for (const c of this.cache.chunks[b]) {
        if (c.lo >= T) break;
        const n = Math.min(c.k.shape[0], T - c.lo);
        await copyView(sub(k, c.lo, 0, n, kvWidth), sub(mat(c.k), 0, 0, n, kvWidth));
        await copyView(sub(v, c.lo, 0, n, kvWidth), sub(mat(c.v), 0, 0, n, kvWidth));
      }
    } finally {
      for (const t of made) t.release();
    }
  }

  /**
   * Appends `token` at position {@link length} and runs it through every block, leaving its logits
   * (the next token's distribution) on the GPU.
   * @param token a vocabulary id
   */
  async step(token: number): Promise<void> {
    this.#checkStep();
    const vocab = this.config.vocabSize;
    if (!Number.isInteger(token) || token < 0 || token >= vocab) {
      throw new RangeError(`Decoder.step: token ${token} is out of range; expected an integer in [0, ${vocab})`);
    }
    // the token the last argmax left on the GPU is read from there (no upload)
    await this.#step(token === this.#argmaxToken ? this.#next : null, token);
  }

  /**
   * Greedy look-ahead: appends the token the last {@link startArgmax} chose, straight from the GPU —
   * it may still be on its way back to the CPU — and runs it through every block.
   * @throws Error unless {@link startArgmax} ran since the last step
   */
  async stepOnArgmax(): Promise<void> {
    this.#checkStep();
    if (!this.#argmaxPending) throw new Error("Decoder.stepOnArgmax: call startArgmax() first");
    await this.#step(this.#next, -1);
  }

  /**
   * Records the argmax of the newest logits (ties to the lowest id) and starts reading it back
   * without waiting: `token` resolves with it, and {@link stepOnArgmax} may record the next step
   * meanwhile, so the readback's latency overlaps the next step's work.
   * @returns `{ token }`, a promise of the chosen id
   */
  async startArgmax(): Promise<{ token: Promise<number> }> {
    this.#checkStarted();
    await this.gpu.recorder.withBindGroupCache(this.#bindings, () => argmax(this.#logits, this.#next));
    this.#argmaxPending = true;
    return { token: this.#next.read().then((v) => v[0]) }; // submits now; resolves when mapped
  }

  #checkStep(): void {
    this.#checkAlive();
    const pos = this.#length;
    if (pos === 0) throw new Error("Decoder.step: prefill a prompt first");
    if (pos >= this.maxLength) {
      throw new RangeError(`Decoder.step: the cache is full (${this.maxLength} positions, maxLength)`);
    }
  }

  /** One step: the token from `fromGpu` (u32 [1]) when given, else `token` uploaded. */
  async #step(fromGpu: Tensor | null, token: number): Promise<void> {
    const pos = this.#length;
    const g = this.model.decoderGlobals();
    const blocks: BlockWeights[] = [];
    for (let b = 0; b < this.model.numBlocks; b++) blocks.push(await this.model.decoderBlock(b));
    const ids = fromGpu ?? this.#ids;
    if (!fromGpu) this.#ids.write(Uint32Array.of(token));
    if (g.positionEmbedding) {
      this.#positions.write(Uint32Array.of(pos + (this.model.layout.positionEmbedding?.offset ?? 0)));
    }
    await this.gpu.recorder.withBindGroupCache(this.#bindings, async () => {
      // embeddings: token row (→ project_in) + learned position row (OPT at pos + 2, GPT-2 at pos)
      if (g.projectIn) {
        await gatherRows(ids, g.tokenEmbedding, this.#embed!);
        await matvec(f32Weight(g.projectIn, "decode"), this.#embed!, this.#x, { bias: g.projectIn.bias });
      } else {
        await gatherRows(ids, g.tokenEmbedding, this.#x);
      }
      if (g.positionEmbedding) await gatherRows(this.#positions, g.positionEmbedding, this.#x, { accumulate: true });
      for (let b = 0; b < this.model.numBlocks; b++) await this.#block(b, blocks[b], pos);
      await this.#headOps();
    });
    this.#argmaxToken = -1;
    this.#argmaxPending = false;
    this.#length = pos + 1;
  }

  /** One block for the token at `pos`, updating the residual stream #x in place. */
  async #block(b: number, w: BlockWeights, pos: number): Promise<void> {
    const spec = this.#spec, shape = this.#heads;
    const { heads, kvHeads, headDim } = shape;
    const qWidth = heads * headDim, kvWidth = kvHeads * headDim;
    const x = this.#x, h = this.#h;

    // attention
    const attIn = this.#preNorm ? await this.#norm(x, w.attentionNorm, h) : x;
    if (spec.qkv.length === 1) {
      const l = this.#linear(w, spec.qkv[0]);
      await linearStep(l, attIn, this.#qkv); // [q | k | v]
    } else {
      for (const [i, name] of spec.qkv.entries()) {
        const l = this.#linear(w, name);
        await linearStep(l, attIn, this.#qkv, { yOffset: i === 0 ? 0 : qWidth + (i - 1) * kvWidth });
      }
    }
    const chunk = this.cache.chunkAt(b, pos);
    await kvAppend(this.#qkv, chunk.k, chunk.v, {
      ...shape,
      pos,
      row: pos - chunk.lo,
      qOffset: 0,
      kOffset: qWidth,
      vOffset: qWidth + kvWidth,
      rope: this.#rope,
    });
    const L = pos + 1;
    const keys = this.cache.slices(b, L, "k"), values = this.cache.slices(b, L, "v");
    if (keys.length === 1 && fitsDecodeAttention(L, headDim)) {
      await decodeAttention(this.#qkv, 0, keys[0], values[0], this.#scores, this.#att, 0, shape, headDim ** -0.5);
    } else { // the cache spans several chunks (bindings): scores per chunk, one softmax, values per chunk
      for (const k of keys) await decodeScores(this.#qkv, 0, k, this.#scores, shape, headDim ** -0.5);
      await decodeSoftmax(this.#scores, L);
      for (const [i, v] of values.entries()) await decodeAttend(this.#scores, v, this.#att, 0, shape, i > 0);
    }
    const out = this.#linear(w, spec.out);
    await linearStep(out, this.#att, x, { accumulate: true }); // x += out_proj(att)
    if (!this.#preNorm) await this.#postNorm(w.attentionNorm);

    // MLP
    const mlpIn = this.#preNorm ? await this.#norm(x, w.mlpNorm, h) : x;
    const up = this.#linear(w, spec.up);
    if (spec.gate) {
      const gate = this.#linear(w, spec.gate);
      await linearStep(gate, mlpIn, this.#gate);
      await linearStep(up, mlpIn, this.#up!);
      await gatedActivation(this.#gate, this.#up!, this.config.activation); // act(gate) · up
    } else {
      await linearStep(up, mlpIn, this.#gate);
      await activation(this.#gate, this.config.activation);
    }
    const down = this.#linear(w, spec.down);
    await linearStep(down, this.#gate, x, { accumulate: true }); // x += down(…)
    if (!this.#preNorm) await this.#postNorm(w.mlpNorm);
  }

  /** Post-LN: x = LN(x), through #h. */
  async #postNorm(n: NormWeights): Promise<void> {
    await this.#norm(this.#x, n, this.#h);
    this.gpu.recorder.copy(this.#h.buffer, 0, this.#x.buffer, 0, this.#x.byteLength);
  }

  async #norm(x: Tensor, n: NormWeights, out: Tensor): Promise<Tensor> {
    return n.kind === "rmsnorm"
      ? await rmsNorm(x, n.weight, n.eps, out)
      : await layerNorm(x, n.weight, n.bias!, n.eps, out);
  }

  /** Final norm (+ project_out) and the LM head of #x into #logits. */
  async #head(): Promise<void> {
    this.#argmaxToken = -1;
    this.#argmaxPending = false;
    await this.gpu.recorder.withBindGroupCache(this.#bindings, () => this.#headOps());
  }

  async #headOps(): Promise<void> {
    const g = this.model.decoderGlobals();
    let v: Tensor = this.#x;
    if (g.finalNorm) v = await this.#norm(v, g.finalNorm, this.#h);
    if (g.projectOut) {
      await matvec(f32Weight(g.projectOut, "decode"), v, this.#embed!, { bias: g.projectOut.bias });
      v = this.#embed!;
    }
    for (const { lo, tensor } of g.lmHead.chunks) await matvec(tensor, v, this.#logits, { yOffset: lo });
  }

  /** Reads back the index of the largest logit of the newest position (ties to the lowest id). */
  async argmax(): Promise<number> {
    this.#checkStarted();
    await this.gpu.recorder.withBindGroupCache(this.#bindings, () => argmax(this.#logits, this.#next));
    this.#argmaxPending = true;
    this.#argmaxToken = (await this.#next.read())[0];
    return this.#argmaxToken;
  }

  /** Reads back the logits of the newest position, [vocab]. */
  async readLogits(): Promise<Float32Array> {
    this.#checkStarted();
    return (await this.#logits.read()) as Float32Array;
  }

  #linear(w: BlockWeights, name: string): LinearWeights {
    const l = w.linears.get(name);
    if (!l) throw new Error(`${this.config.family} block ${w.index}: no linear layer "${name}"`);
    return l;
  }

  #checkStarted(): void {
    this.#checkAlive();
    if (this.#length === 0) throw new Error("Decoder: no logits yet; prefill a prompt first");
  }

  #checkAlive(): void {
    if (this.#released) throw new Error("Decoder was used after release()");
  }

  /** Frees the cache and the step buffers (not the model). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    // a step recorded but not yet submitted still uses the cached bind groups' uniform buffers:
    // submit it before they are destroyed (destroying a buffer of submitted work is deferred)
    this.gpu.recorder.submit();
    this.cache?.release();
    for (const t of this.#buffers) t.release();
    this.#bindings[Symbol.dispose]();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * y = W·x + b (or y += …) for one token with a block's linear layer: the sparse product from its
 * compressed weight when the model holds it compressed (`LinearWeights.sparse`: 2:4 or bitmask,
 * never expanded), the half product when it keeps F16/BF16 halves (`LinearWeights.half`,
 * `halfWeights`), else the dense matvec.
 */
function linearStep(
  l: LinearWeights,
  x: Tensor,
  y: Tensor,
  options: { accumulate?: boolean; yOffset?: number } = {},
): Promise<void> {
  const sparse = l.sparse;
  if (sparse?.kind === "2:4") return sparse24Matvec(sparse, x, y, { bias: l.bias, ...options });
  if (sparse?.kind === "bitmask") return bitmaskMatvec(sparse, x, y, { bias: l.bias, ...options });
  if (l.half) return matvecHalf(l.half, x, y, { bias: l.bias, ...options });
  return matvec(f32Weight(l, "decode"), x, y, { bias: l.bias, ...options });
}

/**
 * y = x·Wᵀ + b for the rows x [T, in] a block's forward hands its hook: the batched forward's own
 * linear product (`linear`: dense, from halves, or sparse from a compressed weight, which needs x
 * to be a whole tensor and says so).
 */
function linearOf(x: MatrixView, l: LinearWeights): Promise<Tensor> {
  return linear(x, l, `${l.name} (prefill)`);
}
