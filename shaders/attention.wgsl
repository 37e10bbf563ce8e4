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
//             outLd, keyBegin, keyEnd: u32, scale: f32 }
//   #binding q: array<f32>, read            view [batch·seqLen, heads·headDim]   (r, c) at qOffset + r·qLd + c
//   #binding k: array<f32>, read            view [batch·seqLen, kvHeads·headDim] (r, c) at kOffset + r·kLd + c
//   #binding v: array<f32>, read            view [batch·seqLen, kvHeads·headDim] (r, c) at vOffset + r·vLd + c
//   #binding out: array<f32>, read_write    [batch·seqLen, heads·headDim]        (r, c) at r·outLd + c
//   #binding state: array<f32>, read_write  [batch·seqLen, heads, 2] running (m, l) between dispatches
//                                           (unused when one dispatch takes every key)
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
//   HEAD_DIM (≤ 256) and QB (≤ MAX_QB = 4, QB·ceil(HEAD_DIM / 4) ≤ MAX_BLOCK4 = 64) are override
//   constants, so the loops over them have fixed trip counts (the compiler unrolls the short ones).

override WG: u32 = 8;
override HEAD_DIM: u32 = 64;
override QB: u32 = 4;

const MAX_BLOCK4: u32 = 64u; // QB · ceil(HEAD_DIM / 4)
const MAX_QB: u32 = 4u;
const MASKED: f32 = -3.0e38;

