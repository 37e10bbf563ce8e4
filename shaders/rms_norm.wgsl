// rms_norm: LLaMA's RMSNorm, y = x · rsqrt(mean(x²) + eps) · w, per row, in f32.
//
// Bindings (group 0):
//   #params { rows, cols: u32, eps: f32 }
//   #binding x: array<f32>, read          [rows, cols]
//   #binding w: array<f32>, read          [cols]
//   #binding y: array<f32>, read_write    [rows, cols]
// Math: ms = (1/cols)·Σ_c x[r, c]²;  y[r, c] = w[c] · (x[r, c] · inverseSqrt(ms + eps))
//   (HF LlamaRMSNorm: weight * (hidden * rsqrt(variance + eps))).
// Grid: one workgroup of WG invocations per row, rows folded into y past 65535 groups
//   (row = wid.x + wid.y * nwg.x); WG must be a power of two.

override WG: u32 = 128;

// #include "lib/row_moments.wgsl"

// #include "lib/row_entry.wgsl"

fn row_item(row: u32, lid: u32) {
  let base = row * p.cols;
  let inv = inverseSqrt(row_sq_dev(lid, base, 0.0) / f32(p.cols) + p.eps);
  for (var c = lid; c < p.cols; c += WG) {
    y[base + c] = w[c] * (x[base + c] * inv);
  }
}
