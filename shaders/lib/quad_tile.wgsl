// quad_tile: the body of the sparse prefill products (bitmask_matmul.wgsl and
// sparse24_matmul.wgsl), which differ only in how a row's weights of a group of 4 columns are
// decoded. Each defines
//   quadWords(r, g) -> vec4u      the index/mask words of the quad's rows r holding group g (a word
//                                 holds 8 groups; read when g % 8 == 0)
//   quadStarts(r) -> vec4u        where the rows r start in values
//   quadWeights(w, g, k) -> mat4x4f  the quad's dense weights of group g (column j = row j's) from
//                                 its words w; k points at each row's slot of its next stored value
//                                 and advances past the group's
//   xg(t, g) -> vec4f             token t's 4 inputs of group g (clamped to the last token)
// An invocation owns output rows o0 .. o0+15 as 4 quads of 4 rows, for tokens t0 .. t0+15, in 64
// vec4 accumulators named in a struct (a loop-indexed array was measured to compile 3x longer):
//   tile.a{t}_{q}[j] = y[t0 + t, o0 + 4q + j]
// main: for each group g < ceil(cols/4), each quad's weights m_q, then fmaQuadTile: for each token
//   t, x = xg(t0 + t, g) and a{t}_{q} += x·m_q; then storeQuadTile: y[t0 + t, o0 + 4q + j] =
//   a{t}_{q}[j] for tokens < n and rows < rows. Rows and tokens past the end read clamped (valid)
//   addresses and are not stored.
// The tile and slots go to helpers by pointer, never by value (a copy of big per-invocation state
// made Cholesky up to 2x slower). Needs the includer's `override WG`, Params `p` with n, rows and
// cols, and the binding `y` ([n, rows] row-major).

struct QuadTile {
  a0_0: vec4f, a0_1: vec4f, a0_2: vec4f, a0_3: vec4f,
  a1_0: vec4f, a1_1: vec4f, a1_2: vec4f, a1_3: vec4f,
  a2_0: vec4f, a2_1: vec4f, a2_2: vec4f, a2_3: vec4f,
  a3_0: vec4f, a3_1: vec4f, a3_2: vec4f, a3_3: vec4f,
  a4_0: vec4f, a4_1: vec4f, a4_2: vec4f, a4_3: vec4f,
  a5_0: vec4f, a5_1: vec4f, a5_2: vec4f, a5_3: vec4f,
  a6_0: vec4f, a6_1: vec4f, a6_2: vec4f, a6_3: vec4f,
  a7_0: vec4f, a7_1: vec4f, a7_2: vec4f, a7_3: vec4f,
  a8_0: vec4f, a8_1: vec4f, a8_2: vec4f, a8_3: vec4f,
  a9_0: vec4f, a9_1: vec4f, a9_2: vec4f, a9_3: vec4f,
  a10_0: vec4f, a10_1: vec4f, a10_2: vec4f, a10_3: vec4f,
  a11_0: vec4f, a11_1: vec4f, a11_2: vec4f, a11_3: vec4f,
  a12_0: vec4f, a12_1: vec4f, a12_2: vec4f, a12_3: vec4f,
  a13_0: vec4f, a13_1: vec4f, a13_2: vec4f, a13_3: vec4f,
  a14_0: vec4f, a14_1: vec4f, a14_2: vec4f, a14_3: vec4f,
  a15_0: vec4f, a15_1: vec4f, a15_2: vec4f, a15_3: vec4f,
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let o0 = 16u * gid.x;
  let t0 = 16u * gid.y;
  if (o0 >= p.rows || t0 >= p.n) {
    return;
  }
  let r0 = quadRows(o0, 0u); //   the quads' rows, clamped
  let r1 = quadRows(o0, 1u);
  let r2 = quadRows(o0, 2u);
  let r3 = quadRows(o0, 3u);
  var k0 = quadStarts(r0); //     the quads' slots in values
  var k1 = quadStarts(r1);
  var k2 = quadStarts(r2);
  var k3 = quadStarts(r3);
  var tile: QuadTile; // zero-initialised
  var w0 = vec4u(0u);
  var w1 = vec4u(0u);
  var w2 = vec4u(0u);
  var w3 = vec4u(0u);
  for (var g = 0u; g < (p.cols + 3u) / 4u; g++) {
    if ((g & 7u) == 0u) {
      w0 = quadWords(r0, g);
      w1 = quadWords(r1, g);
      w2 = quadWords(r2, g);
      w3 = quadWords(r3, g);
    }
    let m0 = quadWeights(w0, g, &k0);
    let m1 = quadWeights(w1, g, &k1);
    let m2 = quadWeights(w2, g, &k2);
    let m3 = quadWeights(w3, g, &k3);
    fmaQuadTile(&tile, t0, g, m0, m1, m2, m3);
  }
  storeQuadTile(&tile, t0, o0);
}