// elements d .. d+3 of a row starting at `base`, 0 past the head (HEAD_DIM not a multiple of 4)
fn q4(base: u32, d: u32) -> vec4f {
  let inside = vec4u(d, d + 1u, d + 2u, d + 3u) < vec4u(HEAD_DIM);
  return select(vec4f(0.0), vec4f(q[base + d], q[base + d + 1u], q[base + d + 2u], q[base + d + 3u]), inside);
}
fn k4(base: u32, d: u32) -> vec4f {
  let inside = vec4u(d, d + 1u, d + 2u, d + 3u) < vec4u(HEAD_DIM);
  return select(vec4f(0.0), vec4f(k[base + d], k[base + d + 1u], k[base + d + 2u], k[base + d + 3u]), inside);
}
fn v4(base: u32, d: u32) -> vec4f {
  let inside = vec4u(d, d + 1u, d + 2u, d + 3u) < vec4u(HEAD_DIM);
  return select(vec4f(0.0), vec4f(v[base + d], v[base + d + 1u], v[base + d + 2u], v[base + d + 3u]), inside);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= p.batchHeads) {
    return;
  }
  let hd4 = (HEAD_DIM + 3u) / 4u;
  let h = gid.x % p.heads;
  let row0 = (gid.x / p.heads) * p.seqLen; // first token of this window
  let g = h / (p.heads / p.kvHeads);
  let i0 = (p.keyBegin / QB + gid.y) * QB; // first query of the block
  let iLast = min(i0 + QB, p.seqLen) - 1u; // last query of the block inside the window
  let resume = p.keyBegin > 0u; // earlier keys were folded in by earlier dispatches

  var qs: array<vec4f, MAX_BLOCK4>; // qs[r·hd4 + d4] = scale · q[i0 + r, 4·d4 .. 4·d4+3]
  var acc: array<vec4f, MAX_BLOCK4>; // acc[r·hd4 + d4] = Σ_j exp(s_j − m_r) · v[j, 4·d4 .. 4·d4+3]
  var m: array<f32, MAX_QB>;
  var l: array<f32, MAX_QB>;
  for (var r = 0u; r < QB; r++) {
    let i = min(i0 + r, iLast); // rows past the window repeat the last query (not stored)
    let qBase = p.qOffset + (row0 + i) * p.qLd + h * HEAD_DIM;
    let oBase = (row0 + i) * p.outLd + h * HEAD_DIM;
    for (var d4 = 0u; d4 < hd4; d4++) {
      qs[r * hd4 + d4] = q4(qBase, 4u * d4) * p.scale;
      acc[r * hd4 + d4] = vec4f(0.0);
      if (resume) {
        for (var c = 0u; c < 4u; c++) {
          if (4u * d4 + c < HEAD_DIM) {
            acc[r * hd4 + d4][c] = out[oBase + 4u * d4 + c];
          }
        }
      }
    }
    let sBase = ((row0 + i) * p.heads + h) * 2u;
    m[r] = select(MASKED, state[sBase], resume);
    l[r] = select(0.0, state[sBase + 1u], resume);
  }

  let keyEnd = min(p.keyEnd, iLast + 1u);
  for (var j0 = p.keyBegin; j0 < keyEnd; j0 += 4u) {
    // the four keys' rows (clamped inside the range; masked below)
    let jl = vec4u(j0, j0 + 1u, j0 + 2u, j0 + 3u);
    let jc = min(jl, vec4u(keyEnd - 1u));
    let kRows = p.kOffset + (row0 + jc) * p.kLd + g * HEAD_DIM;
    let vRows = p.vOffset + (row0 + jc) * p.vLd + g * HEAD_DIM;
    var s: array<vec4f, MAX_QB>; // s[r][t] = scale · q_{i0+r} · k_{j0+t}
    for (var r = 0u; r < QB; r++) {
      s[r] = vec4f(0.0); // explicitly: naga declares a loop's variables once, for the whole function
    }
    for (var d4 = 0u; d4 < hd4; d4++) {
      let d = 4u * d4;
      let k0 = k4(kRows.x, d);
      let k1 = k4(kRows.y, d);
      let k2 = k4(kRows.z, d);
      let k3 = k4(kRows.w, d);
      for (var r = 0u; r < QB; r++) {
        let qr = qs[r * hd4 + d4];
        s[r] += vec4f(dot(qr, k0), dot(qr, k1), dot(qr, k2), dot(qr, k3));
      }
    }
    var e: array<vec4f, MAX_QB>; // exp(s − m') of the block's keys, 0 where masked
    var c: array<f32, MAX_QB>; // exp(m − m'), the rescale of what came before
    for (var r = 0u; r < QB; r++) {
      let sr = select(vec4f(MASKED), s[r], jl <= vec4u(i0 + r) & jl < vec4u(keyEnd));
      let mNew = max(m[r], max(max(sr.x, sr.y), max(sr.z, sr.w)));
      c[r] = exp(m[r] - mNew);
      e[r] = exp(sr - vec4f(mNew));
      l[r] = l[r] * c[r] + (e[r].x + e[r].y + e[r].z + e[r].w);
      m[r] = mNew;
    }
    for (var d4 = 0u; d4 < hd4; d4++) {
      let d = 4u * d4;
      let v0 = v4(vRows.x, d);
      let v1 = v4(vRows.y, d);
      let v2 = v4(vRows.z, d);
      let v3 = v4(vRows.w, d);
      for (var r = 0u; r < QB; r++) {
        let er = e[r];
        acc[r * hd4 + d4] = acc[r * hd4 + d4] * c[r] + er.x * v0 + er.y * v1 + er.z * v2 + er.w * v3;
      }
    }
  }

  for (var r = 0u; r < QB; r++) {
    let i = i0 + r;
    if (i < p.keyBegin || i > iLast) {
      continue; // finished by an earlier dispatch, or past the window
    }
    let oBase = (row0 + i) * p.outLd + h * HEAD_DIM;
    let last = i < p.keyEnd; // key i, the query's last, was in this range: normalise
    let scaleOut = select(1.0, 1.0 / l[r], last);
    for (var d = 0u; d < HEAD_DIM; d++) {
      out[oBase + d] = acc[r * hd4 + d / 4u][d % 4u] * scaleOut;
    }
    if (!last) {
      let sBase = ((row0 + i) * p.heads + h) * 2u;
      state[sBase] = m[r];
      state[sBase + 1u] = l[r];
    }
  }
}
