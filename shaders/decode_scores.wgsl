// decode_scores: attention scores of one new query against a chunk of cached keys (decode step).
//
// Bindings (group 0):
//   #params { n, lo, heads, kvHeads, headDim, qOffset, ldS: u32, scale: f32 }
//   #binding q: array<f32>, read            [heads·headDim] at qOffset (rotary already applied)
//   #binding kCache: array<f32>, read       [≥ n, kvHeads·headDim]: keys of positions lo .. lo+n−1
//   #binding scores: array<f32>, read_write [heads, ldS]
// Math: for head h (reading key/value head g = h / (heads / kvHeads), HF repeat_kv) and j < n:
//   scores[h, lo + j] = scale · Σ_d q[h·headDim + d] · kCache[j, g·headDim + d].
// Grid: (ceil(n / WG), heads); invocation (x, y) is key j = x of head y. Loops headDim + 1 times.

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  let h = gid.y;
  if (j >= p.n || h >= p.heads) {
    return;
  }
  let g = h / (p.heads / p.kvHeads);
  let qBase = p.qOffset + h * p.headDim;
  let kBase = j * p.kvHeads * p.headDim + g * p.headDim;
  var s = 0.0;
  for (var d = 0u; d < p.headDim; d++) {
    s = fma(q[qBase + d], kCache[kBase + d], s);
  }
  scores[h * p.ldS + p.lo + j] = s * p.scale;
}
