// nll: per-row negative log-likelihood of a target column, −log softmax(logits[r, :])[target[r]],
// reduced over the vocabulary in column chunks (the LM head is computed one vocab chunk at a time
// when the full [rows, vocab] logits would not fit one storage binding).
//
// Bindings (group 0):
//   #params { rows, cols, lo, offset, ld, first, last: u32 }
//   #binding logits: array<f32>, read        view [rows, cols] at offset (leading dimension ld): columns
//                                      lo .. lo+cols−1 of the full logits
//   #binding targets: array<u32>, read       [rows] vocab ids
//   #binding state: array<f32>, read_write   [rows, 3] running (max m, Σ exp(x − m), target logit)
//   #binding out: array<f32>, read_write     [rows] the NLL, written by the chunk with last = 1
// Math: per chunk, m_c = max_c x, s_c = Σ_c exp(x − m_c); merged online in f32 (lib/vocab_chunks.wgsl):
//   m' = max(m, m_c), s' = s·exp(m − m') + s_c·exp(m_c − m'); the target's logit is taken from the
//   chunk that holds it. After the last chunk: nll = m + log(s) − x[target] = logsumexp − x[target].
//   first = 1 starts a fresh state (m = −inf, s = 0).
// An invocation loops 2·ceil(cols / WG) times: the caller splits wider chunks into several
//   dispatches (llvmpipe silently ends an invocation after 65535 loop iterations; see
//   thanos/gpu/loop_budget.ts).
// Grid: one workgroup of WG invocations per row, rows folded into y past 65535 groups
//   (row = wid.x + wid.y * nwg.x); WG must be a power of two.

override WG: u32 = 128;

// #include "lib/vocab_chunks.wgsl"

// #include "lib/row_entry.wgsl"

fn row_item(row: u32, lid: u32) {
  let base = p.offset + row * p.ld;
  var mx = NEG_BIG;
  for (var c = lid; c < p.cols; c += WG) {
    mx = max(mx, logits[base + c]);
  }
  let chunkMax = workgroup_max(lid, mx);
  let chunkSum = chunk_sum_exp(lid, base, chunkMax);
  if (lid != 0u) {
    return;
  }
  let st = lse_merge(row, 3u, base, chunkMax, chunkSum); // (m, s, target logit)
  if (p.last != 0u) {
    out[row] = st.x + log(st.y) - st.z;
  } else {
    lse_store(row, 3u, st);
  }
}
