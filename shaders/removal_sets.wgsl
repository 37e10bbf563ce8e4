// removal_sets: per row, the list of block columns to remove (Thanos's q_r) and their weights.
//
// Bindings (group 0):
//   #params { rows, count, mask_offset, mask_ld, w_offset, w_ld: u32 }
//   #binding mask: array<u32>, read        view [rows, count] (1 = remove), element (r, j) at mask_offset + r*mask_ld + j
//   #binding w: array<f32>, read           view [rows, count], element (r, j) at w_offset + r*w_ld + j
//   #binding idx: array<u32>, read_write   [rows, count]  idx[r, 0..counts[r]) = removed columns j, ascending; rest 0
//   #binding rhs: array<f32>, read_write   [rows, count]  rhs[r, k] = w[r, idx[r, k]] for k < counts[r]; rest 0
//   #binding counts: array<u32>, read_write [rows]        counts[r] = |q_r|
// Math: q_r = { j : mask[r, j] = 1 }, b_r = W[r, q_r]ᵀ — the right-hand side of Hinv[q,q]·λ = b.
// Grid: 1-D over rows (one invocation per row), workgroup size WG, folded into y past 65535 groups.
//   An invocation loops 2·(count + 1) times (Thanos's blocks are ≤ 256 wide; the caller rejects
//   blocks past llvmpipe's loop budget, see thanos/gpu/loop_budget.ts).

override WG: u32 = 64;

// #include "lib/flat_entry.wgsl"

fn flat_item(r: u32) {
  if (r >= p.rows) {
    return;
  }
  var c = 0u;
  for (var j = 0u; j < p.count; j++) {
    if (mask[p.mask_offset + r * p.mask_ld + j] != 0u) {
      idx[r * p.count + c] = j;
      rhs[r * p.count + c] = w[p.w_offset + r * p.w_ld + j];
      c++;
    }
  }
  counts[r] = c;
  for (var k = c; k < p.count; k++) {
    idx[r * p.count + k] = 0u;
    rhs[r * p.count + k] = 0.0;
  }
}
