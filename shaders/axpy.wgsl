// axpy: y[i, j] += alpha · x[i, j] for every element of a rows x cols window.
//
// Bindings (group 0):
//   #params { rows, cols, offX, ldX, offY, ldY: u32, alpha: f32 }
//   #binding x: array<f32>, read         [rows, cols] window at offX with leading dimension ldX
//   #binding y: array<f32>, read_write   [rows, cols] window at offY with leading dimension ldY
// Grid: 1-D over rows·cols (row-major), workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y · nwg.x · WG).

override WG: u32 = 256;

// #include "lib/flat_entry.wgsl"

fn flat_item(e: u32) {
  if (e >= p.rows * p.cols) {
    return;
  }
  let ij = row_col(e, p.cols);
  let at = view_at(p.offY, p.ldY, ij);
  y[at] = fma(p.alpha, x[view_at(p.offX, p.ldX, ij)], y[at]);
}
