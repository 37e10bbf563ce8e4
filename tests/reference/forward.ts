/**
 * Plain-TS reference of the forward pass (used only by tests): every kernel as simple loops in
 * float64, and a straightforward full-model forward for LLaMA, OPT and GPT-2 written from the
 * Hugging Face transformers semantics, reading the raw config.json keys and HF tensor names — so
 * it shares nothing with the GPU code except the file format.
 */

// ---------------------------------------------------------------------------------------------
// kernels

/** out[t, :] = table[ids[t], :] (table [*, d]). */
export function gatherRows(ids: ArrayLike<number>, table: ArrayLike<number>, d: number): Float64Array {
  const out = new Float64Array(ids.length * d);
  for (let t = 0; t < ids.length; t++) for (let c = 0; c < d; c++) out[t * d + c] = table[ids[t] * d + c];
  return out;
}

/** y = x / sqrt(mean(x²) + eps) · w per row. */
export function rmsNorm(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  w: ArrayLike<number>,
  eps: number,
): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let c = 0; c < cols; c++) ss += x[r * cols + c] ** 2;
    const inv = 1 / Math.sqrt(ss / cols + eps);
    for (let c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c] * inv * w[c];
  }
  return y;
}

/** y = (x − mean) / sqrt(var + eps) · w + b per row (biased variance). */
export function layerNorm(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  w: ArrayLike<number> | null,
  b: ArrayLike<number> | null,
  eps: number,
): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let c = 0; c < cols; c++) mean += x[r * cols + c];
    mean /= cols;
    let variance = 0;
    for (let c = 0; c < cols; c++) variance += (x[r * cols + c] - mean) ** 2;
    variance /= cols;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < cols; c++) {
      y[r * cols + c] = (x[r * cols + c] - mean) * inv * (w ? w[c] : 1) + (b ? b[c] : 0);
    }
  }
  return y;
}

/** x[r, c] + bias[c]. */
export function biasAdd(x: ArrayLike<number>, rows: number, cols: number, bias: ArrayLike<number>): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c] + bias[c];
  return y;
}

/** y = x·Wᵀ (+ b) with W [out, in]. */
export function linear(
  x: ArrayLike<number>,
  rows: number,
  w: ArrayLike<number>,
  out: number,
  inF: number,
  b: ArrayLike<number> | null = null,
): Float64Array {
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
      y[r * out + o] = s;
    }
  }
  return y;
}

/**
 * HF's inverse frequencies from config.json keys: default, "linear" and "llama3" rope_scaling
 * (`_compute_llama3_parameters`), in float64.
 */
export function ropeInverseFrequencies(
  headDim: number,
  theta: number,
  ropeScaling: Record<string, any> | null,
): Float64Array {
  const inv = new Float64Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) inv[i] = 1 / theta ** ((2 * i) / headDim);
  const type = ropeScaling ? (ropeScaling.rope_type ?? ropeScaling.type ?? "default") : "default";
  if (type === "linear") return inv.map((f) => f / ropeScaling!.factor);
  if (type !== "llama3") return inv;
  const { factor, low_freq_factor: low, high_freq_factor: high, original_max_position_embeddings: old } = ropeScaling!;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < old / high) return f; // high frequency: unchanged
    if (wavelen > old / low) return f / factor; // low frequency: interpolated fully
    const smooth = (old / wavelen - low) / (high - low);
    return (1 - smooth) * f / factor + smooth * f;
  });
}

/**
 * Rotary embedding ("rotate half"): per row r (position r mod seqLen) and head, the pair
 * (x[j], x[j + hd/2]) is rotated by angle pos·invFreq[j]. x is [rows, heads·hd]; returns a copy.
 */
export function rope(
  x: ArrayLike<number>,
  rows: number,
  seqLen: number,
  heads: number,
  headDim: number,
  invFreq: ArrayLike<number>,
): Float64Array {
  const y = Float64Array.from(x);
  const half = headDim / 2, width = heads * headDim;
  for (let r = 0; r < rows; r++) {
    const pos = r % seqLen;
    for (let h = 0; h < heads; h++) {
      for (let j = 0; j < half; j++) {
        const a = r * width + h * headDim + j, b = a + half;
        const c = Math.cos(pos * invFreq[j]), s = Math.sin(pos * invFreq[j]);
        y[a] = x[a] * c - x[b] * s;
        y[b] = x[b] * c + x[a] * s;
      }
    }
  }
  return y;
}

