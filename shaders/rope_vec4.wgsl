// rope_vec4: rope.wgsl four pairs at a time, for views whose rows are whole vec4s (offset and ld
// multiples of 4) and heads whose halves are (headDim a multiple of 8): the same per-element
// expression, so the same bits; llvmpipe loads and stores storage lane by lane, so a quarter of
// the memory operations.
//
// Bindings (group 0):
//   #params { rows, seqLen, heads, headDim, offset, ld: u32 }
//   #binding cosTable: array<vec4f>, read   [seqLen, headDim/2] as in rope.wgsl
//   #binding sinTable: array<vec4f>, read   [seqLen, headDim/2]
//   #binding x: array<vec4f>, read_write    view [rows, heads·headDim]: (r, c) at float offset + r·ld + c
// Math: rope.wgsl's, for the pairs (x[j .. j+4], x[j + headDim/2 .. + 4]) of each head, j = 4·j4.
// Grid: 1-D over rows·heads·headDim/8, workgroup size WG, folded into y past 65535 groups.

override WG: u32 = 256;

// #include "lib/flat_entry.wgsl"

fn flat_item(i: u32) {
  let half4 = p.headDim / 8u; // vec4s in half a head
  let perRow = p.heads * half4;
  if (i >= p.rows * perRow) {
    return;
  }
  let r = i / perRow;
  let rem = i - r * perRow;
  let h = rem / half4;
  let j4 = rem - h * half4;
  let pos = r % p.seqLen;
  let c = cosTable[pos * half4 + j4];
  let s = sinTable[pos * half4 + j4];
  let i1 = (p.offset + r * p.ld + h * p.headDim) / 4u + j4;
  let i2 = i1 + half4;
  let x1 = x[i1];
  let x2 = x[i2];
  x[i1] = x1 * c - x2 * s;
  x[i2] = x2 * c + x1 * s;
}
