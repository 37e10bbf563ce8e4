// pack_texture_half: copies a k-slice of op(B) = Wᵀ, for a weight W [rows, K] stored as packed
// halves (two to a u32 word, as matmul_half_weight.wgsl reads them), into an rgba32float texture
// for matmul_texture.wgsl, each half widened exactly to f32 — so an F16/BF16 linear layer runs the
// texture product on llvmpipe (see matmul_texture.wgsl for why textures) with its weight still 2
// bytes a weight in storage.
//
//   W[n, k] = half (k mod 2) of w[n·ldW + floor(k / 2)]   (the low half for even k)
//   t[texel (x, y)] = (W[4x, k0 + y], W[4x + 1, k0 + y], W[4x + 2, k0 + y], W[4x + 3, k0 + y]),
//     each component 0 where its row ≥ rows or y ≥ cols,
//   for every texel with x < width and y < height (the rest of the texture is left as it was).
//
// #params { rows, cols, k0, ldW, width, height, bf16: u32 }
// #binding w: array<u32>, read                                 the packed weight
// #binding t: texture_storage_2d<rgba32float, write>           at least [height, width] texels
// Grid: workgroups of WG_X x WG_Y invocations, one a texel: (ceil(width / WG_X), ceil(height / WG_Y)).

override WG_X: u32 = 8;
override WG_Y: u32 = 8;

// #include "lib/widen_half.wgsl"

fn weight(n: u32, y: u32) -> f32 {
  if (n >= p.rows || y >= p.cols) {
    return 0.0;
  }
  let k = p.k0 + y;
  let pair = widen(w[n * p.ldW + k / 2u]);
  return select(pair.x, pair.y, k % 2u == 1u);
}

fn grid_item(y: u32, tx: u32) {
  if (y >= p.height || tx >= p.width) {
    return;
  }
  let n = 4u * tx;
  textureStore(t, vec2u(tx, y), vec4f(weight(n, y), weight(n + 1u, y), weight(n + 2u, y), weight(n + 3u, y)));
}

// #include "lib/grid_entry.wgsl"
