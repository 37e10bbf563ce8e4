// sparse24_matmul: Y = X·Wᵀ for a batch of tokens from a 2:4-sparse weight stored without its
// zeros — the prefill/evaluation product of a sparse-24-bitmask layer. The weight is the one
// sparse24_matvec.wgsl reads (kept values + a 4-bit index per group of 4 columns).
//
// Bindings (group 0):
//   #params { n, rows, cols: u32 }
//   #binding values: array<f32>, read     [rows, cols/2]: the 2 kept values of every group of 4 columns,
//                                   row-major (compressed-tensors' `<m>.compressed`)
//   #binding index: array<u32>, read      [rows, ceil(cols/32)]: 4 bits per group, 8 groups per word
//                                   (lib/sparse_groups.wgsl: nibbleOf, kept24)
//   #binding x: array<vec4f>, read        [n, cols] row-major f32, read 4 columns at a time (cols % 4 == 0)
//   #binding y: array<f32>, read_write    [n, rows] row-major
// Math: y[t, o] = Σ_g dense24(index(o, g), values[o, 2g], values[o, 2g+1]) · x[t, 4g .. 4g+3]:
//   each group's 2 kept values are placed at their columns of a 4-vector (zeros elsewhere) and dotted
//   with the token's 4 inputs. An invocation holds a register tile of 16 weight rows (4 quads) x 16
//   tokens: per group it builds each quad's dense group weights as a mat4x4 (columns = the quad's 4
//   rows; 2 value loads per row and, every 8th group, an index word), loads each token's 4 inputs once
//   (one vec4, shared by the 16 rows) and adds x_t · M to the token's 4 vec4 accumulators. The 64
//   accumulators are named variables (a loop over a register array that the compiler does not unroll
//   demotes it to scratch memory; see matmul_register_vec4.wgsl). Measured on llvmpipe at 1024²,
//   n = 64: 4 rows x 8 tokens per invocation ran 5x slower than the dense register matmul, 16 x 16
//   runs faster than it, 32 x 16 ~1.5x faster again but compiles 3x longer (27 s at load 20); the
//   same tile in arrays or with the bias add in the store compiled 3x longer too, so the bias is a
//   separate kernel (compile time is paid once per machine, and by every fresh test run). Out-of-range
//   rows and tokens read clamped (valid) addresses and are not stored.
// Grid: x over ceil(rows/16) row tiles in workgroups of WG, y over ceil(n/16) token tiles
//   (the wrapper checks both against the per-dimension limit). An invocation loops cols/4 times.

override WG: u32 = 64;

// #include "lib/sparse_groups.wgsl"
// #include "lib/quad_tile.wgsl"

/** Columns 4g .. 4g+3 of token t (clamped to the last token). */
fn xg(t: u32, g: u32) -> vec4f {
  return x[min(t, p.n - 1u) * (p.cols / 4u) + g];
}

/**
 * A quad's dense weights of group g from its index words w (column j of the result is row j's); k
 * holds each row's slot in values of its group's 2 kept values and advances past them.
 */
fn quadWeights(w: vec4u, g: u32, k: ptr<function, vec4u>) -> mat4x4f {
  let s = *k;
  *k += vec4u(2u);
  return mat4x4f(
    dense24(nibbleOf(w.x, g), values[s.x], values[s.x + 1u]),
    dense24(nibbleOf(w.y, g), values[s.y], values[s.y + 1u]),
    dense24(nibbleOf(w.z, g), values[s.z], values[s.z + 1u]),
    dense24(nibbleOf(w.w, g), values[s.w], values[s.w + 1u]),
  );
}

/** Where the quad's rows r start in values ([rows, cols/2]). */
fn quadStarts(r: vec4u) -> vec4u {
  return r * (p.cols / 2u);
}

/** The index words of a quad's rows r holding group g. */
fn quadWords(r: vec4u, g: u32) -> vec4u {
  let at = r * ((p.cols / 4u + 7u) / 8u) + vec4u(g / 8u);
  return vec4u(index[at.x], index[at.y], index[at.z], index[at.w]);
}
