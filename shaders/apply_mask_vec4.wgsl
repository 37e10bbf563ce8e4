// apply_mask_vec4: apply_mask.wgsl four elements at a time, for views whose offsets, leading
// dimensions and columns are multiples of 4 (applyMask chooses it): w_ij = 0 where mask_ij != 0,
// the other elements keep their bits (a vec4 with no mask bit set is not written). llvmpipe loads
// and stores storage lane by lane, so a quarter of the memory operations.
//
// Bindings (group 0):
//   #params { count, cols, w_offset, w_ld, mask_offset, mask_ld: u32 }   (in elements; count = rows*cols)
//   #binding mask: array<vec4u>, read         element (i, j) at mask_offset + i*mask_ld + j
//   #binding w: array<vec4f>, read_write   element (i, j) at w_offset + i*w_ld + j
// Grid: 1-D over the count / 4 vec4s (flat, row-major), workgroup size WG, folded into y.

override WG: u32 = 256;

// #include "lib/flat_entry.wgsl"

fn flat_item(f: u32) {
  if (f >= p.count / 4u) {
    return;
  }
  let e = row_col(4u * f, p.cols);
  let pruned = mask[view_at(p.mask_offset, p.mask_ld, e) / 4u] != vec4u(0u);
  if (any(pruned)) {
    let at = view_at(p.w_offset, p.w_ld, e) / 4u;
    w[at] = select(w[at], vec4f(0.0), pruned);
  }
}
