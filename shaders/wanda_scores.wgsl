// wanda_scores: Wanda pruning scores, out_ij = |w_ij| · sqrt(colSqNorms[col_offset + j])
// (wandaScores; col_offset places a window W[:, i1:] inside the layer's column statistics).
//
// Bindings (group 0):
//   #params { count, cols, w_offset, w_ld, out_offset, out_ld, col_offset: u32 }
//        (count = rows*cols)
//   #binding w: array<f32>, read         element (i, j) at w_offset + i*w_ld + j
//   #binding norms: array<f32>, read         [layer cols] squared column norms ‖X_j‖²
//   #binding out: array<f32>, read_write   element (i, j) at out_offset + i*out_ld + j
// Grid: 1-D over the rows*cols elements (flat, row-major), workgroup size WG, folded into y
//   (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 256;

// #include "lib/flat_entry.wgsl"

fn flat_item(f: u32) {
  if (f >= p.count) {
    return;
  }
  let e = row_col(f, p.cols);
  out[view_at(p.out_offset, p.out_ld, e)] = abs(w[view_at(p.w_offset, p.w_ld, e)]) * sqrt(norms[p.col_offset + e.y]);
}
