/**
 * GPT-2 forward pass on the GPU, following Hugging Face `modeling_gpt2.py`:
 *
 *   x = wte[ids] + wpe[pos]
 *   per block:  q | k | v = c_attn(ln_1(x))          (one fused linear [3d, d])
 *               x = x + c_proj(causal_attention(q, k, v))
 *               x = x + mlp.c_proj(gelu_new(c_fc(ln_2(x))))
 *   logits = wteᵀ · ln_f(x)
 *
 * GPT-2 stores its linear weights as Conv1D, [in, out]; the model holds them transposed, [out, in],
 * like every other linear layer (see forward.ts). Shapes: N = batch·T, d = n_embd, nh heads of hs,
 * f = n_inner.
 *
 * @module
 */

import { empty, type Tensor } from "../gpu/tensor.ts";
import { mat, sub } from "../linalg/view.ts";
import type { Gpt2Config } from "./config.ts";
import { applyNorm, attention, type BlockWeights, DecoderModel, type ForwardHooks, linear } from "./forward.ts";
import { activation, gatherRows, residualAdd } from "./ops.ts";

/** A GPT-2 model (see the module documentation). */
export class Gpt2Model extends DecoderModel<Gpt2Config> {
  protected async embedTokens(ids: Tensor, positions: Tensor, n: number): Promise<Tensor> {
    const x = empty(this.gpu, [n, this.config.hiddenSize], "f32", "hidden"); // [N, d]
    await gatherRows(ids, this.globals.tokenEmbedding, x);
    await gatherRows(positions, this.globals.positionEmbedding!, x, { accumulate: true }); // x += wpe[t]
    return x;
  }

  protected async forwardBlock(
    w: BlockWeights,
    x: Tensor,
    batch: number,
    T: number,
    hooks: ForwardHooks,
  ): Promise<Tensor> {
    const { hiddenSize: d, numHeads: nh, headDim: hs, activation: act } = this.config;
    const N = batch * T;

    // attention
    const h = await applyNorm(x, w.attentionNorm); // [N, d]
    await this.observe(hooks, "attn_in", h);
    const qkv = await linear(h, this.linearOf(w, "attn.c_attn")); // [N, 3d] = q | k | v
    h.release();
    const [q, k, v] = [0, 1, 2].map((i) => sub(mat(qkv), 0, i * d, N, d)); // [N, d] windows, ld 3d
    const att = await attention(q, k, v, { batch, seqLen: T, heads: nh, kvHeads: nh, headDim: hs }); // [N, d]
    qkv.release();
    await this.observe(hooks, "attn_out", att);
    const x1 = await linear(att, this.linearOf(w, "attn.c_proj"), "residual"); // [N, d]
    att.release();
    await residualAdd(x1, x); // x1 = x + c_proj(att)

    // MLP
    const h2 = await applyNorm(x1, w.mlpNorm); // [N, d]
    await this.observe(hooks, "mlp_in", h2);
    const hidden = await linear(h2, this.linearOf(w, "mlp.c_fc")); // [N, f]
    h2.release();
    await activation(hidden, act); // gelu_new
    await this.observe(hooks, "mlp_hidden", hidden);
    const x2 = await linear(hidden, this.linearOf(w, "mlp.c_proj"), "residual"); // [N, d]
    hidden.release();
    await residualAdd(x2, x1); // x2 = x1 + mlp(...)
    x1.release();
    return x2;
  }

  protected finalHidden(x: Tensor): Promise<Tensor> {
    return applyNorm(x, this.globals.finalNorm!); // ln_f, [m, d]
  }
}
