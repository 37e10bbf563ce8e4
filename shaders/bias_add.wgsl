// bias_add: x[r, c] += bias[c] — the bias of a linear layer, added to its output rows.
//
// Bindings (group 0):
//   #params { n, cols: u32 }      n = rows·cols
//   #binding bias: array<f32>, read               [cols]
//   #binding x: array<f32>, read_write            [rows, cols]
// Grid: 1-D over n, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 256;

// #include "lib/flat_entry.wgsl"

fn flat_item(i: u32) {
  if (i >= p.n) {
    return;
  }
  x[i] = x[i] + bias[i % p.cols];
}
