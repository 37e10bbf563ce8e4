// apply_mask: prunes in place, w_ij = 0 where mask_ij != 0 (applyMask).
//
// Bindings (group 0):
//   #params { count, cols, w_offset, w_ld, mask_offset, mask_ld: u32 }   (count = rows*cols)
//   #binding mask: array<u32>, read         element (i, j) at mask_offset + i*mask_ld + j
//   #binding w: array<f32>, read_write   element (i, j) at w_offset + i*w_ld + j
// Grid: 1-D over the rows*cols elements (flat, row-major), workgroup size WG, folded into y
//   (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 256;

// #include "lib/flat_entry.wgsl"

fn flat_item(f: u32) {
  if (f >= p.count) {
    return;
  }
  let e = row_col(f, p.cols);
  if (mask[view_at(p.mask_offset, p.mask_ld, e)] != 0u) {
    w[view_at(p.w_offset, p.w_ld, e)] = 0.0;
  }
}
