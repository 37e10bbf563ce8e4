// matmul_texture_gated: a gated MLP's hidden activations straight from its fused gate/up product,
//   out[i, c] = act(G[i, c]) · U[i, c],   G = A·Wgᵀ, U = A·Wuᵀ   (LLaMA's SwiGLU: act = silu)
// — the product of lib/texture_product.wgsl (matmul_texture.wgsl's kernel, the same order of k, so
// G and U are bit for bit what that kernel writes) with the activation as its epilogue: the gate/up
// product is never stored, and no second kernel reads it back (on llvmpipe, where every storage
// access is a loop over the lanes, that pass cost as much as a third of the product).
//
// Each invocation's 16 product columns are 8 of G and the same 8 of U: op(B)'s texture holds Wg's
// rows at texel rows [0, cols) and Wu's at [upRow, upRow + cols) (B_ROWS layout, rows copied in as
// stored), and b_first maps the tile's column groups 0, 1 to G's columns o0, o0 + 4 and 2, 3 to U's,
// o0 = j0 / 2. When K takes several k-slices, the earlier slices' sums are in `part` (G at
// offG + i·ldP + c, U at offU + …, written by matmul_texture*.wgsl) and the last slice adds its own,
// as C += v would (ACCUMULATE).
//
// #params { M, N, K, ldC, cols, upRow, offG, offU, ldP, slot: u32 }
// #binding ta: texture_storage_2d<rgba32float, read>   A's k-slice, [ceil(M/16)·16 rows, ceil(K/4) texels]
// #binding tb: texture_storage_2d<rgba32float, read>   Wg's and Wu's k-slices as above (B_ROWS)
// #binding part: array<f32>, read                  earlier slices' G and U (read only when ACCUMULATE)
// #binding c: array<vec4f>, read_write             out [M, ldC] (ldC a multiple of 4, ≥ cols)
// #binding flags: array<atomic<u32>>, read_write   [> slot] (untouched unless CHECK)
// Math: out[i, c] = act(G[i, c])·U[i, c] for c < cols (lib/activation.wgsl, the expression of
//   gated_rows.wgsl), 0 for cols ≤ c < ldC; when CHECK, flags[slot] = max(flags[slot],
//   0xffffffff − (i·cols + c)) for every non-finite out[i, c] (first_nonfinite.wgsl's convention,
//   as gated_rows.wgsl records it).
// Grid: lib/texture_product.wgsl's with N = 2·ldC product columns (8 outputs an invocation):
//   (ceil(2·ldC / (16·WG_X)), ceil(M / (16·WG_Y))); B_ROWS set, never SYMMETRIC.

override ACT: u32 = 3;
override CHECK: bool = false;

// #include "lib/activation.wgsl"
// #include "lib/texture_product.wgsl"

fn b_first(j0: u32, q: u32) -> u32 {
  let o0 = j0 / 2u;
  if (q < 2u) {
    return o0 + 4u * q;
  }
  return p.upRow + o0 + 4u * (q - 2u);
}

// out[i, o .. o+4] from this slice's G and U there (o a multiple of 4 below ldC)
fn store_gated(i: u32, o: u32, g: vec4f, u: vec4f) {
  var v = vec4f(0.0);
  for (var t = 0u; t < 4u; t++) {
    let col = o + t;
    if (col < p.cols) {
      var gt = g[t];
      var ut = u[t];
      if (ACCUMULATE) {
        gt = part[p.offG + i * p.ldP + col] + gt;
        ut = part[p.offU + i * p.ldP + col] + ut;
      }
      let x = act(gt) * ut;
      if (CHECK && (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u) {
        atomicMax(&flags[p.slot], 0xffffffffu - (i * p.cols + col));
      }
      v[t] = x;
    }
  }
  c[(i * p.ldC + o) / 4u] = v;
}

fn store_tile_row(i: u32, j0: u32, acc: mat4x4f, mirror: bool) {
  let o0 = j0 / 2u;
  if (i >= p.M || o0 >= p.ldC) {
    return;
  }
  store_gated(i, o0, acc[0], acc[2]);
  if (o0 + 4u < p.ldC) {
    store_gated(i, o0 + 4u, acc[1], acc[3]);
  }
}
