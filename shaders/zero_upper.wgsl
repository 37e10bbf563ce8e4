// zero_upper: A[i, j] = 0 for j > i (the strict upper triangle of a square window).
//
// Bindings (group 0):
//   #params { n, off, ld: u32 }
//   #binding a: array<f32>, read_write   [n, n] window at off, leading dimension ld
// Grid: (ceil(n / WG_X), ceil(n / WG_Y)) workgroups of WG_X x WG_Y; one element each.

override WG_X: u32 = 16;
override WG_Y: u32 = 16;

// #include "lib/grid_entry.wgsl"

fn grid_item(i: u32, j: u32) {
  if (i < p.n && j < p.n && j > i) {
    a[p.off + i * p.ld + j] = 0.0;
  }
}
