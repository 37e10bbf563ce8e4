// sparse24_matmul: Y = X·Wᵀ (+ b) for a batch of tokens from a 2:4-sparse weight stored without its
// zeros — the prefill/evaluation product of a sparse-24-bitmask layer. The weight is the one
// sparse24_matvec.wgsl reads (kept values + a 4-bit index per group of 4 columns).
//
// Bindings (group 0):
//   0  uniform Params { n, rows, cols: u32 }
//   1  values: array<f32>, read     [rows, cols/2]: the 2 kept values of every group of 4 columns,
//                                   row-major (compressed-tensors' `<m>.compressed`)
//   2  index: array<u32>, read      [rows, ceil(cols/32)]: 4 bits per group, 8 groups per word
//                                   (lib/sparse_groups.wgsl: nibbleOf, kept24)
//   3  x: array<vec4f>, read        [n, cols] row-major f32 read 4 columns at a time (cols % 4 == 0)
//   4  bias: array<f32>, read       [rows] (read only when HAS_BIAS)
//   5  y: array<f32>, read_write    [n, rows] row-major
// Math: y[t, o] = Σ_g dense24(index(o, g), values[o, 2g], values[o, 2g+1]) · x[t, 4g .. 4g+3] (+ bias[o]):
//   each group's 2 kept values are placed at their columns of a 4-vector (zeros elsewhere) and dotted
//   with the token's 4 inputs. An invocation holds a tile of 4 weight rows x TOKENS = 8 tokens in 8
//   vec4 accumulators (one per token, lanes = the 4 rows, indexed by constants only): per group it
//   loads each token's 4 inputs once (8 vec4 loads shared by the 4 rows), each row's 2 values and
//   (every 8th group) its index word, and adds x_t · M, where M's columns are the 4 rows' dense
//   group weights (a mat4x4). Out-of-range rows and tokens read clamped (valid) addresses and are
//   not stored.
// Grid: x over ceil(rows/4) row quads in workgroups of WG, y over ceil(n/8) token tiles
//   (the wrapper checks both against the per-dimension limit). An invocation loops cols/4 times.

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
@group(0) @binding(2) var<storage, read> index: array<u32>;
@group(0) @binding(3) var<storage, read> x: array<vec4f>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

// #include "lib/sparse_groups.wgsl"

/** Columns 4g .. 4g+3 of token t (clamped to the last token). */
fn xg(t: u32, g: u32) -> vec4f {
  return x[min(t, p.n - 1u) * (p.cols / 4u) + g];
}

/** The 4 rows' dense weights of group g: column j of the result is row o0 + j's. */
fn groupWeights(r: vec4u, words: vec4u, g: u32) -> mat4x4f {
  let h = p.cols / 2u;
  let v = 2u * g;
  return mat4x4f(
    dense24(nibbleOf(words.x, g), values[r.x * h + v], values[r.x * h + v + 1u]),
    dense24(nibbleOf(words.y, g), values[r.y * h + v], values[r.y * h + v + 1u]),
    dense24(nibbleOf(words.z, g), values[r.z * h + v], values[r.z * h + v + 1u]),
    dense24(nibbleOf(words.w, g), values[r.w * h + v], values[r.w * h + v + 1u]),
  );
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
  let groups = p.cols / 4u;
  let words = (groups + 7u) / 8u;
  let r = min(vec4u(o0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.rows - 1u)); //   clamped rows
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
      w = vec4u(index[at.x], index[at.y], index[at.z], index[at.w]);
    }
    let m = groupWeights(r, w, g);
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
