// syrk: symmetric rank-K update of the lower triangle, C = alpha·AᵀA (+ C when ACCUMULATE), with
// A stored [K, N] row-major, register-blocked like matmul_register_vec4.wgsl (no workgroup memory,
// no barriers, vec4 loads).
//
//   C[i, j] = alpha·Σ_k A[k, i]·A[k, j] (+ C[i, j])    for i ≥ j (lower triangle)
//   MIRROR:  C[j, i] = C[i, j] as well, so C ends exactly symmetric
//   tri = 1: A is lower triangular (A[k, i] = 0 for k < i): the sum runs over k ≥ max(i, j) only
//            and entries above A's diagonal are never used — C = AᵀA in N³/3 multiply-adds (the
//            product of LAPACK's lauum, A⁻¹ = L⁻ᵀ·L⁻¹ with A = L⁻¹).
// Only tiles that touch the lower triangle compute, half of a full product.
//
// Alignment (checked by the caller): offA and ldA are multiples of 4, so each 4-element chunk
// A[k, i..i+3] (i a multiple of 4) is one aligned vec4; chunks past N are clamped to the last one
// that holds an element of A, so every read lies inside the buffer, and their products only reach
// outputs that are never stored.
//
// Bindings (group 0):
//   0  uniform Params { N, K, offA, ldA, offC, ldC: u32, alpha: f32, tri: u32 }
//   1  a: array<vec4f>, read       A [K, N] window at offA, leading dimension ldA
//   2  c: array<f32>, read_write   [N, N] window at offC, leading dimension ldC
// Grid: (ceil(N / (8·WG_X)), ceil(N / (8·WG_Y))) workgroups of WG_X x WG_Y; invocation (x, y)
//   owns the 8 x 8 tile of C at rows 8y.., columns 8x.., and returns at once when it lies above the
//   diagonal.

override WG_X: u32 = 8;
override WG_Y: u32 = 8;
override ACCUMULATE: bool = false;
override MIRROR: bool = false;

const T: u32 = 8u;

struct Params {
  N: u32,
  K: u32,
  offA: u32,
  ldA: u32,
  offC: u32,
  ldC: u32,
  alpha: f32,
  tri: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;

// acc[2r + h][s] = C[i0 + r, j0 + 4h + s]
var<private> acc: array<vec4f, 16>;

// acc += A[k, i0..i0+7]ᵀ·A[k, j0..j0+7]
fn rank1(ai0: vec4f, ai1: vec4f, aj0: vec4f, aj1: vec4f) {
  for (var r = 0u; r < 4u; r++) {
    acc[2u * r] = fma(vec4f(ai0[r]), aj0, acc[2u * r]);
    acc[2u * r + 1u] = fma(vec4f(ai0[r]), aj1, acc[2u * r + 1u]);
    acc[2u * r + 8u] = fma(vec4f(ai1[r]), aj0, acc[2u * r + 8u]);
    acc[2u * r + 9u] = fma(vec4f(ai1[r]), aj1, acc[2u * r + 9u]);
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i0 = gid.y * T;
  let j0 = gid.x * T;
  if (i0 >= p.N || j0 >= p.N || i0 + T - 1u < j0) {
    return;
  }
  // chunks of rows/columns past N are clamped to the last chunk that holds an element of A (read,
  // multiplied, never stored)
  let lastChunk = (p.N - 1u) / 4u;
  let ci0 = i0 / 4u;
  let ci1 = min(ci0 + 1u, lastChunk);
  let cj0 = j0 / 4u;
  let cj1 = min(cj0 + 1u, lastChunk);
  let zero = vec4f(0.0);
  var k = 0u;
  if (p.tri != 0u) {
    // terms with k < max(i, j) vanish; below kFull some entries of the tile still need masking
    k = min(max(i0, j0), p.K);
    let kFull = min(max(i0, j0) + T, p.K);
    let ri0 = vec4u(i0, i0 + 1u, i0 + 2u, i0 + 3u);
    let rj0 = vec4u(j0, j0 + 1u, j0 + 2u, j0 + 3u);
    for (; k < kFull; k++) {
      let row = (p.offA + k * p.ldA) / 4u;
      let kv = vec4u(k);
      let ai0 = select(zero, a[row + ci0], kv >= ri0);
      let ai1 = select(zero, a[row + ci1], kv >= ri0 + 4u);
      let aj0 = select(zero, a[row + cj0], kv >= rj0);
      let aj1 = select(zero, a[row + cj1], kv >= rj0 + 4u);
      rank1(ai0, ai1, aj0, aj1);
    }
  }
  for (; k + 4u <= p.K; k += 4u) {
    for (var kk = 0u; kk < 4u; kk++) {
      let row = (p.offA + (k + kk) * p.ldA) / 4u;
      rank1(a[row + ci0], a[row + ci1], a[row + cj0], a[row + cj1]);
    }
  }
  for (; k < p.K; k++) {
    let row = (p.offA + k * p.ldA) / 4u;
    rank1(a[row + ci0], a[row + ci1], a[row + cj0], a[row + cj1]);
  }
  for (var r = 0u; r < T; r++) {
    let i = i0 + r;
    for (var t = 0u; t < T; t++) {
      let j = j0 + t;
      if (i < p.N && j <= i) {
        var v = p.alpha * acc[2u * r + t / 4u][t % 4u];
        let at = p.offC + i * p.ldC + j;
        if (ACCUMULATE) {
          v += c[at];
        }
        c[at] = v;
        if (MIRROR && j < i) {
          c[p.offC + j * p.ldC + i] = v;
        }
      }
    }
  }
}
