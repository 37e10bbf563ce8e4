// product_tile: which tile of C a workgroup of a general product computes, for the includer's
// Params { N: u32, … } (C is [M, N]), and the overrides every product kernel takes:
//   ACCUMULATE: C += alpha·op(A)·op(B) instead of C = … (lib/matmul_store.wgsl reads it);
//   SYMMETRIC: the product is known to be symmetric (XᵀX: M == N); only tiles on and above the
//     diagonal are computed and off-diagonal ones are mirrored;
//   product_tile(wid, nwg, span) = the (column, row) of the tile of C a workgroup computes, for
//     tiles of span columns: wid.xy, or when SYMMETRIC, upperTile of the workgroup's linear number
//     wid.x + wid.y·nwg.x (lib/upper_tiles.wgsl), and vec2u(NO_TILE) past the last one (the
//     workgroup then returns; uniform across it).
// Used by lib/matmul_params.wgsl (the kernels that read op(A) and op(B) from storage) and
// lib/texture_product.wgsl.

// #include "lib/upper_tiles.wgsl"

override ACCUMULATE: bool = false;
override SYMMETRIC: bool = false;

const NO_TILE: u32 = 0xffffffffu;

fn product_tile(wid: vec3u, nwg: vec3u, span: u32) -> vec2u {
  if (!SYMMETRIC) {
    return wid.xy;
  }
  let t = wid.x + wid.y * nwg.x;
  if (t >= triangle(ceilDiv(p.N, span))) {
    return vec2u(NO_TILE);
  }
  return upperTile(t);
}
