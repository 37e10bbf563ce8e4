// bitmask_matmul: Y = X·Wᵀ for a batch of tokens from an unstructured-sparse weight stored
// without its zeros (compressed-tensors' sparse-bitmask) — the prefill/evaluation product. The weight
// is the one bitmask_matvec.wgsl reads (non-zero values, one mask bit a weight, a start per row).
//
// Bindings (group 0):
//   #params { n, rows, cols: u32 }
//   #binding values: array<f32>, read     [nnz]: the non-zero values, row-major (`<m>.compressed`)
//   #binding mask: array<u32>, read       [rows, ceil(cols/32)]: bit i of word w of a row is column 32w + i
//                                   (numpy.packbits(bitorder="little") bytes read as little-endian u32)
//   #binding rowStart: array<u32>, read   [rows]: where each row starts in values (`<m>.row_offsets`)
//   #binding x: array<f32>, read          [n, cols] row-major
//   #binding y: array<f32>, read_write    [n, rows] row-major
// Math: y[t, o] = Σ over set bits (o, c) of values[k(o, c)]·x[t, c], where k(o, c) =
//   rowStart[o] + (set bits of row o before column c). Walked one group of 4 columns at a time, with
//   no data-dependent loop: a group's nibble of the mask gives its set lanes and their slots in values
//   (lib/sparse_groups.wgsl: maskLanes, maskSlots); a row's slot advances by the nibble's popcount.
//   The register tile is sparse24_matmul.wgsl's (16 rows as 4 quads x 16 tokens, 64 named vec4
//   accumulators): per group each quad's dense group weights form a mat4x4
//   (columns = rows) and each token adds x_t · M, x_t its 4 inputs of the group (columns past cols
//   read the last column and meet weight 0). Unset lanes load a clamped slot and are discarded by
//   select (never multiplied), so stale values past nnz cannot leak in. Out-of-range rows and tokens
//   read clamped addresses and are not stored.
// Grid: x over ceil(rows/16) row tiles in workgroups of WG, y over ceil(n/16) token tiles
//   (the wrapper checks both against the per-dimension limit). An invocation loops ceil(cols/4) times.

override WG: u32 = 64;

// #include "lib/sparse_groups.wgsl"

/** Columns 4g .. 4g+3 of token t (clamped to the last token and the last column). */
fn xg(t: u32, g: u32) -> vec4f {
  let base = min(t, p.n - 1u) * p.cols;
  let c = min(vec4u(4u * g) + vec4u(0u, 1u, 2u, 3u), vec4u(p.cols - 1u));
  return vec4f(x[base + c.x], x[base + c.y], x[base + c.z], x[base + c.w]);
}

/** One row's dense weights of a group from its nibble and the slot of its first non-zero. */
fn rowGroup(nib: u32, k: u32) -> vec4f {
  let s = min(maskSlots(nib, k), vec4u(arrayLength(&values) - 1u));
  let v = vec4f(values[s.x], values[s.y], values[s.z], values[s.w]);
  return select(vec4f(0.0), v, maskLanes(nib));
}

/** A quad's dense weights of group g (nibbles nib, slots k): column j of the result is row j's. */
fn quadWeights(nib: vec4u, k: vec4u) -> mat4x4f {
  return mat4x4f(rowGroup(nib.x, k.x), rowGroup(nib.y, k.y), rowGroup(nib.z, k.z), rowGroup(nib.w, k.w));
}

/** The mask words of a quad's rows r holding group g. */
fn quadWords(r: vec4u, g: u32) -> vec4u {
  let at = r * ((p.cols + 31u) / 32u) + vec4u(g / 8u);
  return vec4u(mask[at.x], mask[at.y], mask[at.z], mask[at.w]);
}

fn quadNibbles(w: vec4u, g: u32) -> vec4u {
  return vec4u(nibbleOf(w.x, g), nibbleOf(w.y, g), nibbleOf(w.z, g), nibbleOf(w.w, g));
}

fn quadStarts(r: vec4u) -> vec4u {
  return vec4u(rowStart[r.x], rowStart[r.y], rowStart[r.z], rowStart[r.w]);
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
  var k0 = quadStarts(r0); //                                     the quads' slots in values
  var k1 = quadStarts(r1);
  var k2 = quadStarts(r2);
  var k3 = quadStarts(r3);
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
  for (var g = 0u; g < (p.cols + 3u) / 4u; g++) {
    if ((g & 7u) == 0u) {
      w0 = quadWords(r0, g);
      w1 = quadWords(r1, g);
      w2 = quadWords(r2, g);
      w3 = quadWords(r3, g);
    }
    let n0 = quadNibbles(w0, g);
    let n1 = quadNibbles(w1, g);
    let n2 = quadNibbles(w2, g);
    let n3 = quadNibbles(w3, g);
    let m0 = quadWeights(n0, k0);
    let m1 = quadWeights(n1, k1);
    let m2 = quadWeights(n2, k2);
    let m3 = quadWeights(n3, k3);
    k0 += countOneBits(n0);
    k1 += countOneBits(n1);
    k2 += countOneBits(n2);
    k3 += countOneBits(n3);
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
