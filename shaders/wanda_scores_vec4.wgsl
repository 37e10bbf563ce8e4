// wanda_scores_vec4: wanda_scores.wgsl four scores at a time, for views whose offsets, leading
// dimensions and columns are multiples of 4 and a col_offset that is one too (wandaScores chooses
// it): out_ij = |w_ij| · sqrt(colSqNorms[col_offset + j]), the same bits. llvmpipe loads and stores
// storage lane by lane, so a quarter of the memory operations.
//
// Bindings (group 0):
//   #params { count, cols, w_offset, w_ld, out_offset, out_ld, col_offset: u32 }
//        (in floats, as wanda_scores.wgsl; count = rows*cols)
//   #binding w: array<vec4f>, read         element (i, j) at float w_offset + i*w_ld + j
//   #binding norms: array<vec4f>, read         [layer cols / 4] squared column norms ‖X_j‖²
//   #binding out: array<vec4f>, read_write   element (i, j) at float out_offset + i*out_ld + j
// Grid: 1-D over the count / 4 vec4s (flat, row-major), workgroup size WG, folded into y.

override WG: u32 = 256;

// #include "lib/flat_entry.wgsl"

fn flat_item(f: u32) {
  if (f >= p.count / 4u) {
    return;
  }
  let e = row_col(4u * f, p.cols);
  let n = norms[(p.col_offset + e.y) / 4u];
  out[view_at(p.out_offset, p.out_ld, e) / 4u] = abs(w[view_at(p.w_offset, p.w_ld, e) / 4u]) * sqrt(n);
}
