// bitmask_matvec: y = W·x (+ b) for one token from an unstructured-sparse weight stored without its
// zeros (compressed-tensors' sparse-bitmask): only the non-zero values and one bit per weight are read.
//
// Bindings (group 0):
//   #params { rows, cols, xOffset, yOffset: u32 }
//   #binding values: array<f32>, read     [nnz]: the non-zero values, row-major (`<m>.compressed`)
//   #binding mask: array<u32>, read       [rows, ceil(cols/32)]: bit i of word w of a row is column 32w + i
//                                   (numpy.packbits(bitorder="little") bytes read as little-endian u32)
//   #binding rowStart: array<u32>, read   [rows]: where each row starts in values (`<m>.row_offsets`)
//   #binding x: array<f32>, read          [cols] at xOffset
//   #binding bias: array<f32>, read       [rows] (read only when HAS_BIAS)
//   #binding y: array<f32>, read_write    [rows] at yOffset
// Math: for o < rows, acc = Σ over set bits (o, c), in column order, of values[k]·x[c], where k counts
//   from rowStart[o]; t = acc + bias[o] (HAS_BIAS); y[o] = t (ACCUMULATE false) or y[o] + t.
// Grid: 1-D over rows, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG). An invocation loops ceil(cols/32) + 1 times around
//   (set bits of the row) + ceil(cols/32) inner trips.

override WG: u32 = 64;

// #include "lib/matvec_row_entry.wgsl"

fn matvec_row(o: u32) -> f32 {
  let words = (p.cols + 31u) / 32u;
  var k = rowStart[o];
  var acc = 0.0;
  for (var w = 0u; w < words; w++) {
    var bits = mask[o * words + w];
    let base = p.xOffset + 32u * w;
    while (bits != 0u) {
      let c = countTrailingZeros(bits);
      acc = fma(values[k], x[base + c], acc);
      k++;
      bits &= bits - 1u;
    }
  }
  return acc;
}
