// vocab_chunks: the online log-softmax over vocabulary chunks that nll.wgsl and token_logprob.wgsl
// share (one workgroup per row; the chunk is columns lo .. lo+cols−1 of the full logits, the row's
// elements at logits[base + c]). A row's running state is (m, s, x_t): the max so far, Σ exp(x − m)
// so far and the target's logit (0 until the chunk holding it arrives), kept at state[row·stride].
//   chunk_sum_exp(lid, base, mx) = Σ_c exp(logits[base + c] − mx), every invocation gets it
//   lse_merge(row, stride, base, m_c, s_c) = the state after this chunk: m' = max(m, m_c),
//     s' = s·exp(m − m') + s_c·exp(m_c − m'), x_t taken from this chunk if it holds target[row];
//     a fresh state (m = −big, s = 0, x_t = 0) when p.first = 1
//   lse_store(row, stride, st) writes (m, s, x_t) back for the next chunk
// Needs the includer's `override WG`, Params `p` with cols, lo and first, and bindings `logits`
// (f32), `targets` (u32) and `state` (f32, read_write). Call chunk_sum_exp from uniform control flow.

// #include "lib/reduce.wgsl"

const NEG_BIG: f32 = -3.0e38;

fn chunk_sum_exp(lid: u32, base: u32, mx: f32) -> f32 {
  var sum = 0.0;
  for (var c = lid; c < p.cols; c += WG) {
    sum += exp(logits[base + c] - mx);
  }
  return workgroup_sum(lid, sum);
}

fn lse_merge(row: u32, stride: u32, base: u32, chunkMax: f32, chunkSum: f32) -> vec3f {
  var m = NEG_BIG;
  var s = 0.0;
  var targetLogit = 0.0;
  if (p.first == 0u) {
    m = state[row * stride];
    s = state[row * stride + 1u];
    targetLogit = state[row * stride + 2u];
  }
  let merged = max(m, chunkMax);
  s = s * exp(m - merged) + chunkSum * exp(chunkMax - merged);
  let t = targets[row];
  if (t >= p.lo && t - p.lo < p.cols) {
    targetLogit = logits[base + (t - p.lo)];
  }
  return vec3f(merged, s, targetLogit);
}

fn lse_store(row: u32, stride: u32, st: vec3f) {
  state[row * stride] = st.x;
  state[row * stride + 1u] = st.y;
  state[row * stride + 2u] = st.z;
}
