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

// #include "lib/matmul_params.wgsl"
// #include "lib/register_tile.wgsl"

// The block of 4 steps of k from kb that lib/register_tile.wgsl's main multiplies into the tile:
//   av[r][kk] = op(A)[i0 + r, kb + kk], bv[kk·TN4 + q][s] = op(B)[kb + kk, j0 + 4q + s]
fn loadBlock(i0: u32, j0: u32, kb: u32, av: ptr<function, ABlock>, bv: ptr<function, BBlock>) {
  let lastI = p.M - 1u;
  let lastJ = p.N - 1u;
  let lastK = p.K - 1u;
  for (var kk = 0u; kk < 4u; kk++) {
    let k = min(kb + kk, lastK);
    let keep = kb + kk < p.K; // false only in the last block of k, past K
    for (var r = 0u; r < TM; r++) {
      (*av)[r][kk] = select(0.0, opA(min(i0 + r, lastI), k), keep);
    }
    for (var t = 0u; t < TN; t++) {
      (*bv)[kk * TN4 + t / 4u][t % 4u] = select(0.0, opB(k, min(j0 + t, lastJ)), keep);
    }
  }
}

// #include "lib/matmul_operands.wgsl"
