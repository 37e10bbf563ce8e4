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
// #include "lib/quad_tile.wgsl"

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
  var k0 = quadStarts(r0); //                                     the quads' slots in values
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
    fmaQuadTile(&tile, t0, g, m0, m1, m2, m3);
  }
  storeQuadTile(&tile, t0, o0);
}
