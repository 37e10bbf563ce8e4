// bitmask_matmul: Y = X·Wᵀ (+ b) for a batch of tokens from an unstructured-sparse weight stored
// without its zeros (compressed-tensors' sparse-bitmask) — the prefill/evaluation product. The weight
// is the one bitmask_matvec.wgsl reads (non-zero values, one mask bit a weight, a start per row).
//
// Bindings (group 0):
//   0  uniform Params { n, rows, cols: u32 }
//   1  values: array<f32>, read     [nnz]: the non-zero values, row-major (`<m>.compressed`)
//   2  mask: array<u32>, read       [rows, ceil(cols/32)]: bit i of word w of a row is column 32w + i
//                                   (numpy.packbits(bitorder="little") bytes read as little-endian u32)
//   3  rowStart: array<u32>, read   [rows]: where each row starts in values (`<m>.row_offsets`)
//   4  x: array<f32>, read          [n, cols] row-major
//   5  bias: array<f32>, read       [rows] (read only when HAS_BIAS)
//   6  y: array<f32>, read_write    [n, rows] row-major
// Math: y[t, o] = Σ over set bits (o, c) of values[k(o, c)]·x[t, c] (+ bias[o]), where k(o, c) =
//   rowStart[o] + (set bits of row o before column c). Walked one group of 4 columns at a time, with
//   no data-dependent loop: a group's nibble of the mask gives its set lanes and their slots in values
//   (lib/sparse_groups.wgsl: maskLanes, maskSlots), the row's slot advances by the nibble's popcount;
//   the 4 rows' dense group weights form a mat4x4 (columns = rows) and each token adds x_t · M, x_t
//   its 4 inputs of the group (columns past cols read the last column and meet weight 0). An
//   invocation holds 4 weight rows x TOKENS = 8 tokens in 8 vec4 accumulators indexed by constants
//   only. Unset lanes load a clamped slot and are discarded by select (never multiplied), so stale
//   values past nnz cannot leak in. Out-of-range rows and tokens read clamped addresses, not stored.
// Grid: x over ceil(rows/4) row quads in workgroups of WG, y over ceil(n/8) token tiles
//   (the wrapper checks both against the per-dimension limit). An invocation loops ceil(cols/4) times.

override WG: u32 = 64;
override HAS_BIAS: bool = false;

const TOKENS: u32 = 8u;

struct Params {
  n: u32,
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read> rowStart: array<u32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

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

/** Stores token t's outputs for rows o0 .. o0+3 (those in range). */
fn storeToken(t: u32, o0: u32, acc: vec4f) {
  if (t >= p.n) {
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    let o = o0 + j;
    if (o < p.rows) {
      var v = acc[j];
      if (HAS_BIAS) {
        v += bias[o];
      }
      y[t * p.rows + o] = v;
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let o0 = 4u * gid.x;
  let t0 = TOKENS * gid.y;
  if (o0 >= p.rows || t0 >= p.n) {
    return;
  }
  let groups = (p.cols + 3u) / 4u;
  let words = (p.cols + 31u) / 32u;
  let r = min(vec4u(o0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.rows - 1u)); //   clamped rows
  var k = vec4u(rowStart[r.x], rowStart[r.y], rowStart[r.z], rowStart[r.w]);
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  var a4 = vec4f(0.0);
  var a5 = vec4f(0.0);
  var a6 = vec4f(0.0);
  var a7 = vec4f(0.0);
  var w = vec4u(0u);
  for (var g = 0u; g < groups; g++) {
    if ((g & 7u) == 0u) {
      let at = r * words + vec4u(g / 8u);
      w = vec4u(mask[at.x], mask[at.y], mask[at.z], mask[at.w]);
    }
    let nib = vec4u(nibbleOf(w.x, g), nibbleOf(w.y, g), nibbleOf(w.z, g), nibbleOf(w.w, g));
    let m = mat4x4f(rowGroup(nib.x, k.x), rowGroup(nib.y, k.y), rowGroup(nib.z, k.z), rowGroup(nib.w, k.w));
    k += countOneBits(nib);
    a0 += xg(t0, g) * m;
    a1 += xg(t0 + 1u, g) * m;
    a2 += xg(t0 + 2u, g) * m;
    a3 += xg(t0 + 3u, g) * m;
    a4 += xg(t0 + 4u, g) * m;
    a5 += xg(t0 + 5u, g) * m;
    a6 += xg(t0 + 6u, g) * m;
    a7 += xg(t0 + 7u, g) * m;
  }
  storeToken(t0, o0, a0);
  storeToken(t0 + 1u, o0, a1);
  storeToken(t0 + 2u, o0, a2);
  storeToken(t0 + 3u, o0, a3);
  storeToken(t0 + 4u, o0, a4);
  storeToken(t0 + 5u, o0, a5);
  storeToken(t0 + 6u, o0, a6);
  storeToken(t0 + 7u, o0, a7);
}
