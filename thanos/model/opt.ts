/**
 * OPT (facebook/opt-125m … 66b) forward pass on the GPU, following Hugging Face `modeling_opt.py`:
 *
 *   x = project_in(embed_tokens[ids]) + embed_positions[pos + 2]     (project_in: OPT-350m only)
 *   per block, pre-LN (do_layer_norm_before, every size but 350m):
 *       x = x + out_proj(causal_attention(q, k, v of LN1(x)));   x = x + fc2(relu(fc1(LN2(x))))
 *   per block, post-LN (OPT-350m):
 *       x = LN1(x + out_proj(attention(x)));                      x = LN2(x + fc2(relu(fc1(x))))
 *   logits = embed_tokensᵀ · project_out(final_layer_norm(x))      (final LN: pre-LN models only)
 *
 * HF scales q by hs^-0.5 after its bias; here the same factor scales q·k inside the attention
 * kernel (equal up to float rounding). Shapes: N = batch·T, d hidden, p word_embed_proj_dim,
 * nh heads of hs, f ffn_dim.
 *
 * @module
 */

import { empty, type Tensor } from "../gpu/tensor.ts";
import { mat } from "../linalg/view.ts";
import type { OptConfig } from "./config.ts";
import { applyNorm, attention, type BlockWeights, DecoderModel, type ForwardHooks, linear } from "./forward.ts";
import { activation, gatherRows, residualAdd } from "./ops.ts";

/** An OPT model (see the module documentation). */
export class OptModel extends DecoderModel<OptConfig> {
  protected async embedTokens(ids: Tensor, positions: Tensor, n: number): Promise<Tensor> {
    const { hiddenSize: d, wordEmbedProjDim: p } = this.config;
    const tokens = empty(this.gpu, [n, p], "f32", this.globals.projectIn ? "token embeddings" : "hidden"); // [N, p]
    await gatherRows(ids, this.globals.tokenEmbedding, tokens);
    let x: Tensor = tokens;
    if (this.globals.projectIn) {
      x = await linear(tokens, this.globals.projectIn, "hidden"); // [N, d]
      tokens.release();
    }
    await gatherRows(positions, this.globals.positionEmbedding!, x, { accumulate: true }); // x += pos[t + 2]
    if (x.shape[1] !== d) throw new Error(`opt: embeddings are ${x.shape[1]} wide; expected hidden size ${d}`);
    return x;
  }

  protected async forwardBlock(
    w: BlockWeights,
    x: Tensor,
    batch: number,
    T: number,
    hooks: ForwardHooks,
  ): Promise<Tensor> {
    const { numHeads: nh, headDim: hs, preLayerNorm, activation: act } = this.config;

    // attention
    const h = preLayerNorm ? await applyNorm(x, w.attentionNorm) : x; // [N, d]
    await this.observe(hooks, "attn_in", h);
    const q = await linear(h, this.linearOf(w, "self_attn.q_proj")); // [N, d]
    const k = await linear(h, this.linearOf(w, "self_attn.k_proj")); // [N, d]
    const v = await linear(h, this.linearOf(w, "self_attn.v_proj")); // [N, d]
    if (h !== x) h.release();
    const att = await attention(mat(q), mat(k), mat(v), { batch, seqLen: T, heads: nh, kvHeads: nh, headDim: hs });
    q.release(), k.release(), v.release();
    await this.observe(hooks, "attn_out", att);
    let x1 = await linear(att, this.linearOf(w, "self_attn.out_proj"), "residual"); // [N, d]
    att.release();
    await residualAdd(x1, x); // x1 = x + out_proj(att)
    if (!preLayerNorm) x1 = await this.#postNorm(x1, w.attentionNorm);

    // MLP
    const h2 = preLayerNorm ? await applyNorm(x1, w.mlpNorm) : x1; // [N, d]
    await this.observe(hooks, "mlp_in", h2);
    const hidden = await linear(h2, this.linearOf(w, "fc1")); // [N, f]
    if (h2 !== x1) h2.release();
    await activation(hidden, act);
    await this.observe(hooks, "mlp_hidden", hidden);
    let x2 = await linear(hidden, this.linearOf(w, "fc2"), "residual"); // [N, d]
    hidden.release();
    await residualAdd(x2, x1); // x2 = x1 + fc2(...)
    x1.release();
    if (!preLayerNorm) x2 = await this.#postNorm(x2, w.mlpNorm);
    return x2;
  }

  /** Post-LN: the normalised sum replaces the sum. */
  async #postNorm(x: Tensor, norm: BlockWeights["mlpNorm"]): Promise<Tensor> {
    const y = await applyNorm(x, norm);
    x.release();
    return y;
  }

  protected async finalHidden(x: Tensor): Promise<Tensor> {
    const { finalNorm, projectOut } = this.globals;
    let y = finalNorm ? await applyNorm(x, finalNorm) : x; // [m, d]
    if (projectOut) {
      const projected = await linear(y, projectOut, "project_out"); // [m, p]
      if (y !== x) y.release();
      y = projected;
    }
    return y; // x itself for a post-LN model without project_out
  }
}
