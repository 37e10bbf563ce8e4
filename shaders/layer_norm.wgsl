// layer_norm: y = (x − mean) / sqrt(var + eps) · w + b, per row (biased variance, as nn.LayerNorm).
//
// Bindings (group 0):
//   #params { rows, cols: u32, eps: f32 }
//   #binding x: array<f32>, read          [rows, cols]
//   #binding w: array<f32>, read          [cols]
//   #binding b: array<f32>, read          [cols]
//   #binding y: array<f32>, read_write    [rows, cols]
// Math: mean = (1/cols)·Σ_c x[r, c];  var = (1/cols)·Σ_c (x[r, c] − mean)²  (two passes, so a large
//   mean does not cancel the variance);  y[r, c] = (x[r, c] − mean)·inverseSqrt(var + eps)·w[c] + b[c].
// Grid: one workgroup of WG invocations per row, rows folded into y past 65535 groups
//   (row = wid.x + wid.y * nwg.x); WG must be a power of two.

override WG: u32 = 128;

// #include "lib/row_moments.wgsl"

// #include "lib/row_entry.wgsl"

fn row_item(row: u32, lid: u32) {
  let base = row * p.cols;
  let n = f32(p.cols);
  let mean = row_sum(lid, base) / n;
  let inv = inverseSqrt(row_sq_dev(lid, base, mean) / n + p.eps);
  for (var c = lid; c < p.cols; c += WG) {
    y[base + c] = fma((x[base + c] - mean) * inv, w[c], b[c]);
  }
}
