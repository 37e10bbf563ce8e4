// rms_norm_vec4: rms_norm.wgsl with its normalising pass four floats at a time (cols a multiple of
// 4). The row's mean square is summed exactly as rms_norm.wgsl sums it (lib/row_moments.wgsl over
// `x` as f32), and each output is the same expression, so the same bits; only the second pass —
// three of the kernel's four memory operations an element — reads `x4`, `w4` and writes `y4` as
// vec4s (llvmpipe loads and stores storage lane by lane). `x` and `x4` are the same buffer, bound
// twice read-only.
//
// Bindings (group 0):
//   #params { rows, cols: u32, eps: f32, slot: u32 }
//   #binding x: array<f32>, read          [rows, cols]
//   #binding x4: array<vec4f>, read       the same [rows, cols] as vec4s
//   #binding w4: array<vec4f>, read       [cols]
//   #binding y4: array<vec4f>, read_write [rows, cols]
//   #binding flags: array<atomic<u32>>, read_write   [> slot] (untouched unless CHECK)
// Math: rms_norm.wgsl's; the check records 0xffffffff − (r·cols + c) for every non-finite y[r, c].
// Grid: one workgroup of WG invocations per row, rows folded into y past 65535 groups; WG a power of two.

override WG: u32 = 128;
override CHECK: bool = false;

// #include "lib/row_moments.wgsl"
// #include "lib/row_entry.wgsl"

fn row_item(row: u32, lid: u32) {
  let base = row * p.cols;
  let inv = inverseSqrt(row_sq_dev(lid, base, 0.0) / f32(p.cols) + p.eps);
  let cols4 = p.cols / 4u;
  for (var c4 = lid; c4 < cols4; c4 += WG) {
    let v = w4[c4] * (x4[base / 4u + c4] * inv);
    if (CHECK) {
      let bad = (bitcast<vec4u>(v) & vec4u(0x7f800000u)) == vec4u(0x7f800000u);
      if (any(bad)) {
        let t = select(select(select(3u, 2u, bad.z), 1u, bad.y), 0u, bad.x);
        atomicMax(&flags[p.slot], 0xffffffffu - (base + 4u * c4 + t));
      }
    }
    y4[base / 4u + c4] = v;
  }
}
