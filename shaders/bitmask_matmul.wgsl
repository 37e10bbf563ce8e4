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

/**
 * A quad's dense weights of group g from its mask words w (column j of the result is row j's); k
 * holds each row's slot in values of its next non-zero and advances past the group's.
 */
fn quadWeights(w: vec4u, g: u32, k: ptr<function, vec4u>) -> mat4x4f {
  let nib = quadNibbles(w, g);
  let s = *k;
  *k += countOneBits(nib);
  return mat4x4f(rowGroup(nib.x, s.x), rowGroup(nib.y, s.y), rowGroup(nib.z, s.z), rowGroup(nib.w, s.w));
}

/** The mask words of a quad's rows r holding group g. */
fn quadWords(r: vec4u, g: u32) -> vec4u {
  let at = r * ((p.cols + 31u) / 32u) + vec4u(g / 8u);
  return vec4u(mask[at.x], mask[at.y], mask[at.z], mask[at.w]);
}

fn quadNibbles(w: vec4u, g: u32) -> vec4u {
  return vec4u(nibbleOf(w.x, g), nibbleOf(w.y, g), nibbleOf(w.z, g), nibbleOf(w.w, g));
}

/** Where the quad's rows r start in values. */
fn quadStarts(r: vec4u) -> vec4u {
  return vec4u(rowStart[r.x], rowStart[r.y], rowStart[r.z], rowStart[r.w]);
}
