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
//   #params { N, K, offA, ldA, offC, ldC: u32, alpha: f32, tri: u32 }
//   #binding a: array<vec4f>, read       A [K, N] window at offA, leading dimension ldA
//   #binding c: array<f32>, read_write   [N, N] window at offC, leading dimension ldC
// Grid: one workgroup of WG x WG invocations per (8·WG) x (8·WG) tile of C on or below the
//   diagonal, T·(T+1)/2 with T = ceil(N / (8·WG)), numbered linearly over x then y (row by row
//   of tiles); invocation (x, y) owns the 8 x 8 block at rows i0 = 8·(WG·tileRow + y), columns
//   j0 = 8·(WG·tileColumn + x), and returns at once when it lies above the diagonal.

override WG: u32 = 8;
override ACCUMULATE: bool = false;
override MIRROR: bool = false;

const T: u32 = 8u;

@compute @workgroup_size(WG, WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let t = wid.x + wid.y * nwg.x;
  if (t >= triangle(ceilDiv(p.N, T * WG))) {
    return;
  }
  let tile = upperTile(t).yx; // (column, row), column ≤ row: the transpose of upperTile's numbering
  let i0 = (tile.y * WG + lid.y) * T;
  let j0 = (tile.x * WG + lid.x) * T;
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
  var acc: array<vec4f, 16>; // acc[2r + h][s] = C[i0 + r, j0 + 4h + s]
  var k = 0u;
  if (p.tri != 0u) {
    // terms with k < max(i, j) vanish; below kFull some entries of the block still need masking
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
      for (var r = 0u; r < 4u; r++) {
        acc[2u * r] = fma(vec4f(ai0[r]), aj0, acc[2u * r]);
        acc[2u * r + 1u] = fma(vec4f(ai0[r]), aj1, acc[2u * r + 1u]);
        acc[2u * r + 8u] = fma(vec4f(ai1[r]), aj0, acc[2u * r + 8u]);
        acc[2u * r + 9u] = fma(vec4f(ai1[r]), aj1, acc[2u * r + 9u]);
      }
    }
  }
  // 4 steps of k per iteration (the last iteration may run past K: its rows are clamped and zeroed)
  for (; k < p.K; k += 4u) {
    for (var kk = 0u; kk < 4u; kk++) {
      let live = k + kk < p.K;
      let row = (p.offA + min(k + kk, p.K - 1u) * p.ldA) / 4u;
      let ai0 = a[row + ci0];
      let ai1 = a[row + ci1];
      let aj0 = select(zero, a[row + cj0], live);
      let aj1 = select(zero, a[row + cj1], live);
      for (var r = 0u; r < 4u; r++) {
        acc[2u * r] = fma(vec4f(ai0[r]), aj0, acc[2u * r]);
        acc[2u * r + 1u] = fma(vec4f(ai0[r]), aj1, acc[2u * r + 1u]);
        acc[2u * r + 8u] = fma(vec4f(ai1[r]), aj0, acc[2u * r + 8u]);
        acc[2u * r + 9u] = fma(vec4f(ai1[r]), aj1, acc[2u * r + 9u]);
      }
    }
  }
  storeTile8(i0, j0, &acc);
}

// C[i, j0 .. j0+8] on and below the diagonal (j ≤ i < N), mirrored above it when MIRROR
fn storeRow(i: u32, j0: u32, lo: vec4f, hi: vec4f) {
  if (i >= p.N) {
    return;
  }
  let values = array<f32, 8>(lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w);
  for (var u = 0u; u < T; u++) {
    let j = j0 + u;
    if (j <= i) {
      var v = p.alpha * values[u];
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

// #include "lib/upper_tiles.wgsl"
// #include "lib/tile8_store.wgsl"
