// kv_append: the decode step's write of one token's keys and values into a block's KV cache, with
// the rotary embedding of its query and key (LLaMA) applied on the way.
//
// Bindings (group 0):
//   #params { pos, row, heads, kvHeads, headDim, qOffset, kOffset, vOffset: u32 }
//   #binding cosTable: array<f32>, read     [positions, headDim/2]  cos(pos · inv_freq[j]) (read only when ROPE)
//   #binding sinTable: array<f32>, read     [positions, headDim/2]  sin(pos · inv_freq[j]) (read only when ROPE)
//   #binding qkv: array<f32>, read_write    the token's projections: q [heads·headDim] at qOffset,
//                                     k [kvHeads·headDim] at kOffset, v [kvHeads·headDim] at vOffset
//   #binding kCache: array<f32>, read_write [rows, kvHeads·headDim], a position chunk of the key cache
//   #binding vCache: array<f32>, read_write [rows, kvHeads·headDim], the same chunk of the value cache
// Math: with half = headDim/2 and, in each head, the pair (x1, x2) = (x[j], x[j + half]) for j < half:
//   ROPE:  q pairs become (x1·c − x2·s, x2·c + x1·s) in place, c = cos[pos, j], s = sin[pos, j]
//          (HF's x·cos + rotate_half(x)·sin), and kCache[row] = the same rotation of k;
//   else:  q is untouched and kCache[row] = k.
//   vCache[row] = v always. `pos` is the token's position (row of the tables), `row` its row in this
//   cache chunk.
// Grid: 1-D over (heads + 2·kvHeads)·half pairs (q pairs, then k pairs, then v pairs), workgroup
//   size WG, folded into y past 65535 groups (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 64;
override ROPE: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let half = p.headDim / 2u;
  let qPairs = p.heads * half;
  let kvPairs = p.kvHeads * half;
  if (i >= qPairs + 2u * kvPairs) {
    return;
  }
  var c = 1.0;
  var s = 0.0;
  let j = i % half; // pair index inside its head (q, k and v pairs all start at a head boundary)
  if (ROPE) {
    c = cosTable[p.pos * half + j];
    s = sinTable[p.pos * half + j];
  }
  let kvWidth = p.kvHeads * p.headDim;
  if (i < qPairs) {
    if (ROPE) {
      let h = i / half;
      let i1 = p.qOffset + h * p.headDim + j;
      let x1 = qkv[i1];
      let x2 = qkv[i1 + half];
      qkv[i1] = x1 * c - x2 * s;
      qkv[i1 + half] = x2 * c + x1 * s;
    }
    return;
  }
  if (i < qPairs + kvPairs) {
    let h = (i - qPairs) / half;
    let x1 = qkv[p.kOffset + h * p.headDim + j];
    let x2 = qkv[p.kOffset + h * p.headDim + j + half];
    let at = p.row * kvWidth + h * p.headDim + j;
    kCache[at] = x1 * c - x2 * s;
    kCache[at + half] = x2 * c + x1 * s;
    return;
  }
  let h = (i - qPairs - kvPairs) / half;
  let at = p.row * kvWidth + h * p.headDim + j;
  vCache[at] = qkv[p.vOffset + h * p.headDim + j];
  vCache[at + half] = qkv[p.vOffset + h * p.headDim + j + half];
}
