// store_row: writes one row of an invocation's 8-wide register tile of C:
//   C[i, j0 + t] = alpha·(lo, hi)[t] for t < 8 and j0 + t < N (nothing when i ≥ M), and when
//   `mirror`, C[j0 + t, i] too (the lower triangle of a SYMMETRIC product).
// Stores go through the includer's `store` (lib/matmul_store.wgsl), so ACCUMULATE applies. The
// register kernels call it with constant indices into their accumulators (see
// matmul_register_vec4.wgsl). Used by matmul_register.wgsl and matmul_register_vec4.wgsl.

fn storeRow(i: u32, j0: u32, lo: vec4f, hi: vec4f, mirror: bool) {
  if (i >= p.M) {
    return;
  }
  let values = array<f32, 8>(lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w);
  for (var t = 0u; t < 8u; t++) {
    let j = j0 + t;
    if (j < p.N) {
      let v = p.alpha * values[t];
      store(i, j, v);
      if (mirror) {
        store(j, i, v);
      }
    }
  }
}
