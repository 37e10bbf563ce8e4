// store_row: writes one row of an invocation's TN-wide register tile of C (TN, TN4 = TN / 4 and
// the Params `p` are the includer's):
//   C[i, j0 + t] = alpha·row[t / 4][t % 4] for t < TN and j0 + t < N (nothing when i ≥ M), and
//   when `mirror`, C[j0 + t, i] too (the lower triangle of a SYMMETRIC product).
// Stores go through the includer's `store` (lib/matmul_store.wgsl), so ACCUMULATE applies. The
// register kernels call it with constant indices into their accumulators (see
// matmul_register_vec4.wgsl): `row` is a copy, so the loop below indexes it and not them. Used by
// matmul_register.wgsl and matmul_register_vec4.wgsl.

fn storeRow(i: u32, j0: u32, row: array<vec4f, TN4>, mirror: bool) {
  if (i >= p.M) {
    return;
  }
  for (var t = 0u; t < TN; t++) {
    let j = j0 + t;
    if (j < p.N) {
      let v = p.alpha * row[t / 4u][t % 4u];
      store(i, j, v);
      if (mirror) {
        store(j, i, v);
      }
    }
  }
}
