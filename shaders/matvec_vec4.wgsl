// matvec_vec4: y = W·x + b for one token (optionally y += …), reading W and x four floats at a time —
// the decode step's product when cols and the offsets of W and x are multiples of 4.
//
// llvmpipe loads storage lane by lane, so a load instruction, not a byte, is the unit of cost: a
// vec4 load brings four weights for the price of one. Each invocation computes ROWS consecutive rows,
// so every vec4 of x it loads serves ROWS rows (loads per 4 multiply-adds: 1 of W + 1/ROWS of x).
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
// Grid: 1-D over ceil(rows / ROWS) row groups, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG). An invocation loops cols4 + ROWS times.
// Reference: tests/reference/decode.ts `matvec` (the same math as shaders/matvec.wgsl).

override WG: u32 = 64;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;

const ROWS: u32 = 4u;

// #include "lib/flat_index.wgsl"
// #include "lib/matvec_out.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o0 = flat_id(gid, nwg) * ROWS;
  if (o0 >= p.rows) {
    return;
  }
  // rows past the end repeat the last row (their sums are computed and dropped): no branch in the loop
  let last = p.rows - 1u;
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
  let sums = vec4<f32>(
    (s0.x + s0.y) + (s0.z + s0.w),
    (s1.x + s1.y) + (s1.z + s1.w),
    (s2.x + s2.y) + (s2.z + s2.w),
    (s3.x + s3.y) + (s3.z + s3.w),
  );
  for (var i = 0u; i < ROWS; i++) {
    let o = o0 + i;
    if (o > last) {
      break;
    }
    matvec_out(o, sums[i]);
  }
}
