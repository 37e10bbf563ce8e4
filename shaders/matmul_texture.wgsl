// matmul_texture: C = alpha·op(A)·op(B) (+ C when ACCUMULATE), register-blocked, operands read from
// textures that pack_texture.wgsl filled (or a buffer-to-texture copy).
//
// The fast product on CPU-emulated adapters (llvmpipe). A 16 x 16 register tile of C per
// invocation, as in matmul_register_vec4.wgsl, but op(A) and op(B) are read with textureLoad from
// rgba32float textures instead of from storage buffers, and the tile is 16 mat4x4f values (row r of
// the tile, columns 4q .. 4q+3 in column q of c_r) rather than an array: every update is written
// out, so no accumulator is ever indexed by a variable. Each element of C sums its 4 steps of k in
// the same order as lib/register_tile.wgsl (fma, kk = 0 .. 3), so the two kernels agree bit for bit.
//
// Why (profiled on Mesa 22.3 llvmpipe, LLVM 15, AVX2: 8 invocations per SIMD vector): llvmpipe
// turns each storage-buffer load into a loop over the 8 lanes (per lane: extract the address,
// bounds check, branch, scalar load, insert) — one such loop per component, so a vec4 load is 32
// lane iterations, and the register kernel spends ~5 instructions on loads for every FMA. A texel
// fetch is generated as straight-line SIMD code: addresses computed for all 8 lanes at once, one
// 16-byte load per lane, no branches. The same unrolled 16 x 16 tile at 1024², in one process at
// the same load: 8.4–9.7 GFLOP/s from textures against 1.5–1.6 from storage (5–6x), and 7.2 with
// an 8 x 8 tile; what is left is the accumulators, which spill (TM·TN floats x 8 lanes never fit in
// 16 ymm registers): one vector load and store per FMA. The form of the tile matters as much: the
// same kernel with lib/register_tile.wgsl's arrays ran at 0.5x (its helpers take them by pointer)
// and 0.6x (loops inline in main) of this one, whose accumulators are values LLVM keeps in SSA form.
// The workgroup's shape matters too: llvmpipe runs a workgroup's invocations 8 at a time in
// local_invocation_index order, so with WG_X = 8 the lanes of a vector share their tile rows of op(A)
// (the same texels, fetched once into cache) and differ only in op(B)'s columns. Measured at 1024² in
// the same hour, one process each: WG_X = WG_Y = 8 14.1 GFLOP/s, 4 x 4 7.0, 2 x 2 3.8, 16 x 16 14.2–18.2
// (no faster); dropping 3 of every 4 texel fetches of op(A) or of op(B) (wrong results, timing only) did
// not speed it up measurably on this noisy host, so the fetches are not what bounds it.
// The textures are bound as read-only STORAGE textures (texture_storage_2d<rgba32float, read>, WGSL's
// readonly_and_readwrite_storage_textures), not as sampled texture_2d: a sampled textureLoad takes a
// mip level, and the GL backend's bounds handling turns it into a level llvmpipe cannot prove uniform,
// so every fetch became a call to a texel-fetch function that recomputed the level's size and offset
// per lane (perf samples on the JIT code, disassembled with gdb: ~45% of the kernel's time in those
// functions). A storage texture has no level: its fetch is inline SIMD code (address, one 16-byte
// load per lane, a 4 x 4 transpose) that LLVM schedules with the arithmetic. Same results bit for bit;
// 1024²: 17.1–19.2 GFLOP/s against 12.1–12.8 (1.5x; wrapper and packing included, alternating runs).
// What the disassembly shows is left: per 2000 instructions of the loop, 512 are the arithmetic (fma is
// a vmulps and a vaddps here: not fused), ~430 moves (accumulator and op(B) spills), ~700 the fetches'
// address extraction, loads and transposes.
// The packing (pack_texture.wgsl) costs a pass over the operands, O(M·K + K·N) against the product's
// O(M·N·K); the wrapper (thanos/linalg/matmul.ts) packs one k-slice of at most 512 at a time, so
// the textures stay small (at most (M + N)·512 floats).
//
//   op(A)[i, k] = ta[texel (k / 4, i)][k % 4]   (i < ceil(M / 16)·16, k < ceil(K / 4)·4)
//     or, when A_COLS, ta[texel (i / 4, k)][i % 4] — op(A)ᵀ's rows, e.g. X for the Gram product XᵀX
//   op(B)[k, j] = tb[texel (j / 4, k)][j % 4]   (k < ceil(K / 4)·4, j < ceil(N / 16)·16)
//     or, when B_ROWS, tb[texel (k / 4, j)][k % 4] — op(B)ᵀ's rows, e.g. a linear layer's weight
//     W [N, K] as stored (the 4 x 4 block is transposed in registers: free in llvmpipe's SoA form)
//   C[i, j]     = C[offC + i·ldC + j]
// pack_texture.wgsl writes zeros past M, K and N within those ranges, so the kernel reads no
// operand out of range and needs no masks; stores are bounded by M and N. An operand whose rows
// are contiguous in memory is copied into its texture instead (copyBufferToTexture: a memcpy, ~15x
// a pack kernel on llvmpipe); then only K is zero-padded (K a multiple of 4) and the rows past M or
// N hold whatever the texture held — they reach only entries of C past M or N, never stored.
//
// SYMMETRIC: for products known to be symmetric (XᵀX: M == N), only the workgroup tiles on and
// above the diagonal are computed, and an off-diagonal tile is stored both at (i, j) and (j, i).
//
// #params { M, N, K, offC, ldC: u32, alpha: f32 }
// #binding ta: texture_storage_2d<rgba32float, read>   op(A), [ceil(M/16)·16 rows, ceil(K/4) texels]
//                                                      (A_COLS: [ceil(K/4)·4 rows, ceil(M/16)·4 texels])
// #binding tb: texture_storage_2d<rgba32float, read>   op(B), [ceil(K/4)·4 rows, ceil(N/16)·4 texels]
//                                                      (B_ROWS: [ceil(N/16)·16 rows, ceil(K/4) texels])
// #binding c: array<f32>, read_write               [M, N] window
// Grid: workgroups of WG_X x WG_Y invocations, each computing a (16·WG_Y) x (16·WG_X) tile of C:
//   (ceil(N / (16·WG_X)), ceil(M / (16·WG_Y))), or when SYMMETRIC (needs WG_X == WG_Y) one
//   workgroup per tile on/above the diagonal, T·(T+1)/2 with T = ceil(N / (16·WG_X)), numbered
//   linearly over x then y.

// #include "lib/matmul_store.wgsl"
// #include "lib/texture_product.wgsl"

fn b_first(j0: u32, q: u32) -> u32 {
  return j0 + 4u * q;
}

fn store_tile_row(i: u32, j0: u32, acc: mat4x4f, mirror: bool) {
  storeRow(i, j0, array<vec4f, 4>(acc[0], acc[1], acc[2], acc[3]), mirror);
}