/**
 * Causal attention with grouped-query heads: scores = scale·q·kᵀ over keys j ≤ i, softmax with
 * the max subtracted, weighted sum of v. q [B·T, H·hd], k/v [B·T, K·hd] → [B·T, H·hd].
 */
export function attention(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  batch: number,
  seqLen: number,
  heads: number,
  kvHeads: number,
  headDim: number,
  scale: number,
): Float64Array {
  const out = new Float64Array(batch * seqLen * heads * headDim);
  const qw = heads * headDim, kw = kvHeads * headDim;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / (heads / kvHeads));
      for (let i = 0; i < seqLen; i++) {
        const qi = (b * seqLen + i) * qw + h * headDim;
        const scores = new Float64Array(i + 1);
        let max = -Infinity;
        for (let j = 0; j <= i; j++) {
          const kj = (b * seqLen + j) * kw + g * headDim;
          let s = 0;
          for (let d = 0; d < headDim; d++) s += q[qi + d] * k[kj + d];
          scores[j] = s * scale;
          max = Math.max(max, scores[j]);
        }
        let sum = 0;
        for (let j = 0; j <= i; j++) sum += scores[j] = Math.exp(scores[j] - max);
        for (let j = 0; j <= i; j++) {
          const vj = (b * seqLen + j) * kw + g * headDim;
          for (let d = 0; d < headDim; d++) out[qi + d] += (scores[j] / sum) * v[vj + d];
        }
      }
    }
  }
  return out;
}

/**
 * erf in float64: the Maclaurin series for |x| < 2.5, else 1 − erfc(|x|) with erfc from its
 * continued fraction erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))).
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a >= 2.5) {
    let k = a;
    for (let n = 80; n >= 1; n--) k = a + n / 2 / k;
    return Math.sign(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / k);
  }
  let term = x, sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** The MLP activations by their config names. */
export const ACTIVATION_FNS: Record<string, (x: number) => number> = {
  relu: (x) => Math.max(x, 0),
  gelu_new: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  silu: (x) => x / (1 + Math.exp(-x)),
};

/** −log softmax(logits[r, :])[targets[r]] per row, logits [rows, vocab]. */
export function nll(logits: ArrayLike<number>, rows: number, vocab: number, targets: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < vocab; c++) max = Math.max(max, logits[r * vocab + c]);
    let sum = 0;
    for (let c = 0; c < vocab; c++) sum += Math.exp(logits[r * vocab + c] - max);
    out[r] = max + Math.log(sum) - logits[r * vocab + targets[r]];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// full models

/** HF tensor name → float32 values (as stored: GPT-2 Conv1D weights are [in, out]). */
export type Weights = Map<string, Float32Array>;

function need(w: Weights, name: string): Float32Array {
  const t = w.get(name);
  if (!t) throw new Error(`reference forward: tensor ${name} missing`);
  return t;
}

function add(a: Float64Array, b: ArrayLike<number>): Float64Array {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
  return a;
}

/** [rows, in]·[in, out] (GPT-2 Conv1D: y = x W + b). */
function conv1d(
  x: ArrayLike<number>,
  rows: number,
  w: ArrayLike<number>,
  inF: number,
  out: number,
  b: ArrayLike<number>,
) {
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let s = b[o];
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[i * out + o];
      y[r * out + o] = s;
    }
  }
  return y;
}

function applyAll(x: Float64Array, fn: (v: number) => number): Float64Array {
  return x.map(fn);
}

/**
 * Logits [batch·seqLen, vocab] of token ids [batch·seqLen] (windows of seqLen, positions from 0),
 * from a raw config.json object and the checkpoint's tensors.
 */
