// pack_texture: copies a window of a matrix, op(X), into an rgba32float texture, four consecutive
// columns a texel, zero-padded, for matmul_texture.wgsl (which reads textures because llvmpipe
// fetches texels with straight-line SIMD code but loads storage lane by lane; see that file).
//
//   op(X)[r, c] = X[off + r·ld + c]   (X[off + c·ld + r] when TRANS)
//   t[texel (x, y)] = (op(X)[y, 4x], op(X)[y, 4x + 1], op(X)[y, 4x + 2], op(X)[y, 4x + 3]),
//     each component 0 where y ≥ rows or its column ≥ cols,
//   for every texel with x < width and y < height (the region the product reads; the texture may
//   be larger, the rest is left as it was).
//
// #params { rows, cols, off, ld, width, height: u32 }
// #binding x: array<f32>, read                                 the matrix
// #binding t: texture_storage_2d<rgba32float, write>           at least [height, width] texels
// Grid: workgroups of WG_X x WG_Y invocations, one a texel: (ceil(width / WG_X), ceil(height / WG_Y)).

override WG_X: u32 = 8;
override WG_Y: u32 = 8;
override TRANS: bool = false;

fn element(r: u32, c: u32) -> f32 {
  if (r >= p.rows || c >= p.cols) {
    return 0.0;
  }
  if (TRANS) {
    return x[p.off + c * p.ld + r];
  }
  return x[p.off + r * p.ld + c];
}

fn grid_item(y: u32, tx: u32) {
  if (y >= p.height || tx >= p.width) {
    return;
  }
  let c = 4u * tx;
  let v = vec4f(element(y, c), element(y, c + 1u), element(y, c + 2u), element(y, c + 3u));
  textureStore(t, vec2u(tx, y), v);
}

// #include "lib/grid_entry.wgsl"