/** Rows o0 + 4q .. o0 + 4q + 3, clamped to the last row. */
fn quadRows(o0: u32, q: u32) -> vec4u {
  return min(vec4u(o0 + 4u * q) + vec4u(0u, 1u, 2u, 3u), vec4u(p.rows - 1u));
}

fn fmaQuadTile(tile: ptr<function, QuadTile>, t0: u32, g: u32, m0: mat4x4f, m1: mat4x4f, m2: mat4x4f, m3: mat4x4f) {
  let x0 = xg(t0 + 0u, g);
  (*tile).a0_0 += x0 * m0; (*tile).a0_1 += x0 * m1; (*tile).a0_2 += x0 * m2; (*tile).a0_3 += x0 * m3;
  let x1 = xg(t0 + 1u, g);
  (*tile).a1_0 += x1 * m0; (*tile).a1_1 += x1 * m1; (*tile).a1_2 += x1 * m2; (*tile).a1_3 += x1 * m3;
  let x2 = xg(t0 + 2u, g);
  (*tile).a2_0 += x2 * m0; (*tile).a2_1 += x2 * m1; (*tile).a2_2 += x2 * m2; (*tile).a2_3 += x2 * m3;
  let x3 = xg(t0 + 3u, g);
  (*tile).a3_0 += x3 * m0; (*tile).a3_1 += x3 * m1; (*tile).a3_2 += x3 * m2; (*tile).a3_3 += x3 * m3;
  let x4 = xg(t0 + 4u, g);
  (*tile).a4_0 += x4 * m0; (*tile).a4_1 += x4 * m1; (*tile).a4_2 += x4 * m2; (*tile).a4_3 += x4 * m3;
  let x5 = xg(t0 + 5u, g);
  (*tile).a5_0 += x5 * m0; (*tile).a5_1 += x5 * m1; (*tile).a5_2 += x5 * m2; (*tile).a5_3 += x5 * m3;
  let x6 = xg(t0 + 6u, g);
  (*tile).a6_0 += x6 * m0; (*tile).a6_1 += x6 * m1; (*tile).a6_2 += x6 * m2; (*tile).a6_3 += x6 * m3;
  let x7 = xg(t0 + 7u, g);
  (*tile).a7_0 += x7 * m0; (*tile).a7_1 += x7 * m1; (*tile).a7_2 += x7 * m2; (*tile).a7_3 += x7 * m3;
  let x8 = xg(t0 + 8u, g);
  (*tile).a8_0 += x8 * m0; (*tile).a8_1 += x8 * m1; (*tile).a8_2 += x8 * m2; (*tile).a8_3 += x8 * m3;
  let x9 = xg(t0 + 9u, g);
  (*tile).a9_0 += x9 * m0; (*tile).a9_1 += x9 * m1; (*tile).a9_2 += x9 * m2; (*tile).a9_3 += x9 * m3;
  let x10 = xg(t0 + 10u, g);
  (*tile).a10_0 += x10 * m0; (*tile).a10_1 += x10 * m1; (*tile).a10_2 += x10 * m2; (*tile).a10_3 += x10 * m3;
  let x11 = xg(t0 + 11u, g);
  (*tile).a11_0 += x11 * m0; (*tile).a11_1 += x11 * m1; (*tile).a11_2 += x11 * m2; (*tile).a11_3 += x11 * m3;
  let x12 = xg(t0 + 12u, g);
  (*tile).a12_0 += x12 * m0; (*tile).a12_1 += x12 * m1; (*tile).a12_2 += x12 * m2; (*tile).a12_3 += x12 * m3;
  let x13 = xg(t0 + 13u, g);
  (*tile).a13_0 += x13 * m0; (*tile).a13_1 += x13 * m1; (*tile).a13_2 += x13 * m2; (*tile).a13_3 += x13 * m3;
  let x14 = xg(t0 + 14u, g);
  (*tile).a14_0 += x14 * m0; (*tile).a14_1 += x14 * m1; (*tile).a14_2 += x14 * m2; (*tile).a14_3 += x14 * m3;
  let x15 = xg(t0 + 15u, g);
  (*tile).a15_0 += x15 * m0; (*tile).a15_1 += x15 * m1; (*tile).a15_2 += x15 * m2; (*tile).a15_3 += x15 * m3;
}

