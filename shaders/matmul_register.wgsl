// matmul_register: C = alpha·op(A)·op(B) (+ C when ACCUMULATE), register-blocked, scalar loads.
//
// matmul_register_vec4.wgsl with one load per element, for views whose offsets or leading
// dimensions are not multiples of 4 (see that file for the design and what bounds it on llvmpipe).
// Each invocation keeps a 16 x 16 tile of C in registers; no workgroup memory, no barriers. Loads clamp their row/column
// index to the operand's last one (those products land in outputs that are never stored) and
// zero the values past K in the last block of k.
//
//   op(A)[i, k] = A[offA + i·ldA + k]   (A[offA + k·ldA + i] when TRANS_A)
//   op(B)[k, j] = B[offB + k·ldB + j]   (B[offB + j·ldB + k] when TRANS_B)
//   C[i, j]     = C[offC + i·ldC + j]
//
// SYMMETRIC: for products known to be symmetric (XᵀX: M == N), only the workgroup tiles on and
// above the diagonal are computed, and an off-diagonal tile is stored both at (i, j) and (j, i).
//
// Bindings (group 0):
//   Params (lib/matmul_params.wgsl): { M, N, K, offA, ldA, offB, ldB, offC, ldC: u32, alpha: f32 }
//   #binding a: array<f32>, read         op(A) is [M, K]
//   #binding b: array<f32>, read         op(B) is [K, N]
//   #binding c: array<f32>, read_write   [M, N] window
// Grid: workgroups of WG_X x WG_Y invocations, each computing a (16·WG_Y) x (16·WG_X) tile of C:
//   (ceil(N / (16·WG_X)), ceil(M / (16·WG_Y))), or when SYMMETRIC (needs WG_X == WG_Y) one
//   workgroup per tile on/above the diagonal, T·(T+1)/2 with T = ceil(N / (16·WG_X)), numbered
//   linearly over x then y.

override WG_X: u32 = 8;
override WG_Y: u32 = 8;

const TM: u32 = 16u; // rows of C per invocation
const TN: u32 = 16u; // columns of C per invocation
const TN4: u32 = TN / 4u;

// #include "lib/matmul_params.wgsl"

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let tile = product_tile(wid, nwg, TN * WG_X); // (tile column, tile row)
  if (tile.x == NO_TILE) {
    return;
  }
  let i0 = (tile.y * WG_Y + lid.y) * TM;
  let j0 = (tile.x * WG_X + lid.x) * TN;
  if (i0 >= p.M || j0 >= p.N) {
    return;
  }
  let lastI = p.M - 1u;
  let lastJ = p.N - 1u;
  let lastK = p.K - 1u;
  var acc: array<vec4f, TM * TN4>; // acc[r·TN4 + q][s] = C[i0 + r, j0 + 4q + s]
  // acc += op(A)[i0 .. i0+TM, kb .. kb+4] · op(B)[kb .. kb+4, j0 .. j0+TN], 4 steps of k at a time
  for (var kb = 0u; kb < p.K; kb += 4u) {
    var av: array<vec4f, TM>;       // av[r][kk] = op(A)[i0 + r, kb + kk]
    var bv: array<vec4f, 4u * TN4>; // bv[kk·TN4 + q][s] = op(B)[kb + kk, j0 + 4q + s]
    for (var kk = 0u; kk < 4u; kk++) {
      let k = min(kb + kk, lastK);
      let keep = kb + kk < p.K; // false only in the last block of k, past K
      for (var r = 0u; r < TM; r++) {
        av[r][kk] = select(0.0, opA(min(i0 + r, lastI), k), keep);
      }
      for (var t = 0u; t < TN; t++) {
        bv[kk * TN4 + t / 4u][t % 4u] = select(0.0, opB(k, min(j0 + t, lastJ)), keep);
      }
    }
    for (var kk = 0u; kk < 4u; kk++) {
      for (var r = 0u; r < TM; r++) {
        for (var q = 0u; q < TN4; q++) {
          acc[r * TN4 + q] = fma(vec4f(av[r][kk]), bv[kk * TN4 + q], acc[r * TN4 + q]);
        }
      }
    }
  }
  // Rows are stored by calls with constant indices into acc: a loop over acc that the compiler
  // does not unroll fully demotes acc to scratch memory, and the whole kernel runs 1.6x slower on
  // llvmpipe (which happened to the accumulate and symmetric variants of a store loop). A helper
  // taking acc by value to make these calls (here and in syrk.wgsl) was tried: Cholesky timed up to
  // 2x slower with it on a loaded machine, so the calls stay inline until that is measured cleanly.
  let mirror = SYMMETRIC && tile.x != tile.y;
  storeRow(i0, j0, array<vec4f, TN4>(acc[0], acc[1], acc[2], acc[3]), mirror);
  storeRow(i0 + 1u, j0, array<vec4f, TN4>(acc[4], acc[5], acc[6], acc[7]), mirror);
  storeRow(i0 + 2u, j0, array<vec4f, TN4>(acc[8], acc[9], acc[10], acc[11]), mirror);
  storeRow(i0 + 3u, j0, array<vec4f, TN4>(acc[12], acc[13], acc[14], acc[15]), mirror);
  storeRow(i0 + 4u, j0, array<vec4f, TN4>(acc[16], acc[17], acc[18], acc[19]), mirror);
  storeRow(i0 + 5u, j0, array<vec4f, TN4>(acc[20], acc[21], acc[22], acc[23]), mirror);
  storeRow(i0 + 6u, j0, array<vec4f, TN4>(acc[24], acc[25], acc[26], acc[27]), mirror);
  storeRow(i0 + 7u, j0, array<vec4f, TN4>(acc[28], acc[29], acc[30], acc[31]), mirror);
  storeRow(i0 + 8u, j0, array<vec4f, TN4>(acc[32], acc[33], acc[34], acc[35]), mirror);
  storeRow(i0 + 9u, j0, array<vec4f, TN4>(acc[36], acc[37], acc[38], acc[39]), mirror);
  storeRow(i0 + 10u, j0, array<vec4f, TN4>(acc[40], acc[41], acc[42], acc[43]), mirror);
  storeRow(i0 + 11u, j0, array<vec4f, TN4>(acc[44], acc[45], acc[46], acc[47]), mirror);
  storeRow(i0 + 12u, j0, array<vec4f, TN4>(acc[48], acc[49], acc[50], acc[51]), mirror);
  storeRow(i0 + 13u, j0, array<vec4f, TN4>(acc[52], acc[53], acc[54], acc[55]), mirror);
  storeRow(i0 + 14u, j0, array<vec4f, TN4>(acc[56], acc[57], acc[58], acc[59]), mirror);
  storeRow(i0 + 15u, j0, array<vec4f, TN4>(acc[60], acc[61], acc[62], acc[63]), mirror);
}

// #include "lib/store_row.wgsl"
// #include "lib/matmul_operands.wgsl"
