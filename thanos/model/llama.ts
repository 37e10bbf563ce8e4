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

import { empty, type Tensor } from "../gpu/tensor.ts";
import { mat } from "../linalg/view.ts";
import type { LlamaConfig } from "./config.ts";
import { applyNorm, attention, type BlockWeights, DecoderModel, type ForwardHooks, linear } from "./forward.ts";
import { gatedActivation, gatherRows, residualAdd, rope } from "./ops.ts";
import { ropeInverseFrequencies, ropeTablesOnGpu } from "./rope.ts";

/** A LLaMA-family model (see the module documentation). */
export class LlamaModel extends DecoderModel<LlamaConfig> {
  readonly #invFreq = ropeInverseFrequencies(this.config.headDim, this.config.rope);
  /** cos/sin tables [T, hs/2] per sequence length in use */
  readonly #rope = new Map<number, { cos: Tensor; sin: Tensor }>();

  protected async embedTokens(ids: Tensor, _positions: Tensor, n: number): Promise<Tensor> {
    const x = empty(this.gpu, [n, this.config.hiddenSize], "f32", "hidden"); // [N, d]
    await gatherRows(ids, this.globals.tokenEmbedding, x);
    return x;
  }

  protected async forwardBlock(
    w: BlockWeights,
    x: Tensor,
    batch: number,
    T: number,
    hooks: ForwardHooks,
  ): Promise<Tensor> {
    const { numHeads: nh, numKvHeads: nkv, headDim: hs, activation } = this.config;
    const { cos, sin } = this.#ropeTables(T);

    // attention
    const h = await applyNorm(x, w.attentionNorm); // [N, d]
    await this.observe(hooks, "attn_in", h);
    const q = await linear(h, this.linearOf(w, "self_attn.q_proj")); // [N, nh·hs]
    const k = await linear(h, this.linearOf(w, "self_attn.k_proj")); // [N, nkv·hs]
    const v = await linear(h, this.linearOf(w, "self_attn.v_proj")); // [N, nkv·hs]
    h.release();
    await rope(mat(q), cos, sin, { seqLen: T, heads: nh, headDim: hs });
    await rope(mat(k), cos, sin, { seqLen: T, heads: nkv, headDim: hs });
    const shape = { batch, seqLen: T, heads: nh, kvHeads: nkv, headDim: hs };
    const att = await attention(mat(q), mat(k), mat(v), shape); // [N, nh·hs]
    q.release(), k.release(), v.release();
    await this.observe(hooks, "attn_out", att);
    const x1 = await linear(att, this.linearOf(w, "self_attn.o_proj"), "residual"); // [N, d]
    att.release();
    await residualAdd(x1, x); // x1 = x + o_proj(att)

    // MLP (SwiGLU)
    const h2 = await applyNorm(x1, w.mlpNorm); // [N, d]
    await this.observe(hooks, "mlp_in", h2);
    const gate = await linear(h2, this.linearOf(w, "mlp.gate_proj")); // [N, f]
    const up = await linear(h2, this.linearOf(w, "mlp.up_proj")); // [N, f]
    h2.release();
    await gatedActivation(gate, up, activation); // gate = act(gate) · up
    up.release();
    await this.observe(hooks, "mlp_hidden", gate);
    const x2 = await linear(gate, this.linearOf(w, "mlp.down_proj"), "residual"); // [N, d]
    gate.release();
    await residualAdd(x2, x1); // x2 = x1 + down_proj(...)
    x1.release();
    return x2;
  }

  protected finalHidden(x: Tensor): Promise<Tensor> {
    return applyNorm(x, this.globals.finalNorm!); // [m, d]
  }

  #ropeTables(T: number): { cos: Tensor; sin: Tensor } {
    let tables = this.#rope.get(T);
    if (!tables) {
      tables = ropeTablesOnGpu(this.gpu, this.#invFreq, T);
      this.#rope.set(T, tables);
    }
    return tables;
  }

  protected override releaseCaches(): void {
    for (const { cos, sin } of this.#rope.values()) cos.release(), sin.release();
    this.#rope.clear();
  }
}
