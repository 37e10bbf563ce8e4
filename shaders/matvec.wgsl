// matvec: matrix-vector product of a linear layer for one token, y = W·x + b (optionally y += …),
// the decode step's replacement for a [1, in] x [in, out] matmul.
//
// Bindings (group 0):
//   #params { rows, cols, wOffset, xOffset, yOffset: u32 }
//   #binding w: array<f32>, read         [rows, cols] at wOffset, row-major (a linear weight [out, in])
//   #binding x: array<f32>, read         [cols] at xOffset
//   #binding bias: array<f32>, read      [rows] (read only when HAS_BIAS)
//   #binding y: array<f32>, read_write   [rows] at yOffset
// Math: for o < rows, acc = Σ_i w[o, i]·x[i] (four interleaved partial sums over i ≡ 0..3 mod 4,
//   added as (s0 + s1) + (s2 + s3), then the tail); t = acc + bias[o] (HAS_BIAS);
//   y[o] = t (ACCUMULATE false) or y[o] = y[o] + t (ACCUMULATE true: a residual connection fused in).
// Grid: 1-D over rows, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG). An invocation loops ceil(cols / 4) + 3 times.

override WG: u32 = 64;

// #include "lib/matvec_row_entry.wgsl"

fn matvec_row(o: u32) -> f32 {
  let row = p.wOffset + o * p.cols;
  let body = p.cols & ~3u;
  var s0 = 0.0;
  var s1 = 0.0;
  var s2 = 0.0;
  var s3 = 0.0;
  for (var i = 0u; i < body; i += 4u) {
    s0 = fma(w[row + i], x[p.xOffset + i], s0);
    s1 = fma(w[row + i + 1u], x[p.xOffset + i + 1u], s1);
    s2 = fma(w[row + i + 2u], x[p.xOffset + i + 2u], s2);
    s3 = fma(w[row + i + 3u], x[p.xOffset + i + 3u], s3);
  }
  var acc = (s0 + s1) + (s2 + s3);
  for (var i = body; i < p.cols; i++) {
    acc = fma(w[row + i], x[p.xOffset + i], acc);
  }
  return acc;
}
