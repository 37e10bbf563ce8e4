// row_moments: the row reductions of the normalisation kernels (one workgroup of WG invocations per
// row; the row's cols elements at x[base + c]):
//   row_sum(lid, base)              = Σ_c x[base + c]
//   row_sq_dev(lid, base, centre)   = Σ_c (x[base + c] − centre)²   (fma-accumulated; centre 0 gives
//                                     the plain Σ x² of RMSNorm bit for bit, since x − 0 = x)
// Every invocation gets the result. Needs the includer's `override WG`, Params `p` with cols and
// binding `x` (f32). Call from uniform control flow. Used by layer_norm.wgsl and rms_norm.wgsl.

// #include "lib/reduce.wgsl"

fn row_sum(lid: u32, base: u32) -> f32 {
  var sum = 0.0;
  for (var c = lid; c < p.cols; c += WG) {
    sum += x[base + c];
  }
  return workgroup_sum(lid, sum);
}

fn row_sq_dev(lid: u32, base: u32, centre: f32) -> f32 {
  var sq = 0.0;
  for (var c = lid; c < p.cols; c += WG) {
    let d = x[base + c] - centre;
    sq = fma(d, d, sq);
  }
  return workgroup_sum(lid, sq);
}
