// removal_sets_vec4: removal_sets.wgsl reading the block's mask and weights and writing the sets
// four at a time, for views whose offsets, leading dimensions and widths are multiples of 4
// (removalSets chooses it): the same idx, rhs and counts. llvmpipe loads and stores storage lane by
// lane (a scattered access each), and a store under a condition that differs between lanes costs
// as much as one in every lane, so every step stores exactly one vec4 of idx and one of rhs, with
// no branch: the row's removed columns are packed into a window of eight slots in registers (lo,
// hi), lo is stored where the row's current vec4 is (again and again while it fills; the last time
// complete), and once full it is replaced by hi. Stores per row: one pair per four columns plus
// the padding, against one pair per removed column (2.6 → 0.95 ms for a 3072 x 128 block).
//
// Bindings (group 0):
//   #params { rows, count, mask_offset, mask_ld, w_offset, w_ld: u32 }   (in elements, as removal_sets.wgsl)
//   #binding mask: array<vec4u>, read      view [rows, count] (1 = remove), element (r, j) at mask_offset + r*mask_ld + j
//   #binding w: array<vec4f>, read         view [rows, count], element (r, j) at w_offset + r*w_ld + j
//   #binding idx: array<vec4u>, read_write [rows, count]  idx[r, 0..counts[r]) = removed columns j, ascending; rest 0
//   #binding rhs: array<vec4f>, read_write [rows, count]  rhs[r, k] = w[r, idx[r, k]] for k < counts[r]; rest 0
//   #binding counts: array<u32>, read_write [rows]        counts[r] = |q_r|
// Grid: as removal_sets.wgsl (one invocation per row).

override WG: u32 = 64;

// #include "lib/flat_entry.wgsl"

// puts column j with weight v into window slot `slot` (0..7; 8: nowhere)
fn place(
  slot: u32,
  j: u32,
  v: f32,
  loI: ptr<function, vec4u>,
  hiI: ptr<function, vec4u>,
  loR: ptr<function, vec4f>,
  hiR: ptr<function, vec4f>,
) {
  let lo = vec4u(slot) == vec4u(0u, 1u, 2u, 3u);
  let hi = vec4u(slot) == vec4u(4u, 5u, 6u, 7u);
  *loI = select(*loI, vec4u(j), lo);
  *hiI = select(*hiI, vec4u(j), hi);
  *loR = select(*loR, vec4f(v), lo);
  *hiR = select(*hiR, vec4f(v), hi);
}

fn flat_item(r: u32) {
  if (r >= p.rows) {
    return;
  }
  let base4 = r * p.count / 4u;
  let maskRow = (p.mask_offset + r * p.mask_ld) / 4u;
  let wRow = (p.w_offset + r * p.w_ld) / 4u;
  var c = 0u; //                     columns appended so far
  var loI = vec4u(0u); //            slots c & ~3 .. +3 (the row's current vec4), then the next four
  var hiI = vec4u(0u);
  var loR = vec4f(0.0);
  var hiR = vec4f(0.0);
  for (var j4 = 0u; j4 < p.count / 4u; j4++) {
    let m = select(vec4u(0u), vec4u(1u), mask[maskRow + j4] != vec4u(0u));
    let v = w[wRow + j4];
    // slot of each removed column in the window: (c & 3) + the removed ones before it in this vec4
    let s0 = c & 3u;
    let s = vec4u(s0, s0 + m.x, s0 + m.x + m.y, s0 + m.x + m.y + m.z);
    // a removed column's slot, or 8 (no slot) for a kept one
    let slot = select(vec4u(8u), s, m != vec4u(0u));
    let j = 4u * j4;
    place(slot.x, j, v.x, &loI, &hiI, &loR, &hiR);
    place(slot.y, j + 1u, v.y, &loI, &hiI, &loR, &hiR);
    place(slot.z, j + 2u, v.z, &loI, &hiI, &loR, &hiR);
    place(slot.w, j + 3u, v.w, &loI, &hiI, &loR, &hiR);
    idx[base4 + c / 4u] = loI;
    rhs[base4 + c / 4u] = loR;
    let added = m.x + m.y + m.z + m.w;
    if (s0 + added >= 4u) {
      loI = hiI;
      loR = hiR;
      hiI = vec4u(0u);
      hiR = vec4f(0.0);
    }
    c += added;
  }
  counts[r] = c;
  // the partly filled vec4 when the last one filled up (zeros past c), then zeros to the row's end
  var k4 = (c + 3u) / 4u;
  if ((c & 3u) != 0u) {
    idx[base4 + c / 4u] = loI;
    rhs[base4 + c / 4u] = loR;
  }
  for (; k4 < p.count / 4u; k4++) {
    idx[base4 + k4] = vec4u(0u);
    rhs[base4 + k4] = vec4f(0.0);
  }
}
