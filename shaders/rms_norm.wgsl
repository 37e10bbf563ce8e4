// rms_norm: LLaMA's RMSNorm, y = x · rsqrt(mean(x²) + eps) · w, per row, in f32; when CHECK, the
// NaN/Inf check of y recorded in the same pass.
//
// Bindings (group 0):
//   #params { rows, cols: u32, eps: f32, slot: u32 }
//   #binding x: array<f32>, read          [rows, cols]
//   #binding w: array<f32>, read          [cols]
//   #binding y: array<f32>, read_write    [rows, cols]
//   #binding flags: array<atomic<u32>>, read_write   [> slot] (untouched unless CHECK)
// Math: ms = (1/cols)·Σ_c x[r, c]²;  y[r, c] = w[c] · (x[r, c] · inverseSqrt(ms + eps))
//   (HF LlamaRMSNorm: weight * (hidden * rsqrt(variance + eps)));
//   when CHECK, flags[slot] = max(flags[slot], 0xffffffff − (r·cols + c)) for every non-finite
//   y[r, c] (the convention of first_nonfinite.wgsl).
// Grid: one workgroup of WG invocations per row, rows folded into y past 65535 groups
//   (row = wid.x + wid.y * nwg.x); WG must be a power of two.

override WG: u32 = 128;
override CHECK: bool = false;

// #include "lib/row_moments.wgsl"

// #include "lib/row_entry.wgsl"

fn row_item(row: u32, lid: u32) {
  let base = row * p.cols;
  let inv = inverseSqrt(row_sq_dev(lid, base, 0.0) / f32(p.cols) + p.eps);
  for (var c = lid; c < p.cols; c += WG) {
    let v = w[c] * (x[base + c] * inv);
    if (CHECK && (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) {
      atomicMax(&flags[p.slot], 0xffffffffu - (base + c));
    }
    y[base + c] = v;
  }
}
