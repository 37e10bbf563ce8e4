/**
 * LLaMA (TinyLlama, SmolLM, Llama-2, Llama-3.x) forward pass on the GPU, following Hugging Face
 * `modeling_llama.py`:
 *
 *   x = embed_tokens[ids]
 *   per block:  h = RMSNorm(x);  q, k, v = h·Wqᵀ, h·Wkᵀ, h·Wvᵀ;  q, k = RoPE(q), RoPE(k)
 *               x = x + o_proj(causal_attention(q, k, v))      (kv heads shared by groups of q heads)
 *               h = RMSNorm(x);  x = x + down_proj(act(gate_proj(h)) · up_proj(h))
 *   logits = lm_head(RMSNorm(x))
 *
 * Shapes: N = batch·T tokens, d hidden, nh query heads, nkv key/value heads, hs head size,
 * f intermediate size.
 *
 * @module
 */

import { empty, filledBy, type Tensor } from "../gpu/tensor.ts";
import { mat, paddedWidth, sub } from "../linalg/view.ts";
import type { LlamaConfig } from "./config.ts";
import {
  applyNorm,
  attention,
  type BlockWeights,
  DecoderModel,
  type ForwardHooks,
  linearGroup,
  residual,
} from "./forward.ts";
import { type FiniteSlot, gatedActivationRows, gatedProductRows, gatherRows, rope } from "./ops.ts";
import type { LinearWeights } from "./weights.ts";
import { ropeInverseFrequencies, ropeTablesOnGpu } from "./rope.ts";

/** A LLaMA-family model (see the module documentation). */
export class LlamaModel extends DecoderModel<LlamaConfig> {
  readonly #invFreq = ropeInverseFrequencies(this.config.headDim, this.config.rope);
  /** cos/sin tables [T, hs/2] per sequence length in use, owned by `caches` */
  readonly #rope = new Map<number, { cos: Tensor; sin: Tensor }>();

  protected embedTokens(ids: Tensor, _positions: Tensor, n: number): Promise<Tensor> {
    const x = empty(this.gpu, [n, this.config.hiddenSize], "f32", "hidden"); // [N, d]
    return filledBy(x, (x) => gatherRows(ids, this.globals.tokenEmbedding, x));
  }

  protected async forwardBlock(
    w: BlockWeights,
    x: Tensor,
    batch: number,
    T: number,
    hooks: ForwardHooks,
  ): Promise<Tensor> {
    using x1 = await this.#attention(w, x, batch, T, hooks); // x + o_proj(attention(RMSNorm(x)))
    return await this.#mlp(w, x1, hooks); //                   x1 + down_proj(act(gate)·up of RMSNorm(x1))
  }

  async #attention(w: BlockWeights, x: Tensor, batch: number, T: number, hooks: ForwardHooks): Promise<Tensor> {
    const { numHeads: nh, numKvHeads: nkv, headDim: hs } = this.config;
    const { cos, sin } = this.#ropeTables(T);
    using h = await applyNorm(x, w.attentionNorm, this.watchSlot("attn_in")); // [N, d], checked for NaN/Inf
    await this.observe(hooks, "attn_in", h, { checked: true });
    const projections = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"];
    using qkv = await linearGroup(h, projections.map((name) => this.linearOf(w, name))); // one product when it can
    const [q, k, v] = qkv.views; // [N, nh·hs], [N, nkv·hs], [N, nkv·hs]
    await rope(q, cos, sin, { seqLen: T, heads: nh, headDim: hs });
    await rope(k, cos, sin, { seqLen: T, heads: nkv, headDim: hs });
    const shape = { batch, seqLen: T, heads: nh, kvHeads: nkv, headDim: hs };
    using att = await attention(q, k, v, shape, this.watchSlot("attn_out")); // [N, nh·hs], checked for NaN/Inf
    await this.observe(hooks, "attn_out", att, { checked: true });
    return await residual(x, att, this.linearOf(w, "self_attn.o_proj")); // [N, d]
  }

  /**
   * The SwiGLU MLP: gate and up in one product where they can be, act(gate)·up written row-padded
   * (so the down projection copies its rows into a texture) and checked for NaN/Inf in one pass.
   */
  async #mlp(w: BlockWeights, x: Tensor, hooks: ForwardHooks): Promise<Tensor> {
    using h = await applyNorm(x, w.mlpNorm, this.watchSlot("mlp_in")); // [N, d], checked for NaN/Inf
    await this.observe(hooks, "mlp_in", h, { checked: true });
    const down = this.linearOf(w, "mlp.down_proj");
    const gateW = this.linearOf(w, "mlp.gate_proj"), upW = this.linearOf(w, "mlp.up_proj");
    const f = this.config.intermediateSize, kind = this.config.activation;
    const ld = down.sparse ? f : paddedWidth(f); // the compressed product reads a whole tensor
    const check = this.watchSlot("mlp_hidden");
    // act(gate)·up [N, ld]: the product's epilogue where it can be (dense f32 layers without bias), else
    // the product then the activation
    const dense = (l: LinearWeights) => l.weight && !l.bias && !l.sparse ? l.weight : null;
    const g = dense(gateW), u = dense(upW);
    const fused = g && u ? await gatedProductRows(mat(h), g, u, kind, ld, check) : null;
    using hidden = fused ?? await this.#gatedRows(h, gateW, upW, ld, check);
    const act = sub(mat(hidden), 0, 0, h.shape[0], f); // act(gate)·up, [N, f]
    await this.observe(hooks, "mlp_hidden", act, { checked: true });
    return await residual(x, act, down, this.outputSlot()); // [N, d], the block's output, checked
  }

  async #gatedRows(h: Tensor, gate: LinearWeights, up: LinearWeights, ld: number, check?: FiniteSlot): Promise<Tensor> {
    using gateUp = await linearGroup(h, [gate, up]);
    const [g, u] = gateUp.views; // [N, f] each
    return await gatedActivationRows(g, u, this.config.activation, ld, check); // [N, ld]
  }

  protected finalHidden(x: Tensor): Promise<Tensor> {
    return applyNorm(x, this.globals.finalNorm!); // [m, d]
  }

  #ropeTables(T: number): { cos: Tensor; sin: Tensor } {
    let tables = this.#rope.get(T);
    if (!tables) {
      const { cos, sin } = ropeTablesOnGpu(this.gpu, this.#invFreq, T);
      tables = { cos: this.caches.use(cos), sin: this.caches.use(sin) };
      this.#rope.set(T, tables);
    }
    return tables;
  }
}
