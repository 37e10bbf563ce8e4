// decode_attention: one decode step's attention for one query head per workgroup — scores against
// the cached keys, softmax, and the probability-weighted cached values in one dispatch (the
// decode_scores → decode_softmax → decode_attend chain fused, for a cache held in one chunk).
//
// Bindings (group 0):
//   #params { n, heads, kvHeads, headDim, qOffset, ldS, outOffset: u32, scale: f32 }
//   #binding q: array<f32>, read          the rotated query [heads·headDim] at qOffset
//   #binding kCache: array<f32>, read     [≥ n, kvHeads·headDim], positions 0 .. n−1
//   #binding vCache: array<f32>, read     [≥ n, kvHeads·headDim]
//   #binding scores: array<f32>, read_write [heads, ldS] scratch: row h, columns 0 .. n−1 end as the probabilities
//   #binding out: array<f32>, read_write  [heads·headDim] at outOffset
// Math (head h, key/value head g = h / (heads / kvHeads)):
//   s_j = scale · q_h·K_{j,g};  m = max_j s_j;  e_j = exp(s_j − m);  p_j = e_j / Σ_j e_j;
//   out_h[d] = Σ_j p_j V_{j,g}[d]   (f32, max-subtraction as decode_softmax does)
// Grid: (heads); workgroup size WG (a power of two). Lane i handles positions i, i + WG, … for the
//   scores and dimensions i, i + WG, … for the values; the max and the sum are reduced in workgroup
//   memory (tree, log2 WG barriers each). An invocation loops ceil(n/WG)·(headDim + 2) + log2(WG)·2 +
//   ceil(headDim/WG)·n times.
// Reference: tests/reference/decode.ts `decodeAttention`.

override WG: u32 = 64;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let h = wid.x;
  let i = lid.x;
  let g = h / (p.heads / p.kvHeads);
  let ld = p.kvHeads * p.headDim;
  let qBase = p.qOffset + h * p.headDim;
  let sBase = h * p.ldS;

  // scores and this lane's max
  var m = -3.0e38;
  for (var j = i; j < p.n; j += WG) {
    let kBase = j * ld + g * p.headDim;
    var dot = 0.0;
    for (var d = 0u; d < p.headDim; d++) {
      dot = fma(q[qBase + d], kCache[kBase + d], dot);
    }
    let s = p.scale * dot;
    scores[sBase + j] = s;
    m = max(m, s);
  }
  red[i] = m;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (i < k) {
      red[i] = max(red[i], red[i + k]);
    }
    workgroupBarrier();
  }
  m = red[0];
  workgroupBarrier();

  // exponentials and their sum
  var l = 0.0;
  for (var j = i; j < p.n; j += WG) {
    let e = exp(scores[sBase + j] - m);
    scores[sBase + j] = e;
    l += e;
  }
  red[i] = l;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (i < k) {
      red[i] = red[i] + red[i + k];
    }
    workgroupBarrier();
  }
  let inv = 1.0 / red[0];
  storageBarrier(); // every lane's exponentials visible to every lane

  // probabilities (each lane normalises its own positions) and the weighted values
  for (var j = i; j < p.n; j += WG) {
    scores[sBase + j] = scores[sBase + j] * inv;
  }
  storageBarrier();
  for (var d = i; d < p.headDim; d += WG) {
    var acc = 0.0;
    for (var j = 0u; j < p.n; j++) {
      acc = fma(scores[sBase + j], vCache[j * ld + g * p.headDim + d], acc);
    }
    out[p.outOffset + h * p.headDim + d] = acc;
  }
}
