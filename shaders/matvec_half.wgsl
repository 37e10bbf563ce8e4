// matvec_half: y = W·x + b for one token (optionally y += …) with W kept at 2 bytes a weight on the
// GPU (F16/BF16 checkpoints loaded with halfWeights) — the decode step's product for such a layer.
//
// Each invocation computes 4 consecutive rows (lib/matvec_quad_entry.wgsl), so every pair of x it loads serves 4 rows (loads
// per 2 multiply-adds: one packed word of W + 2/4 of x; llvmpipe loads storage lane by lane, so a
// load instruction is the unit of cost). A half is widened exactly, as in matmul_half_weight.wgsl.
//
// Bindings (group 0):
//   #params { rows, cols, ldW, xOffset, yOffset, bf16: u32 }
//   #binding w: array<u32>, read        [rows, ldW] packed pairs: word o·ldW + j holds W[o, 2j] in its
//                                  low 16 bits and W[o, 2j + 1] in its high 16 bits (ldW ≥ ceil(cols/2);
//                                  the high half of a row's last word is padding when cols is odd)
//   #binding x: array<f32>, read        [cols] at xOffset
//   #binding bias: array<f32>, read     [rows] (read only when HAS_BIAS)
//   #binding y: array<f32>, read_write  [rows] at yOffset
// Math: for o < rows, acc = Σ_j (W[o, 2j]·x[2j] + W[o, 2j + 1]·x[2j + 1]) over whole pairs, in j order
//   into one f32 accumulator, then + W[o, cols − 1]·x[cols − 1] when cols is odd; t = acc + bias[o]
//   (HAS_BIAS); y[o] = t (ACCUMULATE false) or y[o] + t (ACCUMULATE true).
// Grid: 1-D over ceil(rows / 4) row groups, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG). An invocation loops floor(cols / 2) + 4 times.
// Reference: tests/reference/matmul_half.ts `matvecHalf`.

override WG: u32 = 64;

// #include "lib/matvec_quad_entry.wgsl"

// #include "lib/widen_half.wgsl"

// rows o0 .. o0+3 (past `last`: row `last` again); each row's whole sum in the x lane of its vec4
// (the entry's lane reduction (x + y) + (z + w) then adds zeros, exactly)
fn matvec_rows(o0: u32, last: u32) -> array<vec4<f32>, 4> {
  let r0 = o0 * p.ldW;
  let r1 = min(o0 + 1u, last) * p.ldW;
  let r2 = min(o0 + 2u, last) * p.ldW;
  let r3 = min(o0 + 3u, last) * p.ldW;
  var s = vec4f(0.0); // s[i]: row o0 + i
  let pairs = p.cols / 2u;
  for (var j = 0u; j < pairs; j++) {
    let xv = vec2f(x[p.xOffset + 2u * j], x[p.xOffset + 2u * j + 1u]);
    let w0 = widen(w[r0 + j]);
    let w1 = widen(w[r1 + j]);
    let w2 = widen(w[r2 + j]);
    let w3 = widen(w[r3 + j]);
    s = fma(vec4f(w0.y, w1.y, w2.y, w3.y), vec4f(xv.y), fma(vec4f(w0.x, w1.x, w2.x, w3.x), vec4f(xv.x), s));
  }
  if (p.cols % 2u == 1u) {
    let xl = x[p.xOffset + p.cols - 1u];
    let w0 = widen(w[r0 + pairs]);
    let w1 = widen(w[r1 + pairs]);
    let w2 = widen(w[r2 + pairs]);
    let w3 = widen(w[r3 + pairs]);
    s = fma(vec4f(w0.x, w1.x, w2.x, w3.x), vec4f(xl), s);
  }
  return array<vec4<f32>, 4>(vec4f(s.x, 0.0, 0.0, 0.0), vec4f(s.y, 0.0, 0.0, 0.0), vec4f(s.z, 0.0, 0.0, 0.0), vec4f(s.w, 0.0, 0.0, 0.0));
}
