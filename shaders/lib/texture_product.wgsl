// texture_product: the register-blocked product of the matmul_texture*.wgsl kernels, C = op(A)·op(B)
// with op(A) and op(B) read from rgba32float textures bound as read-only storage textures. What the
// kernel is, why it has this form and how its operands are laid out: matmul_texture.wgsl's header.
// Each invocation computes a 16 x 16 register tile of the product, rows i0 .. i0+16 and columns
// j0 .. j0+16, as 16 mat4x4f values; the includer says where the tile's columns come from and
// where the tile goes:
//   b_first(j0, q) -> u32   op(B)'s first column of the tile's q-th group of 4 columns (q < 4);
//                           j0 + 4q for a plain product
//   store_tile_row(i, j0, acc: mat4x4f, mirror: bool)   row i of the tile, acc[q] its columns of group q
// and declares the textures ta, tb and Params { M, N, K, … }: rows ≥ M and columns ≥ N of the
// product are not computed (whole tiles) and not stored (the includer's bounds).
// Grid: workgroups of WG_X x WG_Y invocations, each computing a (16·WG_Y) x (16·WG_X) tile:
//   (ceil(N / (16·WG_X)), ceil(M / (16·WG_Y))), or when SYMMETRIC one workgroup per tile on/above
//   the diagonal (lib/product_tile.wgsl).

// #include "lib/product_tile.wgsl"
override WG_X: u32 = 8;
override WG_Y: u32 = 8;
override B_ROWS: bool = false;
override A_COLS: bool = false;

// op(A)[i .. i+4, kb .. kb+4] as the matrix whose column r is row i + r
fn blockA(i: u32, kb: u32) -> mat4x4f {
  if (A_COLS) {
    let x = i / 4u;
    return transpose(mat4x4f(textureLoad(ta, vec2u(x, kb)), textureLoad(ta, vec2u(x, kb + 1u)),
                             textureLoad(ta, vec2u(x, kb + 2u)), textureLoad(ta, vec2u(x, kb + 3u))));
  }
  return mat4x4f(textureLoad(ta, vec2u(kb / 4u, i)), textureLoad(ta, vec2u(kb / 4u, i + 1u)),
                 textureLoad(ta, vec2u(kb / 4u, i + 2u)), textureLoad(ta, vec2u(kb / 4u, i + 3u)));
}

// op(B)[kb .. kb+4, j .. j+4] for j = b_first(j0, q) (a multiple of 4), as the matrix whose column kk
// is row kb + kk
fn blockB(j0: u32, q: u32, kb: u32) -> mat4x4f {
  let j = b_first(j0, q);
  if (B_ROWS) {
    return transpose(mat4x4f(textureLoad(tb, vec2u(kb / 4u, j)), textureLoad(tb, vec2u(kb / 4u, j + 1u)),
                             textureLoad(tb, vec2u(kb / 4u, j + 2u)), textureLoad(tb, vec2u(kb / 4u, j + 3u))));
  }
  let j4 = j / 4u;
  return mat4x4f(textureLoad(tb, vec2u(j4, kb)), textureLoad(tb, vec2u(j4, kb + 1u)),
                 textureLoad(tb, vec2u(j4, kb + 2u)), textureLoad(tb, vec2u(j4, kb + 3u)));
}

// acc + op(A)[i, kb .. kb+4] · op(B)[kb .. kb+4, j .. j+4] (b as from blockB), k in order
fn fma4(acc: vec4f, b: mat4x4f, a: vec4f) -> vec4f {
  return fma(b[3], vec4f(a.w), fma(b[2], vec4f(a.z), fma(b[1], vec4f(a.y), fma(b[0], vec4f(a.x), acc))));
}

