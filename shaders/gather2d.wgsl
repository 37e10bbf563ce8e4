// gather2d: out[i, j] = src[rowIdx[i], colIdx[j]] — a submatrix picked by index lists.
//
// Bindings (group 0):
//   #params { rows, cols, src_offset, src_ld, out_offset, out_ld, use_row_idx, use_col_idx: u32 }
//   #binding src: array<f32>, read         view, (a, b) at src_offset + a*src_ld + b
//   #binding row_idx: array<u32>, read     [rows] (ignored, identity, when use_row_idx == 0)
//   #binding col_idx: array<u32>, read     [cols] (ignored, identity, when use_col_idx == 0)
//   #binding out: array<f32>, read_write   view [rows, cols], (i, j) at out_offset + i*out_ld + j
// Math: structured Thanos gathers Hinv[P, P], Hinv[P, :] and W[:, P] for the removed columns P.
// Grid: 2-D, x over cols (WG_X per group), y over rows (WG_Y per group).

override WG_X: u32 = 16;
override WG_Y: u32 = 4;

// #include "lib/grid_entry.wgsl"

fn grid_item(i: u32, j: u32) {
  if (i >= p.rows || j >= p.cols) {
    return;
  }
  var a = i;
  if (p.use_row_idx != 0u) {
    a = row_idx[i];
  }
  var b = j;
  if (p.use_col_idx != 0u) {
    b = col_idx[j];
  }
  out[p.out_offset + i * p.out_ld + j] = src[p.src_offset + a * p.src_ld + b];
}