export function referenceLogits(
  config: Record<string, any>,
  w: Weights,
  ids: ArrayLike<number>,
  batch: number,
  seqLen: number,
): Float64Array {
  switch (config.model_type) {
    case "llama":
      return llamaLogits(config, w, ids, batch, seqLen);
    case "opt":
      return optLogits(config, w, ids, batch, seqLen);
    case "gpt2":
      return gpt2Logits(config, w, ids, batch, seqLen);
  }
  throw new Error(`reference forward: model_type ${config.model_type}`);
}

function llamaLogits(
  c: Record<string, any>,
  w: Weights,
  ids: ArrayLike<number>,
  batch: number,
  T: number,
): Float64Array {
  const N = batch * T, D = c.hidden_size, H = c.num_attention_heads, K = c.num_key_value_heads ?? H;
  const hd = c.head_dim ?? D / H, I = c.intermediate_size, V = c.vocab_size, eps = c.rms_norm_eps ?? 1e-6;
  const act = ACTIVATION_FNS[c.hidden_act ?? "silu"];
  const invFreq = ropeInverseFrequencies(hd, c.rope_theta ?? 10000, c.rope_scaling ?? null);
  const bias = (name: string, on: boolean) => (on ? need(w, name) : null);
  let x = gatherRows(ids, need(w, "model.embed_tokens.weight"), D);
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`, ab = c.attention_bias ?? false, mb = c.mlp_bias ?? false;
    const h = rmsNorm(x, N, D, need(w, p + "input_layernorm.weight"), eps);
    let q = linear(h, N, need(w, p + "self_attn.q_proj.weight"), H * hd, D, bias(p + "self_attn.q_proj.bias", ab));
    let k = linear(h, N, need(w, p + "self_attn.k_proj.weight"), K * hd, D, bias(p + "self_attn.k_proj.bias", ab));
    const v = linear(h, N, need(w, p + "self_attn.v_proj.weight"), K * hd, D, bias(p + "self_attn.v_proj.bias", ab));
    q = rope(q, N, T, H, hd, invFreq);
    k = rope(k, N, T, K, hd, invFreq);
    const a = attention(q, k, v, batch, T, H, K, hd, 1 / Math.sqrt(hd));
    x = add(x, linear(a, N, need(w, p + "self_attn.o_proj.weight"), D, H * hd, bias(p + "self_attn.o_proj.bias", ab)));
    const h2 = rmsNorm(x, N, D, need(w, p + "post_attention_layernorm.weight"), eps);
    const gate = applyAll(
      linear(h2, N, need(w, p + "mlp.gate_proj.weight"), I, D, bias(p + "mlp.gate_proj.bias", mb)),
      act,
    );
    const up = linear(h2, N, need(w, p + "mlp.up_proj.weight"), I, D, bias(p + "mlp.up_proj.bias", mb));
    for (let i = 0; i < gate.length; i++) gate[i] *= up[i];
    x = add(x, linear(gate, N, need(w, p + "mlp.down_proj.weight"), D, I, bias(p + "mlp.down_proj.bias", mb)));
  }
  x = rmsNorm(x, N, D, need(w, "model.norm.weight"), eps);
  const head = c.tie_word_embeddings ? need(w, "model.embed_tokens.weight") : need(w, "lm_head.weight");
  return linear(x, N, head, V, D);
}

function optLogits(c: Record<string, any>, w: Weights, ids: ArrayLike<number>, batch: number, T: number): Float64Array {
  const N = batch * T, D = c.hidden_size, H = c.num_attention_heads, hd = D / H, F = c.ffn_dim, V = c.vocab_size;
  const P = c.word_embed_proj_dim ?? D,
    pre = c.do_layer_norm_before ?? true,
    affine = c.layer_norm_elementwise_affine ?? true;
  const biasOn = c.enable_bias ?? true, act = ACTIVATION_FNS[c.activation_function ?? "relu"];
  const m = "model.decoder.";
  const ln = (x: Float64Array, name: string) =>
    layerNorm(x, N, D, affine ? need(w, name + ".weight") : null, affine ? need(w, name + ".bias") : null, 1e-5);
  const lin = (x: Float64Array, name: string, out: number, inF: number) =>
    linear(x, N, need(w, name + ".weight"), out, inF, biasOn ? need(w, name + ".bias") : null);
  let x = gatherRows(ids, need(w, m + "embed_tokens.weight"), P);
  if (P !== D) x = linear(x, N, need(w, m + "project_in.weight"), D, P);
  const positions = Array.from({ length: N }, (_, r) => (r % T) + 2);
  x = add(x, gatherRows(positions, need(w, m + "embed_positions.weight"), D));
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `${m}layers.${l}.`;
    let residual = x;
    let h = pre ? ln(x, p + "self_attn_layer_norm") : x;
    const q = lin(h, p + "self_attn.q_proj", D, D).map((v) => v * hd ** -0.5);
    const k = lin(h, p + "self_attn.k_proj", D, D);
    const v = lin(h, p + "self_attn.v_proj", D, D);
    h = lin(attention(q, k, v, batch, T, H, H, hd, 1), p + "self_attn.out_proj", D, D);
    x = add(Float64Array.from(residual), h);
    if (!pre) x = ln(x, p + "self_attn_layer_norm");
    residual = x;
    h = pre ? ln(x, p + "final_layer_norm") : x;
    h = lin(applyAll(lin(h, p + "fc1", F, D), act), p + "fc2", D, F);
    x = add(Float64Array.from(residual), h);
    if (!pre) x = ln(x, p + "final_layer_norm");
  }
  if (pre && !c._remove_final_layer_norm) x = ln(x, m + "final_layer_norm");
  if (P !== D) x = linear(x, N, need(w, m + "project_out.weight"), P, D);
  const head = (c.tie_word_embeddings ?? true) ? need(w, m + "embed_tokens.weight") : need(w, "lm_head.weight");
  return linear(x, N, head, V, P);
}

function gpt2Logits(
  c: Record<string, any>,
  w: Weights,
  ids: ArrayLike<number>,
  batch: number,
  T: number,
): Float64Array {
  const N = batch * T, D = c.n_embd, H = c.n_head, hd = D / H, I = c.n_inner ?? 4 * D, V = c.vocab_size;
  const eps = c.layer_norm_epsilon ?? 1e-5, act = ACTIVATION_FNS[c.activation_function ?? "gelu_new"];
  const ln = (x: Float64Array, name: string) =>
    layerNorm(x, N, D, need(w, name + ".weight"), need(w, name + ".bias"), eps);
  const cv = (x: Float64Array, name: string, inF: number, out: number) =>
    conv1d(x, N, need(w, name + ".weight"), inF, out, need(w, name + ".bias"));
  let x = gatherRows(ids, need(w, "transformer.wte.weight"), D);
  x = add(x, gatherRows(Array.from({ length: N }, (_, r) => r % T), need(w, "transformer.wpe.weight"), D));
  for (let l = 0; l < c.n_layer; l++) {
    const p = `transformer.h.${l}.`;
    const qkv = cv(ln(x, p + "ln_1"), p + "attn.c_attn", D, 3 * D); // [N, 3D] = q | k | v
    const q = new Float64Array(N * D), k = new Float64Array(N * D), v = new Float64Array(N * D);
    for (let r = 0; r < N; r++) {
      for (let i = 0; i < D; i++) {
        q[r * D + i] = qkv[r * 3 * D + i];
        k[r * D + i] = qkv[r * 3 * D + D + i];
        v[r * D + i] = qkv[r * 3 * D + 2 * D + i];
      }
    }
    x = add(x, cv(attention(q, k, v, batch, T, H, H, hd, 1 / Math.sqrt(hd)), p + "attn.c_proj", D, D));
    x = add(x, cv(applyAll(cv(ln(x, p + "ln_2"), p + "mlp.c_fc", D, I), act), p + "mlp.c_proj", I, D));
  }
  x = ln(x, "transformer.ln_f");
  const head = (c.tie_word_embeddings ?? true) ? need(w, "transformer.wte.weight") : need(w, "lm_head.weight");
  return linear(x, N, head, V, D);
}
