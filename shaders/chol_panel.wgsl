// chol_panel: Cholesky factor and inverse factor of one small diagonal block, in one workgroup.
//   A = L·Lᵀ  (A: n x n symmetric, only its lower triangle is read; overwritten by L, with zeros
//              above the diagonal)
//   D = L⁻¹   (n x n lower triangular, zeros above the diagonal)
// This is the sequential part of the blocked factorizations (cholesky.ts): n is the block size
// (64 by default), and everything else there is matrix products.
//
// Factorization (Cholesky–Banachiewicz, row by row): invocation t owns rows t, t + WG, … and at
// step j computes
//   L[j, j] = sqrt(A[j, j] − Σ_{k<j} L[j, k]²)                     (owner of row j)
//   L[i, j] = (A[i, j] − Σ_{k<j} L[i, k]·L[j, k]) / L[j, j]      (owners of rows i > j)
// with one barrier per step (row j's diagonal must be visible before the rows below use it).
// Inverse: invocation t owns columns t, t + WG, … of D and solves L·D[:, c] = e_c top-down; the
// columns are independent, so no barriers.
//
// A pivot that is not > 0 (including NaN) is reported to the status buffer with key key0 + j (the
// pivot's index in the whole matrix being factored) under op `op`; see thanos/linalg/status.ts.
// The factorization then continues (with NaN), so the status is the only reliable signal.
//
// Bindings (group 0):
//   #params { n, offA, ldA, offD, ldD, op, key0: u32 }
//   #binding a: array<f32>, read_write              [n, n] window at offA, leading dimension ldA
//   #binding d: array<f32>, read_write              [n, n] window at offD, leading dimension ldD
//   #binding status: array<atomic<u32>>, read_write [4]
// Grid: one workgroup of WG invocations.

override WG: u32 = 64;

// #include "lib/status.wgsl"

fn at(i: u32, j: u32) -> u32 {
  return p.offA + i * p.ldA + j;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  let n = p.n;
  for (var j = 0u; j < n; j++) {
    let rowJ = p.offA + j * p.ldA;
    if (j % WG == t) {
      var s = a[rowJ + j];
      for (var k = 0u; k < j; k++) {
        let l = a[rowJ + k];
        s -= l * l;
      }
      if (!(s > 0.0)) {
        report(p.key0 + j, s);
      }
      a[rowJ + j] = sqrt(s);
    }
    storageBarrier();
    let ljj = a[rowJ + j];
    // rows i > j owned by this invocation: the first is j + 1 + ((t − j − 1) mod WG)
    for (var i = j + 1u + (t + WG - (j + 1u) % WG) % WG; i < n; i += WG) {
      let rowI = p.offA + i * p.ldA;
      var s = a[rowI + j];
      for (var k = 0u; k < j; k++) {
        s -= a[rowI + k] * a[rowJ + k];
      }
      a[rowI + j] = s / ljj;
    }
  }
  storageBarrier();
  // zeros above the diagonal, then D = L⁻¹ column by column
  for (var i = t; i < n; i += WG) {
    for (var j = i + 1u; j < n; j++) {
      a[at(i, j)] = 0.0;
    }
  }
  for (var c = t; c < n; c += WG) {
    // column c of D, top-down; D[k, c] = 0 for k < c, so every invocation runs the same k range
    // (no divergence between neighbouring columns)
    for (var i = 0u; i < n; i++) {
      let rowI = p.offA + i * p.ldA;
      var s = select(0.0, 1.0, i == c);
      for (var k = 0u; k < i; k++) {
        s -= a[rowI + k] * d[p.offD + k * p.ldD + c];
      }
      d[p.offD + i * p.ldD + c] = select(0.0, s / a[rowI + i], i >= c);
    }
  }
}
