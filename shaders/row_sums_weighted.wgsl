// row_sums_weighted: out_i = Σ_j w_ij² · norms[j]  (rowSumsWeighted; Thanos's outlier-row metric,
// with norms = the squared column norms ‖X_j‖²).
//
// Bindings (group 0):
//   #params { rows, cols, offset, ld: u32 }
//   #binding w: array<f32>, read         element (i, j) at offset + i*ld + j
//   #binding norms: array<f32>, read         [cols]
//   #binding out: array<f32>, read_write   [rows]
// Grid: one workgroup of WG invocations (a power of two) per row, folded into y
//   (row = wid.x + wid.y * nwg.x); strided partial sums, then a tree reduction.

override WG: u32 = 256;

// #include "lib/reduce.wgsl"

// #include "lib/row_entry.wgsl"

fn row_item(row: u32, t: u32) {
  let base = p.offset + row * p.ld;
  var sum = 0.0;
  for (var j = t; j < p.cols; j += WG) {
    let x = w[base + j];
    sum += x * x * norms[j];
  }
  let total = workgroup_sum(t, sum);
  if (t == 0u) {
    out[row] = total;
  }
}
