// matmul_register_vec4: C = alpha·op(A)·op(B) (+ C when ACCUMULATE), register-blocked, vec4 loads.
//
// The fast variant on CPU-emulated adapters (llvmpipe) when A and B are 16-byte aligned (see
// "Alignment"); matmul_register.wgsl is the same kernel with scalar loads for any view. No
// workgroup memory and no barriers (expensive on llvmpipe): each invocation keeps a 16 x 16 tile
// of C in registers and reads its operands straight from storage.
//
// What bounds it on llvmpipe (Mesa 22.3, LLVM 15, AVX2: 8 invocations per SIMD vector), profiled:
// loads. llvmpipe turns every storage-buffer load into a loop over the 8 lanes, each lane a
// bounds check, a branch and a scalar load inserted into the vector — no hardware gathers, and no
// fast path for addresses that are the same in every lane (rows chosen per workgroup, so that op(A)
// is uniform, ran 3-5x slower: still one lane loop per scalar). A vec4 load shares one lane loop
// among 4 floats. So the cost is the number of lane loops per FMA: (TM + TN) vec4 loads per
// 4·TM·TN FMAs. The accumulators (TM·TN floats x 8 lanes) spill to the stack whatever the tile —
// 16 ymm registers hold 2 of the 16 vec4s of an 8 x 8 tile — but a spill is one vector load/store
// for 8 lanes while a storage load costs 8 lane iterations. Measured at 1024² in one process, at
// the same load, against the 8 x 8 tile: 16 x 8 1.04x, 16 x 16 1.49x, 24 x 16 2.0x (noisy: a
// loaded machine; a copy of the 8 x 8 kernel read 0.92x). Tiles must be square for SYMMETRIC;
// 16 x 16 keeps a workgroup tile of 128 (bigger ones idle more invocations on the 128-wide products
// of the pruning loop, and take longer to JIT the first time on a machine).
//
//   op(A)[i, k] = A[offA + i·ldA + k]   (A[offA + k·ldA + i] when TRANS_A)
//   op(B)[k, j] = B[offB + k·ldB + j]   (B[offB + j·ldB + k] when TRANS_B)
//   C[i, j]     = C[offC + i·ldC + j]
// Each operand is read in 4-element chunks along its contiguous dimension: op(A) along k (or i
// when TRANS_A), op(B) along j (or k when TRANS_B).
//
// Alignment (checked by the caller): offA, ldA, offB, ldB are multiples of 4. Then every chunk
// starts at a multiple of 4 elements and contains at least one element of the operand, so it lies
// inside the buffer (buffers are 16-byte multiples); chunk elements past the operand's edge are
// either multiplied into outputs that are never stored (rows ≥ M, columns ≥ N) or zeroed
// (k ≥ K, in the last block of k).
//
// SYMMETRIC: for products known to be symmetric (XᵀX: M == N), only the workgroup tiles on and
// above the diagonal are computed, and an off-diagonal tile is stored both at (i, j) and (j, i).
//
// Bindings (group 0):
//   Params (lib/matmul_params.wgsl): { M, N, K, offA, ldA, offB, ldB, offC, ldC: u32, alpha: f32 }
//   #binding a: array<vec4f>, read         op(A) is [M, K]
//   #binding b: array<vec4f>, read         op(B) is [K, N]
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
  if (TRANS_A) {
    for (var kk = 0u; kk < 4u; kk++) {
      let k = min(kb + kk, lastK);
      for (var q = 0u; q < TM / 4u; q++) {
        let v = a[(p.offA + k * p.ldA + min(i0 + 4u * q, lastI & ~3u)) / 4u];
        for (var s = 0u; s < 4u; s++) {
          (*av)[4u * q + s][kk] = v[s];
        }
      }
    }
  } else {
    for (var r = 0u; r < TM; r++) {
      (*av)[r] = a[(p.offA + min(i0 + r, lastI) * p.ldA + kb) / 4u];
    }
  }
  if (TRANS_B) {
    for (var t = 0u; t < TN; t++) {
      let v = b[(p.offB + min(j0 + t, lastJ) * p.ldB + kb) / 4u];
      for (var kk = 0u; kk < 4u; kk++) {
        (*bv)[kk * TN4 + t / 4u][t % 4u] = v[kk];
      }
    }
  } else {
    for (var kk = 0u; kk < 4u; kk++) {
      let k = min(kb + kk, lastK);
      for (var q = 0u; q < TN4; q++) {
        (*bv)[kk * TN4 + q] = b[(p.offB + k * p.ldB + min(j0 + 4u * q, lastJ & ~3u)) / 4u];
      }
    }
  }
  if (kb + 4u > p.K) { // last block of k: the chunks' elements past K are not part of the operands
    let live = p.K - kb;
    let keep = vec4<bool>(true, live > 1u, live > 2u, false);
    for (var r = 0u; r < TM; r++) {
      (*av)[r] = select(vec4f(0.0), (*av)[r], keep);
    }
    for (var kk = 1u; kk < 4u; kk++) {
      for (var q = 0u; q < TN4; q++) {
        (*bv)[kk * TN4 + q] = select(vec4f(0.0), (*bv)[kk * TN4 + q], kk < live);
      }
    }
  }
}

// #include "lib/matmul_store.wgsl"
