// residual_add: x[i] += y[i] — adds a sub-layer's output back into the residual stream.
//
// Bindings (group 0):
//   #params { n: u32 }
//   #binding y: array<f32>, read          [n]
//   #binding x: array<f32>, read_write    [n]
// Grid: 1-D over n, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 256;

// #include "lib/flat_entry.wgsl"

fn flat_item(i: u32) {
  if (i >= p.n) {
    return;
  }
  x[i] = x[i] + y[i];
}
