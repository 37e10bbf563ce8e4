// matvec_vec4: y = W·x + b for one token (optionally y += …), reading W and x four floats at a time —
// the decode step's product when cols and the offsets of W and x are multiples of 4.
//
// llvmpipe loads storage lane by lane, so a load instruction, not a byte, is the unit of cost: a
// vec4 load brings four weights for the price of one. Each invocation computes 4 consecutive rows,
// so every vec4 of x it loads serves 4 rows (loads per 4 multiply-adds: 1 of W + 1/4 of x).
//
// Bindings (group 0):
//   #params { rows, cols4, wOffset4, xOffset4, yOffset: u32 }
//   #binding w: array<vec4<f32>>, read   [rows, cols4] at wOffset4 (in vec4s), row-major (a linear weight [out, in])
//   #binding x: array<vec4<f32>>, read   [cols4] at xOffset4
//   #binding bias: array<f32>, read      [rows] (read only when HAS_BIAS)
//   #binding y: array<f32>, read_write   [rows] at yOffset
// Math: for o < rows, acc = Σ_j dot(w[o, j], x[j]) over j < cols4 (one vec4 partial sum, summed
//   across its 4 lanes at the end); t = acc + bias[o] (HAS_BIAS); y[o] = t (ACCUMULATE false) or
//   y[o] + t (ACCUMULATE true: a residual connection fused in).
// Grid: 1-D over ceil(rows / 4) row groups, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG). An invocation loops cols4 + 4 times.
// Reference: tests/reference/decode.ts `matvec` (the same math as shaders/matvec.wgsl).

override WG: u32 = 64;

// #include "lib/matvec_quad_entry.wgsl"

// rows o0 .. o0+3 (past `last`, row `last` again): each row's 4 lane-partial sums
fn matvec_rows(o0: u32, last: u32) -> array<vec4<f32>, 4> {
  let r0 = p.wOffset4 + o0 * p.cols4;
  let r1 = p.wOffset4 + min(o0 + 1u, last) * p.cols4;
  let r2 = p.wOffset4 + min(o0 + 2u, last) * p.cols4;
  let r3 = p.wOffset4 + min(o0 + 3u, last) * p.cols4;
  var s0 = vec4<f32>(0.0);
  var s1 = vec4<f32>(0.0);
  var s2 = vec4<f32>(0.0);
  var s3 = vec4<f32>(0.0);
  for (var j = 0u; j < p.cols4; j++) {
    let xv = x[p.xOffset4 + j];
    s0 = fma(w[r0 + j], xv, s0);
    s1 = fma(w[r1 + j], xv, s1);
    s2 = fma(w[r2 + j], xv, s2);
    s3 = fma(w[r3 + j], xv, s3);
  }
  return array<vec4<f32>, 4>(s0, s1, s2, s3);
}
