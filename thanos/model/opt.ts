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

import { empty, filledBy, type Tensor } from "../gpu/tensor.ts";
import { mat } from "../linalg/view.ts";
import type { OptConfig } from "./config.ts";
import {
  applyNorm,
  attention,
  type BlockWeights,
  DecoderModel,
  type ForwardHooks,
  linear,
  residual,
} from "./forward.ts";
import { activation, gatherRows } from "./ops.ts";

/** An OPT model (see the module documentation). */
export class OptModel extends DecoderModel<OptConfig> {
  protected async embedTokens(ids: Tensor, positions: Tensor, n: number): Promise<Tensor> {
    const { hiddenSize: d, wordEmbedProjDim: p } = this.config;
    const { projectIn, tokenEmbedding, positionEmbedding } = this.globals;
    let x: Tensor = empty(this.gpu, [n, p], "f32", projectIn ? "token embeddings" : "hidden"); // [N, p]
    await filledBy(x, (x) => gatherRows(ids, tokenEmbedding, x));
    if (projectIn) {
      using tokens = x;
      x = await linear(tokens, projectIn, "hidden"); // [N, d]
    }
    return filledBy(x, (x) => {
      if (x.shape[1] !== d) throw new Error(`opt: embeddings are ${x.shape[1]} wide; expected hidden size ${d}`);
      return gatherRows(positions, positionEmbedding!, x, { accumulate: true }); // x += pos[t + 2]
    });
  }

  protected async forwardBlock(
    w: BlockWeights,
    x: Tensor,
    batch: number,
    T: number,
    hooks: ForwardHooks,
  ): Promise<Tensor> {
    const post = !this.config.preLayerNorm; // OPT-350m: the norms follow the residual adds
    using sum1 = await this.#attention(w, x, batch, T, hooks); // x + out_proj(attention(LN1(x)))
    using normed1 = post ? await applyNorm(sum1, w.attentionNorm) : null;
    const x1 = normed1 ?? sum1;
    const sum2 = await this.#mlp(w, x1, hooks); //             x1 + fc2(relu(fc1(LN2(x1))))
    if (!post) return sum2;
    using owned = sum2;
    return await applyNorm(owned, w.mlpNorm);
  }

  async #attention(w: BlockWeights, x: Tensor, batch: number, T: number, hooks: ForwardHooks): Promise<Tensor> {
    const { numHeads: nh, headDim: hs, preLayerNorm } = this.config;
    using normed = preLayerNorm ? await applyNorm(x, w.attentionNorm) : null;
    const h = normed ?? x; // [N, d]
    await this.observe(hooks, "attn_in", h);
    using q = await linear(h, this.linearOf(w, "self_attn.q_proj")); // [N, d]
    using k = await linear(h, this.linearOf(w, "self_attn.k_proj")); // [N, d]
    using v = await linear(h, this.linearOf(w, "self_attn.v_proj")); // [N, d]
    using att = await attention(mat(q), mat(k), mat(v), { batch, seqLen: T, heads: nh, kvHeads: nh, headDim: hs });
    await this.observe(hooks, "attn_out", att);
    return await residual(x, att, this.linearOf(w, "self_attn.out_proj")); // [N, d]
  }

  async #mlp(w: BlockWeights, x: Tensor, hooks: ForwardHooks): Promise<Tensor> {
    using normed = this.config.preLayerNorm ? await applyNorm(x, w.mlpNorm) : null;
    const h = normed ?? x; // [N, d]
    await this.observe(hooks, "mlp_in", h);
    using hidden = await linear(h, this.linearOf(w, "fc1")); // [N, f]
    await activation(hidden, this.config.activation);
    await this.observe(hooks, "mlp_hidden", hidden);
    return await residual(x, hidden, this.linearOf(w, "fc2")); // [N, d]
  }

  protected async finalHidden(x: Tensor): Promise<Tensor> {
    const { finalNorm, projectOut } = this.globals;
    if (!projectOut) return finalNorm ? await applyNorm(x, finalNorm) : x; // [m, d]; x itself: post-LN
    using normed = finalNorm ? await applyNorm(x, finalNorm) : null;
    return await linear(normed ?? x, projectOut, "project_out"); // [m, p]
  }
}
