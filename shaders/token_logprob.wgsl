// token_logprob: per-row log-probability of a target column and whether the target is the row's
// greedy (argmax) token — what lm-eval's loglikelihood requests read for each continuation token
// (lm_eval/models/huggingface.py, _loglikelihood_tokens: log_softmax, gather of the continuation
// token, `greedy_tokens = logits.argmax(dim=-1)`, `max_equal = (greedy_tokens == cont_toks).all()`).
// The vocabulary is reduced in column chunks (the LM head is computed one vocabulary chunk at a
// time), like nll.wgsl.
//
// Bindings (group 0):
//   #params { rows, cols, lo, offset, ld, first, last: u32 }
//   #binding logits: array<f32>, read        view [rows, cols] at offset (leading dimension ld): columns
//                                      lo .. lo+cols−1 of the full logits
//   #binding targets: array<u32>, read       [rows] vocab ids
//   #binding state: array<f32>, read_write   [rows, 4] running (max m, Σ exp(x − m), target logit,
//                                      argmax id as an f32, exact for vocabularies below 2^24)
//   #binding out: array<f32>, read_write     [rows, 2] (log p(target), 1 if argmax == target else 0),
//                                      written by the chunk with last = 1
// Math: per chunk, m_c = max_c x with a_c its FIRST column (torch.argmax returns the first maximal
//   index), s_c = Σ_c exp(x − m_c); merged online in f32 (lib/vocab_chunks.wgsl): m' = max(m, m_c),
//   s' = s·exp(m − m') + s_c·exp(m_c − m'), a' = a_c if m_c > m else a (chunks arrive in vocabulary
//   order, so a tie keeps the earlier id). After the last chunk:
//   log p(target) = x[target] − (m + log s), greedy = (a == target).
//   first = 1 starts a fresh state (m = −inf, s = 0).
// An invocation loops 2·ceil(cols / WG) times: the caller splits wider chunks into several
//   dispatches (llvmpipe silently ends an invocation after 65535 loop iterations; see
//   thanos/gpu/loop_budget.ts).
// Grid: one workgroup of WG invocations per row, rows folded into y past 65535 groups
//   (row = wid.x + wid.y * nwg.x); WG must be a power of two.

override WG: u32 = 128;

// #include "lib/vocab_chunks.wgsl"
// #include "lib/argmax.wgsl"

// #include "lib/row_entry.wgsl"

fn row_item(row: u32, lid: u32) {
  let base = p.offset + row * p.ld;
  // chunk max and its first column (columns visited in increasing order: strict > keeps the first)
  var mx = NEG_BIG;
  var at = 0xffffffffu;
  for (var c = lid; c < p.cols; c += WG) {
    let x = logits[base + c];
    if (x > mx || at == 0xffffffffu) {
      mx = x;
      at = c;
    }
  }
  let best = workgroup_argmax(lid, mx, at); // larger value wins; on a tie the smaller column
  let chunkMax = best.value;
  let chunkSum = chunk_sum_exp(lid, base, chunkMax);
  if (lid != 0u) {
    return;
  }
  // the argmax so far: this chunk's unless an earlier chunk's maximum is at least as large
  var arg = best.index + p.lo;
  if (p.first == 0u && !(chunkMax > state[row * 4u])) {
    arg = u32(state[row * 4u + 3u]);
  }
  let st = lse_merge(row, 4u, base, chunkMax, chunkSum); // (m, s, target logit)
  let t = targets[row];
  if (p.last != 0u) {
    out[row * 2u] = st.z - (st.x + log(st.y));
    out[row * 2u + 1u] = select(0.0, 1.0, arg == t);
  } else {
    lse_store(row, 4u, st);
    state[row * 4u + 3u] = f32(arg); // exact below 2^24 ids
  }
}
