// attention: causal multi-head self-attention with grouped-query attention (GQA) in one pass per
// block of queries: scores q·kᵀ, the causal softmax (f32, max-subtracted online, as in
// FlashAttention) and the weighted sum of v, with no [T, T] score matrix stored. Each invocation
// takes QB consecutive queries of one head and walks their keys four at a time.
//
// Why this shape (profiled on llvmpipe, Mesa 22.3 / LLVM 15, AVX2: 8 invocations per SIMD vector):
// every storage load is a loop over the 8 lanes (no hardware gathers), so an invocation pays for
// loads, not FMAs. The previous kernel took one query per invocation, each key costing 2·headDim
// scalar loads for 2·headDim FMAs, with the lanes of a vector on consecutive queries (so they
// diverged along the causal triangle). At tiny-llama's shapes (16 windows of 256 tokens, 8 query
// heads of 32 over 4 kv heads) one block's attention took 2.33 s, a third of the time of the
// block's seven linear products, and 22% of the forward pass; this kernel takes 0.93 s (both timed
// alone, one after the other at a load average of 3-4: `deno task bench:forward-ops`, which lists
// every kernel of the block; the whole forward pass: README's performance table). Here a key's loads are shared by the
// QB queries of the invocation (2·headDim loads per 4·QB·headDim FMAs at QB = 4), lanes are
// (window, head) pairs of the SAME query block so all lanes of a vector walk the same keys, and the
// softmax is rescaled once per four keys. QB = 8 ran faster still (0.67 s) but LLVM took ~37 s to
// compile it (the QB·headDim accumulators and queries live across the key loop and spill); QB = 4
// compiles in ~5-10 s per head size on this machine, once (Mesa's shader cache keeps it). A copy
// reading q, k and v as vec4s (for aligned views) was no faster (2.1 vs 2.2 s per block at a load
// average of 9) and took ~70 s to compile, so loads are no longer what bounds this kernel.
//
// Bindings (group 0):
//   #params { batchHeads, seqLen, heads, kvHeads, qOffset, qLd, kOffset, kLd, vOffset, vLd,
//             outLd, keyBegin, keyEnd: u32, scale: f32, slot: u32 }
//   #binding q: array<f32>, read            view [batch·seqLen, heads·headDim]   (r, c) at qOffset + r·qLd + c
//   #binding k: array<f32>, read            view [batch·seqLen, kvHeads·headDim] (r, c) at kOffset + r·kLd + c
//   #binding v: array<f32>, read            view [batch·seqLen, kvHeads·headDim] (r, c) at vOffset + r·vLd + c
//   #binding out: array<f32>, read_write    [batch·seqLen, heads·headDim]        (r, c) at r·outLd + c
//   #binding state: array<f32>, read_write  [batch·seqLen, heads, 2] running (m, l) between dispatches
//                                           (unused when one dispatch takes every key)
//   #binding flags: array<atomic<u32>>, read_write  [> slot]: when CHECK, the NaN/Inf check of out
//                                           (first_nonfinite.wgsl's convention, index r·outLd + c),
//                                           recorded as each query's normalised output is stored
//   q, k and v may be windows of one buffer (GPT-2's fused c_attn output), bound three times read-only.
// Math: for window b, query position i, head h reading key/value head g = h / (heads / kvHeads)
//   (HF repeat_kv), with s_j = scale · q_i·k_j for j ≤ i: out_i = Σ_j softmax(s)_j · v_j, computed
//   over blocks J of four keys (keys j > i masked to −3e38, so exp gives 0) as
//   m' = max(m, max_J s), l' = l·exp(m − m') + Σ_J exp(s_j − m'), acc' = acc·exp(m − m') + Σ_J exp(s_j − m')·v_j,
//   out_i = acc / l.
// Keys in dispatches: one dispatch takes the keys j in [keyBegin, keyEnd) of every query i ≥ keyBegin
//   (llvmpipe silently ends an invocation after 65535 loop iterations; the caller sizes the ranges,
//   see attentionKeyRanges in thanos/model/ops.ts). Between dispatches a query keeps acc
//   (unnormalised) in its row of out and (m, l) in state; the dispatch whose range holds key i (the
//   query's last) writes out_i = acc / l. Queries of a block below keyBegin (finished by an earlier
//   dispatch) or past the window are computed on clamped rows and not stored.
// Grid: (ceil(batch·heads / WG), ceil(seqLen / QB) − floor(keyBegin / QB)); invocation (x, y) takes
//   window x / heads, head x mod heads, queries (floor(keyBegin / QB) + y)·QB + 0 .. QB−1.
//   HEAD_DIM (≤ 256) and QB (≤ MAX_QB = 4, QB·ceil(HEAD_DIM / 4) ≤ ATT_ROWS·ATT_COLS = 64) are override
//   constants, so the loops over them have fixed trip counts (the compiler unrolls the short ones).

// k[row, g·HEAD_DIM + d .. + 3] of the view, 0 past the head (HEAD_DIM not a multiple of 4)
fn k4(row: u32, g: u32, d: u32) -> vec4f {
  let base = p.kOffset + row * p.kLd + g * HEAD_DIM;
  let inside = vec4u(d, d + 1u, d + 2u, d + 3u) < vec4u(HEAD_DIM);
  return select(vec4f(0.0), vec4f(k[base + d], k[base + d + 1u], k[base + d + 2u], k[base + d + 3u]), inside);
}
fn v4(row: u32, g: u32, d: u32) -> vec4f {
  let base = p.vOffset + row * p.vLd + g * HEAD_DIM;
  let inside = vec4u(d, d + 1u, d + 2u, d + 3u) < vec4u(HEAD_DIM);
  return select(vec4f(0.0), vec4f(v[base + d], v[base + d + 1u], v[base + d + 2u], v[base + d + 3u]), inside);
}

const ATT_ROWS: u32 = 1u; // the per-query arrays as one row of up to 64 vec4s (lib/attention_main.wgsl)
const ATT_COLS: u32 = 64u;

// #include "lib/attention_main.wgsl"
