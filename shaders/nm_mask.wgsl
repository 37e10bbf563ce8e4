// nm_mask: n:m selection — in every row, in every group of m consecutive columns (groups start at
// the view's column 0), the n smallest scores, ties broken by the lower column index (nmMask).
//   mask_ij = 1  iff  #{ j' in group(j) : key_ij' < key_ij  or  (key_ij' == key_ij and j' < j) } < n
// Order key: lib/order_key.wgsl (numeric order, −0 ties with +0, NaN after +Inf).
// Cost: m reads per element (the group's scores, cached), so O(m) per element; m + 1 loop
// iterations per invocation (the caller rejects m past llvmpipe's loop budget, see
// thanos/gpu/loop_budget.ts).
//
// Bindings (group 0):
//   #params { count, cols, n, m, offset, ld, mask_offset, mask_ld: u32 }   (count = rows*cols)
//   #binding scores: array<u32>, read         f32 bits; element (i, j) at offset + i*ld + j
//   #binding mask: array<u32>, read_write   element (i, j) at mask_offset + i*mask_ld + j
// Grid: 1-D over the rows*cols elements (flat, row-major), workgroup size WG, folded into y
//   (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 256;

// #include "lib/flat_entry.wgsl"

// #include "lib/order_key.wgsl"

fn flat_item(f: u32) {
  if (f >= p.count) {
    return;
  }
  let e = row_col(f, p.cols);
  let j = e.y % p.m; // position inside the group
  let group = view_at(p.offset, p.ld, e) - j;
  let key = order_key(scores[group + j]);
  var rank = 0u;
  for (var i = 0u; i < p.m; i++) {
    let other = order_key(scores[group + i]);
    if (other < key || (other == key && i < j)) {
      rank++;
    }
  }
  mask[view_at(p.mask_offset, p.mask_ld, e)] = select(0u, 1u, rank < p.n);
}
