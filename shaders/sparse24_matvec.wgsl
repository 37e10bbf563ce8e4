// sparse24_matvec: y = W·x (+ b) for one token from a 2:4-sparse weight stored without its zeros —
// the decode step's product for a sparse-24-bitmask layer, reading about half of a dense matvec's bytes.
//
// Bindings (group 0):
//   #params { rows, cols, xOffset, yOffset: u32 }
//   #binding values: array<f32>, read     [rows, cols/2]: the 2 kept values of every group of 4 columns,
//                                   row-major (compressed-tensors' `<m>.compressed`)
//   #binding index: array<u32>, read      [rows, ceil(cols/32)]: 4 bits per group, 8 groups per word
//                                   (group g of a row in bits 4·(g mod 8).. of word g / 8): bits 0-1 the
//                                   column in the group of its first kept value, bits 2-3 of its second
//                                   (lib/sparse_groups.wgsl: nibbleOf, kept24)
//   #binding x: array<f32>, read          [cols] at xOffset
//   #binding bias: array<f32>, read       [rows] (read only when HAS_BIAS)
//   #binding y: array<f32>, read_write    [rows] at yOffset
// Math: for o < rows, acc = Σ_g values[o, 2g]·x[4g + i0(o, g)] + values[o, 2g+1]·x[4g + i1(o, g)]
//   (two interleaved partial sums, one per kept slot, added at the end); t = acc + bias[o] (HAS_BIAS);
//   y[o] = t (ACCUMULATE false) or y[o] + t (ACCUMULATE true).
// Grid: 1-D over rows, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG). An invocation loops cols/4 + 1 times. cols % 4 == 0.

override WG: u32 = 64;

// #include "lib/matvec_row_entry.wgsl"

// #include "lib/sparse_groups.wgsl"

fn matvec_row(o: u32) -> f32 {
  let groups = p.cols / 4u;
  let words = (groups + 7u) / 8u;
  let vrow = o * (p.cols / 2u);
  let irow = o * words;
  var s0 = 0.0;
  var s1 = 0.0;
  var word = 0u;
  for (var g = 0u; g < groups; g++) {
    if ((g & 7u) == 0u) {
      word = index[irow + g / 8u];
    }
    let kept = kept24(nibbleOf(word, g));
    let base = p.xOffset + 4u * g;
    s0 = fma(values[vrow + 2u * g], x[base + kept.x], s0);
    s1 = fma(values[vrow + 2u * g + 1u], x[base + kept.y], s1);
  }
  return s0 + s1;
}
