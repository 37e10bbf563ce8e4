// sparse24_matmul: Y = X·Wᵀ for a batch of tokens from a 2:4-sparse weight stored without its
// zeros — the prefill/evaluation product of a sparse-24-bitmask layer. The weight is the one
// sparse24_matvec.wgsl reads (kept values + a 4-bit index per group of 4 columns).
//
// Bindings (group 0):
//   #params { n, rows, cols: u32 }
//   #binding values: array<f32>, read     [rows, cols/2]: the 2 kept values of every group of 4 columns,
//                                   row-major (compressed-tensors' `<m>.compressed`)
//   #binding index: array<u32>, read      [rows, ceil(cols/32)]: 4 bits per group, 8 groups per word
//                                   (lib/sparse_groups.wgsl: nibbleOf, kept24)
//   #binding x: array<vec4f>, read        [n, cols] row-major f32, read 4 columns at a time (cols % 4 == 0)
//   #binding y: array<f32>, read_write    [n, rows] row-major
// Math: y[t, o] = Σ_g dense24(index(o, g), values[o, 2g], values[o, 2g+1]) · x[t, 4g .. 4g+3]:
//   each group's 2 kept values are placed at their columns of a 4-vector (zeros elsewhere) and dotted
//   with the token's 4 inputs. An invocation holds a register tile of 16 weight rows (4 quads) x 16
//   tokens: per group it builds each quad's dense group weights as a mat4x4 (columns = the quad's 4
//   rows; 2 value loads per row and, every 8th group, an index word), loads each token's 4 inputs once
//   (one vec4, shared by the 16 rows) and adds x_t · M to the token's 4 vec4 accumulators. The 64
//   accumulators are named variables (a loop over a register array that the compiler does not unroll
//   demotes it to scratch memory; see matmul_register_vec4.wgsl). Measured on llvmpipe at 1024²,
//   n = 64: 4 rows x 8 tokens per invocation ran 5x slower than the dense register matmul, 16 x 16
//   runs faster than it, 32 x 16 ~1.5x faster again but compiles 3x longer (27 s at load 20); the
//   same tile in arrays or with the bias add in the store compiled 3x longer too, so the bias is a
//   separate kernel (compile time is paid once per machine, and by every fresh test run). Out-of-range
//   rows and tokens read clamped (valid) addresses and are not stored.
// Grid: x over ceil(rows/16) row tiles in workgroups of WG, y over ceil(n/16) token tiles
//   (the wrapper checks both against the per-dimension limit). An invocation loops cols/4 times.

override WG: u32 = 64;

// #include "lib/sparse_groups.wgsl"

/** Columns 4g .. 4g+3 of token t (clamped to the last token). */
fn xg(t: u32, g: u32) -> vec4f {
  return x[min(t, p.n - 1u) * (p.cols / 4u) + g];
}

/** A quad's dense weights of group g (rows r, index words w): column j of the result is row r[j]'s. */
fn quadWeights(r: vec4u, w: vec4u, g: u32) -> mat4x4f {
  let h = p.cols / 2u;
  let v = 2u * g;
  return mat4x4f(
    dense24(nibbleOf(w.x, g), values[r.x * h + v], values[r.x * h + v + 1u]),
    dense24(nibbleOf(w.y, g), values[r.y * h + v], values[r.y * h + v + 1u]),
    dense24(nibbleOf(w.z, g), values[r.z * h + v], values[r.z * h + v + 1u]),
    dense24(nibbleOf(w.w, g), values[r.w * h + v], values[r.w * h + v + 1u]),
  );
}

/** The index words of a quad's rows r holding group g. */
fn quadWords(r: vec4u, g: u32) -> vec4u {
  let at = r * ((p.cols / 4u + 7u) / 8u) + vec4u(g / 8u);
  return vec4u(index[at.x], index[at.y], index[at.z], index[at.w]);
}

