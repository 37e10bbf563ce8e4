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
    if (TRANS_A) {
      for (var kk = 0u; kk < 4u; kk++) {
        let k = min(kb + kk, lastK);
        for (var q = 0u; q < TM / 4u; q++) {
          let v = a[(p.offA + k * p.ldA + min(i0 + 4u * q, lastI & ~3u)) / 4u];
          for (var s = 0u; s < 4u; s++) {
            av[4u * q + s][kk] = v[s];
          }
        }
      }
    } else {
      for (var r = 0u; r < TM; r++) {
        av[r] = a[(p.offA + min(i0 + r, lastI) * p.ldA + kb) / 4u];
      }
    }
    if (TRANS_B) {
      for (var t = 0u; t < TN; t++) {
        let v = b[(p.offB + min(j0 + t, lastJ) * p.ldB + kb) / 4u];
        for (var kk = 0u; kk < 4u; kk++) {
          bv[kk * TN4 + t / 4u][t % 4u] = v[kk];
        }
      }
    } else {
      for (var kk = 0u; kk < 4u; kk++) {
        let k = min(kb + kk, lastK);
        for (var q = 0u; q < TN4; q++) {
          bv[kk * TN4 + q] = b[(p.offB + k * p.ldB + min(j0 + 4u * q, lastJ & ~3u)) / 4u];
        }
      }
    }
    if (kb + 4u > p.K) { // last block of k: the chunks' elements past K are not part of the operands
      let live = p.K - kb;
      let keep = vec4<bool>(true, live > 1u, live > 2u, false);
      for (var r = 0u; r < TM; r++) {
        av[r] = select(vec4f(0.0), av[r], keep);
      }
      for (var kk = 1u; kk < 4u; kk++) {
        for (var q = 0u; q < TN4; q++) {
          bv[kk * TN4 + q] = select(vec4f(0.0), bv[kk * TN4 + q], kk < live);
        }
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
// #include "lib/matmul_store.wgsl"
