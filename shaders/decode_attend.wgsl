// decode_attend: the attention output of one new query, a probability-weighted sum of a chunk of
// cached values (decode step; the probabilities come from decode_softmax).
//
// Bindings (group 0):
//   #params { n, lo, heads, kvHeads, headDim, ldS, outOffset: u32 }
//   #binding probs: array<f32>, read        [heads, ldS] softmax of the scores over every cached position
//   #binding vCache: array<f32>, read       [≥ n, kvHeads·headDim]: values of positions lo .. lo+n−1
//   #binding out: array<f32>, read_write    [heads·headDim] at outOffset
// Math: for head h (value head g = h / (heads / kvHeads)) and d < headDim:
//   t = Σ_{j<n} probs[h, lo + j] · vCache[j, g·headDim + d];
//   out[h·headDim + d] = t (ACCUMULATE false: the first chunk) or out += t (later chunks).
// Grid: 1-D over heads·headDim, workgroup size WG; an invocation loops n + 1 times.

override WG: u32 = 64;
override ACCUMULATE: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.heads * p.headDim) {
    return;
  }
  let h = i / p.headDim;
  let d = i - h * p.headDim;
  let g = h / (p.heads / p.kvHeads);
  let ld = p.kvHeads * p.headDim;
  let pBase = h * p.ldS + p.lo;
  var t = 0.0;
  for (var j = 0u; j < p.n; j++) {
    t = fma(probs[pBase + j], vCache[j * ld + g * p.headDim + d], t);
  }
  let at = p.outOffset + i;
  if (ACCUMULATE) {
    out[at] = out[at] + t;
  } else {
    out[at] = t;
  }
}
