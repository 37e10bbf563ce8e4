// matmul_tiled: C = alpha·op(A)·op(B) (+ C when ACCUMULATE), shared-memory tiled.
//
// The fast variant on real GPUs: a workgroup of WG x WG invocations computes a (4·WG) x (4·WG)
// tile of C; for each slice of BK = 16 along k it stages op(A)[tile rows, slice] and
// op(B)[slice, tile cols] in workgroup memory (zero-padded past the edges), then every invocation
// accumulates its 4 x 4 outputs from there. Invocation (tx, ty) owns C[i0 + ty + WG·r, j0 + tx + WG·s],
// r, s in 0..3, so neighbouring invocations read neighbouring shared-memory words.
//
// Operands are described by strides, as in matmul_register.wgsl:
//   op(A)[i, k] = A[offA + i·sAi + k·sAk],  op(B)[k, j] = B[offB + k·sBk + j·sBj],
//   C[i, j] = C[offC + i·ldC + j]
// Staging reads along whichever index has stride 1, so global loads are coalesced for every
// transpose.
//
// Bindings (group 0):
//   0  uniform Params { M, N, K, offA, sAi, sAk, offB, sBk, sBj, offC, ldC: u32, alpha: f32 }
//   1  a: array<f32>, read         op(A) is [M, K]
//   2  b: array<f32>, read         op(B) is [K, N]
//   3  c: array<f32>, read_write   [M, N] window
// Grid: (ceil(N / (4·WG)), ceil(M / (4·WG))) workgroups of WG x WG.

override WG: u32 = 16;
override ACCUMULATE: bool = false;

const BK: u32 = 16u;
const T: u32 = 4u; // outputs per invocation along each dimension

struct Params {
  M: u32, N: u32, K: u32,
  offA: u32, sAi: u32, sAk: u32,
  offB: u32, sBk: u32, sBj: u32,
  offC: u32, ldC: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

var<workgroup> As: array<f32, BK * T * WG>; // [BK][T·WG]: op(A) slice, k-major
var<workgroup> Bs: array<f32, BK * T * WG>; // [BK][T·WG]: op(B) slice

@compute @workgroup_size(WG, WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let BM = T * WG;
  let i0 = wid.y * BM;
  let j0 = wid.x * BM;
  let tid = lid.y * WG + lid.x;
  let threads = WG * WG;

  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // stage op(A)[i0 .. i0+BM, k0 .. k0+BK] into As[kk][ii]
    for (var e = tid; e < BK * BM; e += threads) {
      var ii: u32; var kk: u32;
      if (p.sAk == 1u) { kk = e % BK; ii = e / BK; } else { ii = e % BM; kk = e / BM; }
      let i = i0 + ii; let k = k0 + kk;
      var v = 0.0;
      if (i < p.M && k < p.K) { v = a[p.offA + i * p.sAi + k * p.sAk]; }
      As[kk * BM + ii] = v;
    }
    // stage op(B)[k0 .. k0+BK, j0 .. j0+BM] into Bs[kk][jj]
    for (var e = tid; e < BK * BM; e += threads) {
      var jj: u32; var kk: u32;
      if (p.sBj == 1u) { jj = e % BM; kk = e / BM; } else { kk = e % BK; jj = e / BK; }
      let j = j0 + jj; let k = k0 + kk;
      var v = 0.0;
      if (j < p.N && k < p.K) { v = b[p.offB + k * p.sBk + j * p.sBj]; }
      Bs[kk * BM + jj] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var r = 0u; r < T; r++) { av[r] = As[kk * BM + lid.y + WG * r]; }
      for (var s = 0u; s < T; s++) { bv[s] = Bs[kk * BM + lid.x + WG * s]; }
      for (var r = 0u; r < T; r++) {
        for (var s = 0u; s < T; s++) { acc[r][s] = fma(av[r], bv[s], acc[r][s]); }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < T; r++) {
    let i = i0 + lid.y + WG * r;
    if (i >= p.M) { continue; }
    for (var s = 0u; s < T; s++) {
      let j = j0 + lid.x + WG * s;
      if (j < p.N) {
        let at = p.offC + i * p.ldC + j;
        var v = p.alpha * acc[r][s];
        if (ACCUMULATE) { v += c[at]; }
        c[at] = v;
      }
    }
  }
}
