// matmul_params: what the three general-product kernels take — matmul_register_vec4.wgsl,
// matmul_register.wgsl and matmul_tiled.wgsl are variants of one product that one wrapper
// (thanos/linalg/matmul.ts) launches with the same record:
// #params { M, N, K, offA, ldA, offB, ldB, offC, ldC: u32, alpha: f32 }
//   C = alpha·op(A)·op(B) (+ C when ACCUMULATE), op(A) [M, K], op(B) [K, N], C [M, N] windows:
//   op(A)[i, k] = A[offA + i·ldA + k]   (A[offA + k·ldA + i] when TRANS_A)
//   op(B)[k, j] = B[offB + k·ldB + j]   (B[offB + j·ldB + k] when TRANS_B)
//   C[i, j]     = C[offC + i·ldC + j]
// SYMMETRIC: the product is known to be symmetric (XᵀX: M == N); only tiles on and above the
// diagonal are computed and off-diagonal ones are mirrored:
//   product_tile(wid, nwg, span) = the (column, row) of the tile of C a workgroup computes, for
//     tiles of span columns: wid.xy, or when SYMMETRIC, upperTile of the workgroup's linear number
//     wid.x + wid.y·nwg.x (lib/upper_tiles.wgsl), and vec2u(NO_TILE) past the last one (the
//     workgroup then returns; uniform across it).

// #include "lib/upper_tiles.wgsl"

override TRANS_A: bool = false;
override TRANS_B: bool = false;
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
