// matmul_texture_vec4: matmul_texture.wgsl (C = alpha·op(A)·op(B), + C when ACCUMULATE, operands
// read from textures) for a C whose rows can be written four floats at a time: the window's offset,
// its leading dimension and N multiples of 4. The same product, the same bits; only the stores
// differ. It never mirrors: with SYMMETRIC (a Gram's k-slices before the last) it updates only the
// tiles on and above the diagonal, and the last slice's matmul_texture.wgsl writes the lower triangle.
//
// Why: llvmpipe writes a storage binding lane by lane, one loop over the 8 lanes of a SIMD vector per
// store, so the per-element stores of matmul_texture.wgsl (lib/matmul_store.wgsl) cost 4x the
// stores of a vec4 each. Measured on tiny-llama's gate/up shape (C 4096 x 1408, in one process,
// five products between syncs, alternating with the scalar kernel): K = 4, where the stores are
// the work, 18–20 ms against 31–33; K = 256 139–152 ms against 141–175.
//
// #params { M, N, K, offC, ldC: u32, alpha: f32 }
// #binding ta: texture_storage_2d<rgba32float, read>   op(A), as in matmul_texture.wgsl
// #binding tb: texture_storage_2d<rgba32float, read>   op(B), as in matmul_texture.wgsl
// #binding c: array<vec4f>, read_write             [M, N] window, C[i, j] at float offC + i·ldC + j
// Grid: as matmul_texture.wgsl's.

// #include "lib/texture_product.wgsl"

fn b_first(j0: u32, q: u32) -> u32 {
  return j0 + 4u * q;
}

// C[i, j .. j+4] = alpha·v (or += when ACCUMULATE), j a multiple of 4 below N
fn store4(i: u32, j: u32, v: vec4f) {
  let at = (p.offC + i * p.ldC + j) / 4u;
  if (ACCUMULATE) {
    c[at] += p.alpha * v;
  } else {
    c[at] = p.alpha * v;
  }
}

fn store_tile_row(i: u32, j0: u32, acc: mat4x4f, mirror: bool) {
  if (i >= p.M) {
    return;
  }
  if (j0 < p.N) {
    store4(i, j0, acc[0]);
  }
  if (j0 + 4u < p.N) {
    store4(i, j0 + 4u, acc[1]);
  }
  if (j0 + 8u < p.N) {
    store4(i, j0 + 8u, acc[2]);
  }
  if (j0 + 12u < p.N) {
    store4(i, j0 + 12u, acc[3]);
  }
}
