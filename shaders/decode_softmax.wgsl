// decode_softmax: softmax in place over the first `len` scores of each head's row (decode step).
//
// Bindings (group 0):
//   #params { heads, len, ldS: u32 }
//   #binding scores: array<f32>, read_write [heads, ldS]; columns 0 .. len−1 are read and overwritten
// Math: per head h, m = max_j s[h, j], e_j = exp(s[h, j] − m), s[h, j] = e_j / Σ_j e_j (f32,
//   max-subtraction as the batched attention kernel does).
// Grid: (ceil(heads / WG)); one invocation per head, looping 3·len + 3 times.

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let h = gid.x;
  if (h >= p.heads) {
    return;
  }
  let base = h * p.ldS;
  var m = -3.0e38;
  for (var j = 0u; j < p.len; j++) {
    m = max(m, scores[base + j]);
  }
  var l = 0.0;
  for (var j = 0u; j < p.len; j++) {
    let e = exp(scores[base + j] - m);
    scores[base + j] = e;
    l += e;
  }
  let inv = 1.0 / l;
  for (var j = 0u; j < p.len; j++) {
    scores[base + j] = scores[base + j] * inv;
  }
}
