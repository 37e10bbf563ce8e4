// removal_sets_vec4: removal_sets.wgsl reading the block's mask and weights four columns at a time,
// for views whose offsets, leading dimensions and widths are multiples of 4 (removalSets chooses it):
// the same idx, rhs and counts. llvmpipe loads storage lane by lane, so a quarter of the loads.
//
// Bindings (group 0):
//   #params { rows, count, mask_offset, mask_ld, w_offset, w_ld: u32 }   (in elements, as removal_sets.wgsl)
//   #binding mask: array<vec4u>, read      view [rows, count] (1 = remove), element (r, j) at mask_offset + r*mask_ld + j
//   #binding w: array<vec4f>, read         view [rows, count], element (r, j) at w_offset + r*w_ld + j
//   #binding idx: array<u32>, read_write   [rows, count]  idx[r, 0..counts[r]) = removed columns j, ascending; rest 0
//   #binding rhs: array<f32>, read_write   [rows, count]  rhs[r, k] = w[r, idx[r, k]] for k < counts[r]; rest 0
//   #binding counts: array<u32>, read_write [rows]        counts[r] = |q_r|
// Grid: as removal_sets.wgsl (one invocation per row).

override WG: u32 = 64;

// #include "lib/flat_entry.wgsl"

var<private> base: u32; // row r's first slot in idx and rhs
var<private> c: u32; //    slots filled so far

// appends column j with weight v when it is removed
fn append(removed: bool, j: u32, v: f32) {
  if (removed) {
    idx[base + c] = j;
    rhs[base + c] = v;
    c++;
  }
}

fn flat_item(r: u32) {
  if (r >= p.rows) {
    return;
  }
  base = r * p.count;
  c = 0u;
  let maskRow = (p.mask_offset + r * p.mask_ld) / 4u;
  let wRow = (p.w_offset + r * p.w_ld) / 4u;
  for (var j4 = 0u; j4 < p.count / 4u; j4++) {
    let removed = mask[maskRow + j4] != vec4u(0u);
    if (any(removed)) {
      let v = w[wRow + j4];
      append(removed.x, 4u * j4, v.x);
      append(removed.y, 4u * j4 + 1u, v.y);
      append(removed.z, 4u * j4 + 2u, v.z);
      append(removed.w, 4u * j4 + 3u, v.w);
    }
  }
  counts[r] = c;
  for (var k = c; k < p.count; k++) {
    idx[base + k] = 0u;
    rhs[base + k] = 0.0;
  }
}
