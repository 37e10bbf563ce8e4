// scale: x[i, j] *= alpha for every element of a rows x cols window.
//
// Bindings (group 0):
//   #params { rows, cols, off, ld: u32, alpha: f32 }
//   #binding x: array<f32>, read_write   [rows, cols] window at off with leading dimension ld
// Grid: 1-D over rows·cols (row-major), workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y · nwg.x · WG).

override WG: u32 = 256;

// #include "lib/flat_entry.wgsl"

fn flat_item(e: u32) {
  if (e >= p.rows * p.cols) {
    return;
  }
  let at = view_at(p.off, p.ld, row_col(e, p.cols));
  x[at] = p.alpha * x[at];
}
