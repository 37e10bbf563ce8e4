// nm_removal_sets: Thanos's n:m block in one pass — the mask and the removal sets of every row from
// the weights, without writing scores: for each row r and group g of m block columns,
//   s_j = |w_rj| · sqrt(norms[col_offset + j])              (wanda_scores.wgsl's arithmetic)
//   mask_rj = 1  iff  #{ j' in group(j) : key_j' < key_j  or  (key_j' == key_j and j' < j) } < n
// (nm_mask.wgsl's rule and order keys: ties by the lower column, NaN after +Inf), and the sets as
// removal_sets.wgsl writes them: idx[r, g·n + t] = the group's t-th removed column (ascending),
// rhs = its weight, counts[r] = groups·n, zeros in idx/rhs past that. Outlier rows (outliers[r] != 0
// with has_outliers) stay dense: mask 0, count 0, idx/rhs all 0. The same mask, idx, rhs and counts
// as wanda_scores → nm_mask → zeroRows → removal_sets, in one dispatch instead of four.
//
// Bindings (group 0):
//   #params { rows, groups, n, m, w_offset, w_ld, col_offset, mask_offset, mask_ld, stride, has_outliers: u32 }
//        (the block is [rows, groups·m]; stride = the row stride of idx/rhs, ≥ groups·m)
//   #binding w: array<f32>, read             element (r, j) at w_offset + r*w_ld + j
//   #binding norms: array<f32>, read         squared column norms ‖X_j‖² of the layer
//   #binding outliers: array<u32>, read      [rows] (unread without has_outliers)
//   #binding mask: array<u32>, read_write    element (r, j) at mask_offset + r*mask_ld + j
//   #binding idx: array<u32>, read_write     [rows, stride]
//   #binding rhs: array<f32>, read_write     [rows, stride]
//   #binding counts: array<u32>, read_write  [rows]
// Grid: 1-D over the rows·groups groups (one invocation each), workgroup size WG, folded into y.
//   An invocation loops (m + 1) + m·(m + 1) + (m − n + 1) times or less, plus m + 1 where a dense
//   outlier row shares its SIMD vector (the caller checks the loop budget: ops.ts nmSetsCost).

override WG: u32 = 64;

// #include "lib/flat_entry.wgsl"
// #include "lib/order_key.wgsl"

var<private> wRow: u32; //   w_offset + r·w_ld + g·m: the group's first weight
var<private> colRow: u32; // col_offset + g·m: its first column norm

fn key(t: u32) -> u32 {
  return order_key(bitcast<u32>(abs(w[wRow + t]) * sqrt(norms[colRow + t])));
}

fn flat_item(f: u32) {
  if (f >= p.rows * p.groups) {
    return;
  }
  let r = f / p.groups;
  let g = f % p.groups;
  wRow = p.w_offset + r * p.w_ld + g * p.m;
  colRow = p.col_offset + g * p.m;
  let maskRow = p.mask_offset + r * p.mask_ld + g * p.m;
  let base = r * p.stride;
  let selected = p.groups * p.n;
  var dense = false;
  if (p.has_outliers != 0u) {
    dense = outliers[r] != 0u;
  }
  if (dense) {
    for (var t = 0u; t < p.m; t++) {
      mask[maskRow + t] = 0u;
      idx[base + g * p.m + t] = 0u;
      rhs[base + g * p.m + t] = 0.0;
    }
    if (g == 0u) {
      counts[r] = 0u;
    }
    return;
  }
  var taken = 0u;
  for (var t = 0u; t < p.m; t++) {
    let k = key(t);
    var rank = 0u;
    for (var i = 0u; i < p.m; i++) {
      let other = key(i);
      if (other < k || (other == k && i < t)) {
        rank++;
      }
    }
    let removed = rank < p.n;
    mask[maskRow + t] = select(0u, 1u, removed);
    if (removed) {
      idx[base + g * p.n + taken] = g * p.m + t;
      rhs[base + g * p.n + taken] = w[wRow + t];
      taken++;
    }
  }
  // this group's share of the padding past the sets: slots selected + g·(m − n) .. + (m − n)
  for (var t = 0u; t < p.m - p.n; t++) {
    idx[base + selected + g * (p.m - p.n) + t] = 0u;
    rhs[base + selected + g * (p.m - p.n) + t] = 0.0;
  }
  if (g == 0u) {
    counts[r] = selected;
  }
}
