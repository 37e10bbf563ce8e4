// broadcast_rows: copies one u32 row into every row of a view.
//
// Bindings (group 0):
//   #params { rows, cols, offset, ld: u32 }
//   #binding row: array<u32>, read         [cols]
//   #binding x: array<u32>, read_write     view [rows, cols], (r, j) at offset + r*ld + j
// Math: x[r, j] = row[j] — structured Thanos's mask is the set of removed columns in every row.
// Grid: 2-D, x over cols (WG_X per group), y over rows (WG_Y per group).

override WG_X: u32 = 64;
override WG_Y: u32 = 4;

// #include "lib/grid_entry.wgsl"

fn grid_item(r: u32, j: u32) {
  if (r >= p.rows || j >= p.cols) {
    return;
  }
  x[p.offset + r * p.ld + j] = row[j];
}
