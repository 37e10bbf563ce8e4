// matmul_tiled: C = alpha·op(A)·op(B) (+ C when ACCUMULATE), shared-memory tiled.
//
// The fast variant on real GPUs: a workgroup of WG x WG invocations computes a (4·WG) x (4·WG)
// tile of C; for each slice of BK = 16 along k it stages op(A)[tile rows, slice] and
// op(B)[slice, tile cols] in workgroup memory (zero-padded past the edges), then every invocation
// accumulates its 4 x 4 outputs from there. Invocation (tx, ty) owns C[i0 + ty + WG·r, j0 + tx + WG·s],
// r, s in 0..3, so neighbouring invocations read neighbouring shared-memory words.
//
//   op(A)[i, k] = A[offA + i·ldA + k]   (A[offA + k·ldA + i] when TRANS_A)
//   op(B)[k, j] = B[offB + k·ldB + j]   (B[offB + j·ldB + k] when TRANS_B)
//   C[i, j]     = C[offC + i·ldC + j]
// Staging walks each operand along its contiguous dimension, so consecutive invocations load
// consecutive addresses (coalesced) for every transpose.
//
// SYMMETRIC: for products known to be symmetric (XᵀX: M == N), only the tiles on and above the
// diagonal are computed, and an off-diagonal tile is stored both at (i, j) and (j, i).
//
// Bindings (group 0):
//   Params (lib/matmul_params.wgsl): { M, N, K, offA, ldA, offB, ldB, offC, ldC: u32, alpha: f32 }
//   #binding a: array<f32>, read         op(A) is [M, K]
//   #binding b: array<f32>, read         op(B) is [K, N]
//   #binding c: array<f32>, read_write   [M, N] window
// Loops: ~28 iterations per slice of k; llvmpipe silently ends an invocation after 65535, so the
//   caller passes at most TILED_K_PER_DISPATCH (34240) steps of k per dispatch and accumulates.
// Grid: (ceil(N / (4·WG)), ceil(M / (4·WG))) workgroups of WG x WG, or when SYMMETRIC one
//   workgroup per tile on/above the diagonal, T·(T+1)/2 with T = ceil(N / (4·WG)), numbered
//   linearly over x then y.

override WG: u32 = 16;

const BK: u32 = 16u;
const T: u32 = 4u; // outputs per invocation along each dimension

// #include "lib/matmul_params.wgsl"

// Staged slices, k-major with rows padded by one word (stride T·WG + 1): staging along k then
// writes 16 consecutive invocations to 16 different banks instead of one.
var<workgroup> As: array<f32, BK * (T * WG + 1u)>; // As[kk·S + ii] = op(A)[i0 + ii, k0 + kk]
var<workgroup> Bs: array<f32, BK * (T * WG + 1u)>; // Bs[kk·S + jj] = op(B)[k0 + kk, j0 + jj]

@compute @workgroup_size(WG, WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let BM = T * WG;
  let S = BM + 1u; // row stride of As and Bs
  let tile = product_tile(wid, nwg, BM); // (tile column, tile row)
  if (tile.x == NO_TILE) {
    return; // uniform across the workgroup, so no barrier is skipped by part of it
  }
  let i0 = tile.y * BM;
  let j0 = tile.x * BM;
  let tid = lid.y * WG + lid.x;
  let threads = WG * WG;

  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // stage op(A)[i0 .. i0+BM, k0 .. k0+BK] into As[kk][ii]
    for (var e = tid; e < BK * BM; e += threads) {
      var ii: u32; var kk: u32;
      if (TRANS_A) { ii = e % BM; kk = e / BM; } else { kk = e % BK; ii = e / BK; }
      let i = i0 + ii; let k = k0 + kk;
      var v = 0.0;
      if (i < p.M && k < p.K) { v = opA(i, k); }
      As[kk * S + ii] = v;
    }
    // stage op(B)[k0 .. k0+BK, j0 .. j0+BM] into Bs[kk][jj]
    for (var e = tid; e < BK * BM; e += threads) {
      var jj: u32; var kk: u32;
      if (TRANS_B) { kk = e % BK; jj = e / BK; } else { jj = e % BM; kk = e / BM; }
      let j = j0 + jj; let k = k0 + kk;
      var v = 0.0;
      if (j < p.N && k < p.K) { v = opB(k, j); }
      Bs[kk * S + jj] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var r = 0u; r < T; r++) { av[r] = As[kk * S + lid.y + WG * r]; }
      for (var s = 0u; s < T; s++) { bv[s] = Bs[kk * S + lid.x + WG * s]; }
      for (var r = 0u; r < T; r++) {
        for (var s = 0u; s < T; s++) { acc[r][s] = fma(av[r], bv[s], acc[r][s]); }
      }
    }
    workgroupBarrier();
  }
  let mirror = SYMMETRIC && tile.x != tile.y;
  for (var r = 0u; r < T; r++) {
    let i = i0 + lid.y + WG * r;
    if (i >= p.M) { continue; }
    for (var s = 0u; s < T; s++) {
      let j = j0 + lid.x + WG * s;
      if (j < p.N) {
        let v = p.alpha * acc[r][s];
        store(i, j, v);
        if (mirror) { store(j, i, v); }
      }
    }
  }
}

// #include "lib/matmul_operands.wgsl"
