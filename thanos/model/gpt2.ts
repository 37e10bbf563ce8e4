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

import { empty, filledBy, type Tensor } from "../gpu/tensor.ts";
import { mat, sub } from "../linalg/view.ts";
import type { Gpt2Config } from "./config.ts";
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

/** A GPT-2 model (see the module documentation). */
export class Gpt2Model extends DecoderModel<Gpt2Config> {
  protected embedTokens(ids: Tensor, positions: Tensor, n: number): Promise<Tensor> {
    const x = empty(this.gpu, [n, this.config.hiddenSize], "f32", "hidden"); // [N, d]
    return filledBy(x, async (x) => {
      await gatherRows(ids, this.globals.tokenEmbedding, x);
      await gatherRows(positions, this.globals.positionEmbedding!, x, { accumulate: true }); // x += wpe[t]
    });
  }

  protected async forwardBlock(
    w: BlockWeights,
    x: Tensor,
    batch: number,
    T: number,
    hooks: ForwardHooks,
  ): Promise<Tensor> {
    using x1 = await this.#attention(w, x, batch, T, hooks); // x + c_proj(attention(ln_1(x)))
    return await this.#mlp(w, x1, hooks); //                   x1 + mlp.c_proj(gelu_new(c_fc(ln_2(x1))))
  }

  async #attention(w: BlockWeights, x: Tensor, batch: number, T: number, hooks: ForwardHooks): Promise<Tensor> {
    const { hiddenSize: d, numHeads: nh, headDim: hs } = this.config;
    const N = batch * T;
    using h = await applyNorm(x, w.attentionNorm); // [N, d]
    await this.observe(hooks, "attn_in", h);
    using qkv = await linear(h, this.linearOf(w, "attn.c_attn")); // [N, 3d] = q | k | v
    const [q, k, v] = [0, 1, 2].map((i) => sub(mat(qkv), 0, i * d, N, d)); // [N, d] windows, ld 3d
    using att = await attention(q, k, v, { batch, seqLen: T, heads: nh, kvHeads: nh, headDim: hs }); // [N, d]
    await this.observe(hooks, "attn_out", att);
    return await residual(x, att, this.linearOf(w, "attn.c_proj")); // [N, d]
  }

  async #mlp(w: BlockWeights, x: Tensor, hooks: ForwardHooks): Promise<Tensor> {
    using h = await applyNorm(x, w.mlpNorm); // [N, d]
    await this.observe(hooks, "mlp_in", h);
    using hidden = await linear(h, this.linearOf(w, "mlp.c_fc")); // [N, f]
    await activation(hidden, this.config.activation); // gelu_new
    await this.observe(hooks, "mlp_hidden", hidden);
    return await residual(x, hidden, this.linearOf(w, "mlp.c_proj")); // [N, d]
  }

  protected finalHidden(x: Tensor): Promise<Tensor> {
    return applyNorm(x, this.globals.finalNorm!); // ln_f, [m, d]
  }
}