// a row of the tile (b0 .. b3 its column groups, from blockB) after 4 more steps of k (a: that row of op(A))
fn stepRow(acc: mat4x4f, b0: mat4x4f, b1: mat4x4f, b2: mat4x4f, b3: mat4x4f, a: vec4f) -> mat4x4f {
  return mat4x4f(fma4(acc[0], b0, a), fma4(acc[1], b1, a), fma4(acc[2], b2, a), fma4(acc[3], b3, a));
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let tile = product_tile(wid, nwg, 16u * WG_X); // (tile column, tile row)
  if (tile.x == NO_TILE) {
    return;
  }
  let i0 = (tile.y * WG_Y + lid.y) * 16u;
  let j0 = (tile.x * WG_X + lid.x) * 16u;
  if (i0 >= p.M || j0 >= p.N) {
    return;
  }
  var c0: mat4x4f; var c1: mat4x4f; var c2: mat4x4f; var c3: mat4x4f;
  var c4: mat4x4f; var c5: mat4x4f; var c6: mat4x4f; var c7: mat4x4f;
  var c8: mat4x4f; var c9: mat4x4f; var c10: mat4x4f; var c11: mat4x4f;
  var c12: mat4x4f; var c13: mat4x4f; var c14: mat4x4f; var c15: mat4x4f;
  for (var kb = 0u; kb < p.K; kb += 4u) {
    let b0 = blockB(j0, 0u, kb);
    let b1 = blockB(j0, 1u, kb);
    let b2 = blockB(j0, 2u, kb);
    let b3 = blockB(j0, 3u, kb);
    let a0 = blockA(i0, kb);
    c0 = stepRow(c0, b0, b1, b2, b3, a0[0]);
    c1 = stepRow(c1, b0, b1, b2, b3, a0[1]);
    c2 = stepRow(c2, b0, b1, b2, b3, a0[2]);
    c3 = stepRow(c3, b0, b1, b2, b3, a0[3]);
    let a1 = blockA(i0 + 4u, kb);
    c4 = stepRow(c4, b0, b1, b2, b3, a1[0]);
    c5 = stepRow(c5, b0, b1, b2, b3, a1[1]);
    c6 = stepRow(c6, b0, b1, b2, b3, a1[2]);
    c7 = stepRow(c7, b0, b1, b2, b3, a1[3]);
    let a2 = blockA(i0 + 8u, kb);
    c8 = stepRow(c8, b0, b1, b2, b3, a2[0]);
    c9 = stepRow(c9, b0, b1, b2, b3, a2[1]);
    c10 = stepRow(c10, b0, b1, b2, b3, a2[2]);
    c11 = stepRow(c11, b0, b1, b2, b3, a2[3]);
    let a3 = blockA(i0 + 12u, kb);
    c12 = stepRow(c12, b0, b1, b2, b3, a3[0]);
    c13 = stepRow(c13, b0, b1, b2, b3, a3[1]);
    c14 = stepRow(c14, b0, b1, b2, b3, a3[2]);
    c15 = stepRow(c15, b0, b1, b2, b3, a3[3]);
  }
  let mirror = SYMMETRIC && tile.x != tile.y;
  store_tile_row(i0, j0, c0, mirror);
  store_tile_row(i0 + 1u, j0, c1, mirror);
  store_tile_row(i0 + 2u, j0, c2, mirror);
  store_tile_row(i0 + 3u, j0, c3, mirror);
  store_tile_row(i0 + 4u, j0, c4, mirror);
  store_tile_row(i0 + 5u, j0, c5, mirror);
  store_tile_row(i0 + 6u, j0, c6, mirror);
  store_tile_row(i0 + 7u, j0, c7, mirror);
  store_tile_row(i0 + 8u, j0, c8, mirror);
  store_tile_row(i0 + 9u, j0, c9, mirror);
  store_tile_row(i0 + 10u, j0, c10, mirror);
  store_tile_row(i0 + 11u, j0, c11, mirror);
  store_tile_row(i0 + 12u, j0, c12, mirror);
  store_tile_row(i0 + 13u, j0, c13, mirror);
  store_tile_row(i0 + 14u, j0, c14, mirror);
  store_tile_row(i0 + 15u, j0, c15, mirror);
}
