// tile8_store: stores an invocation's 8 x 8 register tile of C row by row through the includer's
// `storeRow(i, j0, lo, hi)` (row i's columns j0 .. j0+3 in lo, j0+4 .. j0+7 in hi):
//   acc[2r + h][s] = C[i0 + r, j0 + 4h + s],   r < 8, h < 2, s < 4
// The calls index acc with constants: a store loop over acc that the compiler does not unroll
// fully demotes it to scratch memory and makes the whole kernel ~1.5x slower on llvmpipe (as in
// matmul_register_vec4.wgsl). acc comes by pointer, not by value (a copy of the tile made Cholesky
// up to 2x slower). Used by syrk.wgsl and trmm_lower.wgsl.

fn storeTile8(i0: u32, j0: u32, acc: ptr<function, array<vec4f, 16>>) {
  storeRow(i0, j0, (*acc)[0], (*acc)[1]);
  storeRow(i0 + 1u, j0, (*acc)[2], (*acc)[3]);
  storeRow(i0 + 2u, j0, (*acc)[4], (*acc)[5]);
  storeRow(i0 + 3u, j0, (*acc)[6], (*acc)[7]);
  storeRow(i0 + 4u, j0, (*acc)[8], (*acc)[9]);
  storeRow(i0 + 5u, j0, (*acc)[10], (*acc)[11]);
  storeRow(i0 + 6u, j0, (*acc)[12], (*acc)[13]);
  storeRow(i0 + 7u, j0, (*acc)[14], (*acc)[15]);
}
