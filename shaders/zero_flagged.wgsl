// zero_flagged: sets whole rows (axis 0) or whole columns (axis 1) of a view to zero where a flag is
//   set (f32 and u32 alike: both zeros are the all-zero bit pattern, so the buffer is declared u32).
//
// Bindings (group 0):
//   #params { rows, cols, offset, ld, invert, axis: u32 }
//   #binding flags: array<u32>, read       [rows] when axis == 0, [cols] when axis == 1
//   #binding x: array<u32>, read_write     view [rows, cols], (r, j) at offset + r*ld + j
// Math: x[r, j] = 0 where (flags[axis == 0 ? r : j] != 0) != (invert != 0). Thanos keeps outlier rows
//   dense by clearing their mask rows, and zeroes the weight columns of dead inputs (W[:, dead] = 0).
// Grid: 2-D, x over cols (WG_X per group), y over rows (WG_Y per group).

override WG_X: u32 = 64;
override WG_Y: u32 = 4;

// #include "lib/grid_entry.wgsl"

fn grid_item(r: u32, j: u32) {
  if (r >= p.rows || j >= p.cols) {
    return;
  }
  let f = flags[select(r, j, p.axis == 1u)];
  if ((f != 0u) != (p.invert != 0u)) {
    x[p.offset + r * p.ld + j] = 0u;
  }
}
