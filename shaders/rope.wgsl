// rope: rotary position embedding in place, LLaMA's "rotate half" layout (HF apply_rotary_pos_emb).
//
// Bindings (group 0):
//   #params { rows, seqLen, heads, headDim, offset, ld: u32 }
//   #binding cosTable: array<f32>, read     [seqLen, headDim/2]  cos(pos · inv_freq[j])
//   #binding sinTable: array<f32>, read     [seqLen, headDim/2]  sin(pos · inv_freq[j])
//   #binding x: array<f32>, read_write      view [rows, heads·headDim]: (r, c) at offset + r·ld + c
// Math: row r is position pos = r mod seqLen (rows are batch·seqLen tokens, batch-major). In each
//   head, the pair (x1, x2) = (x[j], x[j + headDim/2]) for j < headDim/2 becomes
//   (x1·cos − x2·sin, x2·cos + x1·sin), i.e. x·cos + rotate_half(x)·sin with cos/sin = cat(f, f).
//   The tables are computed on the CPU (frequencies incl. rope_scaling; angles rounded to f32 as
//   HF does), so no trigonometry runs on the GPU.
// Grid: 1-D over rows·heads·headDim/2, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 256;

// #include "lib/flat_entry.wgsl"

fn flat_item(i: u32) {
  let half = p.headDim / 2u;
  let perRow = p.heads * half;
  if (i >= p.rows * perRow) {
    return;
  }
  let r = i / perRow;
  let rem = i - r * perRow;
  let h = rem / half;
  let j = rem - h * half;
  let pos = r % p.seqLen;
  let c = cosTable[pos * half + j];
  let s = sinTable[pos * half + j];
  let i1 = p.offset + r * p.ld + h * p.headDim + j;
  let i2 = i1 + half;
  let x1 = x[i1];
  let x2 = x[i2];
  x[i1] = x1 * c - x2 * s;
  x[i2] = x2 * c + x1 * s;
}
