// attention: causal multi-head self-attention with grouped-query attention (GQA), one query per
// invocation, softmax in f32 with max-subtraction done online (running max m and denominator l, as
// in FlashAttention), so no [T, T] score matrix is stored.
//
// Bindings (group 0):
//   #params { seqLen, heads, kvHeads, qOffset, qLd, kOffset, kLd, vOffset, vLd, outLd,
//                       keyBegin, keyEnd: u32, scale: f32 }
//   #binding q: array<f32>, read            view [batch·seqLen, heads·headDim]   (r, c) at qOffset + r·qLd + c
//   #binding k: array<f32>, read            view [batch·seqLen, kvHeads·headDim] (r, c) at kOffset + r·kLd + c
//   #binding v: array<f32>, read            view [batch·seqLen, kvHeads·headDim] (r, c) at vOffset + r·vLd + c
//   #binding out: array<f32>, read_write    [batch·seqLen, heads·headDim]        (r, c) at r·outLd + c
//   #binding state: array<f32>, read_write  [batch·seqLen, heads, 2] running (m, l) between dispatches
//                                     (unused when one dispatch takes every key)
//   q, k and v may be windows of one buffer (GPT-2's fused c_attn output), bound three times read-only.
// Math: for batch b, query position i, head h reading key/value head g = h / (heads / kvHeads)
//   (HF repeat_kv), with s_j = scale · q_i·k_j for j ≤ i:
//   out_i = Σ_j softmax(s)_j · v_j, computed as m_j = max(m_{j−1}, s_j),
//   l_j = l_{j−1}·exp(m_{j−1} − m_j) + exp(s_j − m_j), acc_j = acc_{j−1}·exp(m_{j−1} − m_j) + exp(s_j − m_j)·v_j,
//   out_i = acc_i / l_i.
// Keys in dispatches: one dispatch takes the keys j in [keyBegin, keyEnd) of every query i ≥ keyBegin
//   (a key costs up to 3·headDim + 4 loop iterations — both branches' loops when the lanes of a SIMD
//   vector diverge — and llvmpipe silently ends an invocation after 65535; the caller sizes the
//   ranges, see thanos/gpu/loop_budget.ts). Between dispatches a query
//   keeps acc (unnormalised) in its row of out and (m, l) in state; the dispatch whose range holds
//   key i (the query's last) writes out_i = acc / l.
// Grid: (ceil((seqLen − keyBegin) / WG), heads, batch); invocation (x, y, z) is query keyBegin + x of
//   head y in window z. The head size headDim = HEAD_DIM is an override constant (≤ MAX_HEAD_DIM = 256).

override WG: u32 = 64;
// the head size, a pipeline constant: loops over it have a fixed trip count, so the compiler can
// unroll them and keep qi/acc in registers instead of indexing private arrays dynamically (llvmpipe
// does up to 32; at 64 and more the loops stay, and count against its loop limit)
override HEAD_DIM: u32 = 64;

const MAX_HEAD_DIM: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = p.keyBegin + gid.x;
  if (i >= p.seqLen) {
    return;
  }
  let h = gid.y;
  let g = h / (p.heads / p.kvHeads);
  let row0 = gid.z * p.seqLen; // first token of this window
  let hd = HEAD_DIM;
  let oBase = (row0 + i) * p.outLd + h * hd;
  let sBase = ((row0 + i) * p.heads + h) * 2u;

  var qi: array<f32, MAX_HEAD_DIM>;
  var acc: array<f32, MAX_HEAD_DIM>;
  var m = -3.0e38;
  var l = 0.0;
  let qBase = p.qOffset + (row0 + i) * p.qLd + h * hd;
  let resume = p.keyBegin > 0u; // earlier keys were folded in by earlier dispatches
  for (var d = 0u; d < hd; d++) {
    qi[d] = q[qBase + d] * p.scale;
    acc[d] = select(0.0, out[oBase + d], resume);
  }
  if (resume) {
    m = state[sBase];
    l = state[sBase + 1u];
  }
  let keyEnd = min(p.keyEnd, i + 1u);
  for (var j = p.keyBegin; j < keyEnd; j++) {
    let kBase = p.kOffset + (row0 + j) * p.kLd + g * hd;
    var s = 0.0;
    for (var d = 0u; d < hd; d++) {
      s = fma(qi[d], k[kBase + d], s);
    }
    let vBase = p.vOffset + (row0 + j) * p.vLd + g * hd;
    if (s > m) {
      // new running max: rescale what was accumulated against the old one
      let correction = exp(m - s);
      l = l * correction + 1.0;
      for (var d = 0u; d < hd; d++) {
        acc[d] = fma(acc[d], correction, v[vBase + d]);
      }
      m = s;
    } else {
      let e = exp(s - m);
      l += e;
      for (var d = 0u; d < hd; d++) {
        acc[d] = fma(e, v[vBase + d], acc[d]);
      }
    }
  }
  if (i < p.keyEnd) {
    // key i, the query's last, was in this range
    let inv = 1.0 / l;
    for (var d = 0u; d < hd; d++) {
      out[oBase + d] = acc[d] * inv;
    }
  } else {
    for (var d = 0u; d < hd; d++) {
      out[oBase + d] = acc[d];
    }
    state[sBase] = m;
    state[sBase + 1u] = l;
  }
}