/** Stores token t's outputs for rows o0 .. o0+3 (those in range). */
fn storeQuad(t: u32, o0: u32, acc: vec4f) {
  if (t >= p.n) {
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    let o = o0 + j;
    if (o < p.rows) {
      y[t * p.rows + o] = acc[j];
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let o0 = 16u * gid.x;
  let t0 = 16u * gid.y;
  if (o0 >= p.rows || t0 >= p.n) {
    return;
  }
  let last = vec4u(p.rows - 1u);
  let r0 = min(vec4u(o0) + vec4u(0u, 1u, 2u, 3u), last); //     the quads' rows, clamped
  let r1 = min(vec4u(o0) + vec4u(4u, 5u, 6u, 7u), last);
  let r2 = min(vec4u(o0) + vec4u(8u, 9u, 10u, 11u), last);
  let r3 = min(vec4u(o0) + vec4u(12u, 13u, 14u, 15u), last);
  // a{t}_{q}[j] = y[t0 + t, o0 + 4q + j]: 64 accumulators, named (indexed by nothing)
  var a0_0 = vec4f(0.0); var a0_1 = vec4f(0.0); var a0_2 = vec4f(0.0); var a0_3 = vec4f(0.0);
  var a1_0 = vec4f(0.0); var a1_1 = vec4f(0.0); var a1_2 = vec4f(0.0); var a1_3 = vec4f(0.0);
  var a2_0 = vec4f(0.0); var a2_1 = vec4f(0.0); var a2_2 = vec4f(0.0); var a2_3 = vec4f(0.0);
  var a3_0 = vec4f(0.0); var a3_1 = vec4f(0.0); var a3_2 = vec4f(0.0); var a3_3 = vec4f(0.0);
  var a4_0 = vec4f(0.0); var a4_1 = vec4f(0.0); var a4_2 = vec4f(0.0); var a4_3 = vec4f(0.0);
  var a5_0 = vec4f(0.0); var a5_1 = vec4f(0.0); var a5_2 = vec4f(0.0); var a5_3 = vec4f(0.0);
  var a6_0 = vec4f(0.0); var a6_1 = vec4f(0.0); var a6_2 = vec4f(0.0); var a6_3 = vec4f(0.0);
  var a7_0 = vec4f(0.0); var a7_1 = vec4f(0.0); var a7_2 = vec4f(0.0); var a7_3 = vec4f(0.0);
  var a8_0 = vec4f(0.0); var a8_1 = vec4f(0.0); var a8_2 = vec4f(0.0); var a8_3 = vec4f(0.0);
  var a9_0 = vec4f(0.0); var a9_1 = vec4f(0.0); var a9_2 = vec4f(0.0); var a9_3 = vec4f(0.0);
  var a10_0 = vec4f(0.0); var a10_1 = vec4f(0.0); var a10_2 = vec4f(0.0); var a10_3 = vec4f(0.0);
  var a11_0 = vec4f(0.0); var a11_1 = vec4f(0.0); var a11_2 = vec4f(0.0); var a11_3 = vec4f(0.0);
  var a12_0 = vec4f(0.0); var a12_1 = vec4f(0.0); var a12_2 = vec4f(0.0); var a12_3 = vec4f(0.0);
  var a13_0 = vec4f(0.0); var a13_1 = vec4f(0.0); var a13_2 = vec4f(0.0); var a13_3 = vec4f(0.0);
  var a14_0 = vec4f(0.0); var a14_1 = vec4f(0.0); var a14_2 = vec4f(0.0); var a14_3 = vec4f(0.0);
  var a15_0 = vec4f(0.0); var a15_1 = vec4f(0.0); var a15_2 = vec4f(0.0); var a15_3 = vec4f(0.0);
  var w0 = vec4u(0u);
  var w1 = vec4u(0u);
  var w2 = vec4u(0u);
  var w3 = vec4u(0u);
  for (var g = 0u; g < p.cols / 4u; g++) {
    if ((g & 7u) == 0u) {
      w0 = quadWords(r0, g);
      w1 = quadWords(r1, g);
      w2 = quadWords(r2, g);
      w3 = quadWords(r3, g);
    }
    let m0 = quadWeights(r0, w0, g);
    let m1 = quadWeights(r1, w1, g);
    let m2 = quadWeights(r2, w2, g);
    let m3 = quadWeights(r3, w3, g);
    let x0 = xg(t0 + 0u, g);
    a0_0 += x0 * m0; a0_1 += x0 * m1; a0_2 += x0 * m2; a0_3 += x0 * m3;
    let x1 = xg(t0 + 1u, g);
    a1_0 += x1 * m0; a1_1 += x1 * m1; a1_2 += x1 * m2; a1_3 += x1 * m3;
    let x2 = xg(t0 + 2u, g);
    a2_0 += x2 * m0; a2_1 += x2 * m1; a2_2 += x2 * m2; a2_3 += x2 * m3;
    let x3 = xg(t0 + 3u, g);
    a3_0 += x3 * m0; a3_1 += x3 * m1; a3_2 += x3 * m2; a3_3 += x3 * m3;
    let x4 = xg(t0 + 4u, g);
    a4_0 += x4 * m0; a4_1 += x4 * m1; a4_2 += x4 * m2; a4_3 += x4 * m3;
    let x5 = xg(t0 + 5u, g);
    a5_0 += x5 * m0; a5_1 += x5 * m1; a5_2 += x5 * m2; a5_3 += x5 * m3;
    let x6 = xg(t0 + 6u, g);
    a6_0 += x6 * m0; a6_1 += x6 * m1; a6_2 += x6 * m2; a6_3 += x6 * m3;
    let x7 = xg(t0 + 7u, g);
    a7_0 += x7 * m0; a7_1 += x7 * m1; a7_2 += x7 * m2; a7_3 += x7 * m3;
    let x8 = xg(t0 + 8u, g);
    a8_0 += x8 * m0; a8_1 += x8 * m1; a8_2 += x8 * m2; a8_3 += x8 * m3;
    let x9 = xg(t0 + 9u, g);
    a9_0 += x9 * m0; a9_1 += x9 * m1; a9_2 += x9 * m2; a9_3 += x9 * m3;
    let x10 = xg(t0 + 10u, g);
    a10_0 += x10 * m0; a10_1 += x10 * m1; a10_2 += x10 * m2; a10_3 += x10 * m3;
    let x11 = xg(t0 + 11u, g);
    a11_0 += x11 * m0; a11_1 += x11 * m1; a11_2 += x11 * m2; a11_3 += x11 * m3;
    let x12 = xg(t0 + 12u, g);
    a12_0 += x12 * m0; a12_1 += x12 * m1; a12_2 += x12 * m2; a12_3 += x12 * m3;
    let x13 = xg(t0 + 13u, g);
    a13_0 += x13 * m0; a13_1 += x13 * m1; a13_2 += x13 * m2; a13_3 += x13 * m3;
    let x14 = xg(t0 + 14u, g);
    a14_0 += x14 * m0; a14_1 += x14 * m1; a14_2 += x14 * m2; a14_3 += x14 * m3;
    let x15 = xg(t0 + 15u, g);
    a15_0 += x15 * m0; a15_1 += x15 * m1; a15_2 += x15 * m2; a15_3 += x15 * m3;
  }
  storeQuad(t0 + 0u, o0 + 0u, a0_0); storeQuad(t0 + 0u, o0 + 4u, a0_1); storeQuad(t0 + 0u, o0 + 8u, a0_2); storeQuad(t0 + 0u, o0 + 12u, a0_3);
  storeQuad(t0 + 1u, o0 + 0u, a1_0); storeQuad(t0 + 1u, o0 + 4u, a1_1); storeQuad(t0 + 1u, o0 + 8u, a1_2); storeQuad(t0 + 1u, o0 + 12u, a1_3);
  storeQuad(t0 + 2u, o0 + 0u, a2_0); storeQuad(t0 + 2u, o0 + 4u, a2_1); storeQuad(t0 + 2u, o0 + 8u, a2_2); storeQuad(t0 + 2u, o0 + 12u, a2_3);
  storeQuad(t0 + 3u, o0 + 0u, a3_0); storeQuad(t0 + 3u, o0 + 4u, a3_1); storeQuad(t0 + 3u, o0 + 8u, a3_2); storeQuad(t0 + 3u, o0 + 12u, a3_3);
  storeQuad(t0 + 4u, o0 + 0u, a4_0); storeQuad(t0 + 4u, o0 + 4u, a4_1); storeQuad(t0 + 4u, o0 + 8u, a4_2); storeQuad(t0 + 4u, o0 + 12u, a4_3);
  storeQuad(t0 + 5u, o0 + 0u, a5_0); storeQuad(t0 + 5u, o0 + 4u, a5_1); storeQuad(t0 + 5u, o0 + 8u, a5_2); storeQuad(t0 + 5u, o0 + 12u, a5_3);
  storeQuad(t0 + 6u, o0 + 0u, a6_0); storeQuad(t0 + 6u, o0 + 4u, a6_1); storeQuad(t0 + 6u, o0 + 8u, a6_2); storeQuad(t0 + 6u, o0 + 12u, a6_3);
  storeQuad(t0 + 7u, o0 + 0u, a7_0); storeQuad(t0 + 7u, o0 + 4u, a7_1); storeQuad(t0 + 7u, o0 + 8u, a7_2); storeQuad(t0 + 7u, o0 + 12u, a7_3);
  storeQuad(t0 + 8u, o0 + 0u, a8_0); storeQuad(t0 + 8u, o0 + 4u, a8_1); storeQuad(t0 + 8u, o0 + 8u, a8_2); storeQuad(t0 + 8u, o0 + 12u, a8_3);
  storeQuad(t0 + 9u, o0 + 0u, a9_0); storeQuad(t0 + 9u, o0 + 4u, a9_1); storeQuad(t0 + 9u, o0 + 8u, a9_2); storeQuad(t0 + 9u, o0 + 12u, a9_3);
  storeQuad(t0 + 10u, o0 + 0u, a10_0); storeQuad(t0 + 10u, o0 + 4u, a10_1); storeQuad(t0 + 10u, o0 + 8u, a10_2); storeQuad(t0 + 10u, o0 + 12u, a10_3);
  storeQuad(t0 + 11u, o0 + 0u, a11_0); storeQuad(t0 + 11u, o0 + 4u, a11_1); storeQuad(t0 + 11u, o0 + 8u, a11_2); storeQuad(t0 + 11u, o0 + 12u, a11_3);
  storeQuad(t0 + 12u, o0 + 0u, a12_0); storeQuad(t0 + 12u, o0 + 4u, a12_1); storeQuad(t0 + 12u, o0 + 8u, a12_2); storeQuad(t0 + 12u, o0 + 12u, a12_3);
  storeQuad(t0 + 13u, o0 + 0u, a13_0); storeQuad(t0 + 13u, o0 + 4u, a13_1); storeQuad(t0 + 13u, o0 + 8u, a13_2); storeQuad(t0 + 13u, o0 + 12u, a13_3);
  storeQuad(t0 + 14u, o0 + 0u, a14_0); storeQuad(t0 + 14u, o0 + 4u, a14_1); storeQuad(t0 + 14u, o0 + 8u, a14_2); storeQuad(t0 + 14u, o0 + 12u, a14_3);
  storeQuad(t0 + 15u, o0 + 0u, a15_0); storeQuad(t0 + 15u, o0 + 4u, a15_1); storeQuad(t0 + 15u, o0 + 8u, a15_2); storeQuad(t0 + 15u, o0 + 12u, a15_3);
}
