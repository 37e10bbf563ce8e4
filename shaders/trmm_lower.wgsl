// trmm_lower: C = alpha·A·B with A lower triangular, register-blocked like
// matmul_register_vec4.wgsl (no workgroup memory, no barriers, vec4 loads).
//
//   C[i, j] = alpha·Σ_{k ≤ i} A[i, k]·B[k, j]
// The sum stops at the diagonal — M²·N/2 multiply-adds, half of a dense product — and entries of
// A above the diagonal are never used (they may hold anything). Used by the blocked triangular
// inversion (cholesky.ts).
//
// Alignment (checked by the caller): offA, ldA, offB, ldB are multiples of 4. A is read in chunks
// A[i, k..k+3] and B in chunks B[k, j..j+3] (k, j multiples of 4); rows past M and chunks past N
// are clamped to the last ones that hold elements of the matrices, so every read lies inside the
// buffer, and what they bring is zeroed (k ≥ M) or only reaches outputs that are never stored.
//
// Bindings (group 0):
//   #params { M, N, offA, ldA, offB, ldB, offC, ldC: u32, alpha: f32 }
//   #binding a: array<vec4f>, read       [M, M] window at offA, leading dimension ldA
//   #binding b: array<vec4f>, read       [M, N] window at offB, leading dimension ldB
//   #binding c: array<f32>, read_write   [M, N] window at offC, leading dimension ldC
// Grid: (ceil(N / (8·WG_X)), ceil(M / (8·WG_Y))) workgroups of WG_X x WG_Y; invocation (x, y)
//   owns the 8 x 8 tile of C at rows 8y.., columns 8x...

override WG_X: u32 = 8;
override WG_Y: u32 = 8;

const T: u32 = 8u;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i0 = gid.y * T;
  let j0 = gid.x * T;
  if (i0 >= p.M || j0 >= p.N) {
    return;
  }
  let lastI = p.M - 1u;
  let cj1 = min(j0 + 4u, (p.N - 1u) & ~3u); // past N: the last chunk holding an element of B
  var acc: array<vec4f, 16>; // acc[2r + h][s] = C[i0 + r, j0 + 4h + s]
  // chunks of 4 steps of k up to the tile's last row (the sum stops at the diagonal); from i0 on,
  // A[i, k] is kept only for k ≤ i and k < M
  for (var kc = 0u; kc < min(i0 + T, p.M); kc += 4u) {
    var av: array<vec4f, 8>; // av[r][kk] = A[i0 + r, kc + kk]
    for (var r = 0u; r < T; r++) {
      av[r] = a[(p.offA + min(i0 + r, lastI) * p.ldA + kc) / 4u];
    }
    if (kc + 4u > i0) {
      let kv = vec4u(kc, kc + 1u, kc + 2u, kc + 3u);
      for (var r = 0u; r < T; r++) {
        av[r] = select(vec4f(0.0), av[r], (kv <= vec4u(i0 + r)) & (kv < vec4u(p.M)));
      }
    }
    for (var kk = 0u; kk < 4u; kk++) {
      let row = p.offB + min(kc + kk, lastI) * p.ldB;
      let b0 = b[(row + j0) / 4u];
      let b1 = b[(row + cj1) / 4u];
      for (var r = 0u; r < T; r++) {
        acc[2u * r] = fma(vec4f(av[r][kk]), b0, acc[2u * r]);
        acc[2u * r + 1u] = fma(vec4f(av[r][kk]), b1, acc[2u * r + 1u]);
      }
    }
  }
  storeTile8(i0, j0, &acc);
}

// C[i, j0 .. j0+8] = alpha·(lo, hi), the columns past N skipped
fn storeRow(i: u32, j0: u32, lo: vec4f, hi: vec4f) {
  if (i >= p.M) {
    return;
  }
  let values = array<f32, 8>(lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w);
  for (var u = 0u; u < T; u++) {
    let j = j0 + u;
    if (j < p.N) {
      c[p.offC + i * p.ldC + j] = p.alpha * values[u];
    }
  }
}

// #include "lib/tile8_store.wgsl"