fn storeQuadTile(tile: ptr<function, QuadTile>, t0: u32, o0: u32) {
  storeQuad(t0 + 0u, o0 + 0u, (*tile).a0_0); storeQuad(t0 + 0u, o0 + 4u, (*tile).a0_1); storeQuad(t0 + 0u, o0 + 8u, (*tile).a0_2); storeQuad(t0 + 0u, o0 + 12u, (*tile).a0_3);
  storeQuad(t0 + 1u, o0 + 0u, (*tile).a1_0); storeQuad(t0 + 1u, o0 + 4u, (*tile).a1_1); storeQuad(t0 + 1u, o0 + 8u, (*tile).a1_2); storeQuad(t0 + 1u, o0 + 12u, (*tile).a1_3);
  storeQuad(t0 + 2u, o0 + 0u, (*tile).a2_0); storeQuad(t0 + 2u, o0 + 4u, (*tile).a2_1); storeQuad(t0 + 2u, o0 + 8u, (*tile).a2_2); storeQuad(t0 + 2u, o0 + 12u, (*tile).a2_3);
  storeQuad(t0 + 3u, o0 + 0u, (*tile).a3_0); storeQuad(t0 + 3u, o0 + 4u, (*tile).a3_1); storeQuad(t0 + 3u, o0 + 8u, (*tile).a3_2); storeQuad(t0 + 3u, o0 + 12u, (*tile).a3_3);
  storeQuad(t0 + 4u, o0 + 0u, (*tile).a4_0); storeQuad(t0 + 4u, o0 + 4u, (*tile).a4_1); storeQuad(t0 + 4u, o0 + 8u, (*tile).a4_2); storeQuad(t0 + 4u, o0 + 12u, (*tile).a4_3);
  storeQuad(t0 + 5u, o0 + 0u, (*tile).a5_0); storeQuad(t0 + 5u, o0 + 4u, (*tile).a5_1); storeQuad(t0 + 5u, o0 + 8u, (*tile).a5_2); storeQuad(t0 + 5u, o0 + 12u, (*tile).a5_3);
  storeQuad(t0 + 6u, o0 + 0u, (*tile).a6_0); storeQuad(t0 + 6u, o0 + 4u, (*tile).a6_1); storeQuad(t0 + 6u, o0 + 8u, (*tile).a6_2); storeQuad(t0 + 6u, o0 + 12u, (*tile).a6_3);
  storeQuad(t0 + 7u, o0 + 0u, (*tile).a7_0); storeQuad(t0 + 7u, o0 + 4u, (*tile).a7_1); storeQuad(t0 + 7u, o0 + 8u, (*tile).a7_2); storeQuad(t0 + 7u, o0 + 12u, (*tile).a7_3);
  storeQuad(t0 + 8u, o0 + 0u, (*tile).a8_0); storeQuad(t0 + 8u, o0 + 4u, (*tile).a8_1); storeQuad(t0 + 8u, o0 + 8u, (*tile).a8_2); storeQuad(t0 + 8u, o0 + 12u, (*tile).a8_3);
  storeQuad(t0 + 9u, o0 + 0u, (*tile).a9_0); storeQuad(t0 + 9u, o0 + 4u, (*tile).a9_1); storeQuad(t0 + 9u, o0 + 8u, (*tile).a9_2); storeQuad(t0 + 9u, o0 + 12u, (*tile).a9_3);
  storeQuad(t0 + 10u, o0 + 0u, (*tile).a10_0); storeQuad(t0 + 10u, o0 + 4u, (*tile).a10_1); storeQuad(t0 + 10u, o0 + 8u, (*tile).a10_2); storeQuad(t0 + 10u, o0 + 12u, (*tile).a10_3);
  storeQuad(t0 + 11u, o0 + 0u, (*tile).a11_0); storeQuad(t0 + 11u, o0 + 4u, (*tile).a11_1); storeQuad(t0 + 11u, o0 + 8u, (*tile).a11_2); storeQuad(t0 + 11u, o0 + 12u, (*tile).a11_3);
  storeQuad(t0 + 12u, o0 + 0u, (*tile).a12_0); storeQuad(t0 + 12u, o0 + 4u, (*tile).a12_1); storeQuad(t0 + 12u, o0 + 8u, (*tile).a12_2); storeQuad(t0 + 12u, o0 + 12u, (*tile).a12_3);
  storeQuad(t0 + 13u, o0 + 0u, (*tile).a13_0); storeQuad(t0 + 13u, o0 + 4u, (*tile).a13_1); storeQuad(t0 + 13u, o0 + 8u, (*tile).a13_2); storeQuad(t0 + 13u, o0 + 12u, (*tile).a13_3);
  storeQuad(t0 + 14u, o0 + 0u, (*tile).a14_0); storeQuad(t0 + 14u, o0 + 4u, (*tile).a14_1); storeQuad(t0 + 14u, o0 + 8u, (*tile).a14_2); storeQuad(t0 + 14u, o0 + 12u, (*tile).a14_3);
  storeQuad(t0 + 15u, o0 + 0u, (*tile).a15_0); storeQuad(t0 + 15u, o0 + 4u, (*tile).a15_1); storeQuad(t0 + 15u, o0 + 8u, (*tile).a15_2); storeQuad(t0 + 15u, o0 + 12u, (*tile).a15_3);
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
