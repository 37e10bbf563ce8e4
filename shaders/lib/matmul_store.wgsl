// matmul_store: C[i, j] = v, or C[i, j] += v when the includer's `override ACCUMULATE: bool` is
// set, for a window of `c` at Params offC with leading dimension ldC. Used by the matmul kernels
// (through lib/matmul_operands.wgsl where they also read scalar operands).
//   store(i, j, v) -> the new C[i, j]
//   storeRow(i, j0, row, mirror): one row of a register tile of 16 columns:
//     C[i, j0 + t] = alpha·row[t / 4][t % 4] (or +=) for t < 16 and j0 + t < N (nothing when i ≥ M),
//     and when `mirror`, C[j0 + t, i] = the new C[i, j0 + t]: the lower triangle of a SYMMETRIC
//     product written from the upper one — for a C that was symmetric, the same bits as
//     accumulating there, and right even where earlier k-slices updated only the upper triangle
//     (the texture product mirrors in its last slice only). `row` is a copy of 4 vec4s, so its loop
//     indexes the copy, never the caller's accumulators.

fn store(i: u32, j: u32, v: f32) -> f32 {
  let at = p.offC + i * p.ldC + j;
  var n = v;
  if (ACCUMULATE) {
    n = c[at] + v;
  }
  c[at] = n;
  return n;
}

fn storeRow(i: u32, j0: u32, row: array<vec4f, 4>, mirror: bool) {
  if (i >= p.M) {
    return;
  }
  for (var t = 0u; t < 16u; t++) {
    let j = j0 + t;
    if (j < p.N) {
      let n = store(i, j, p.alpha * row[t / 4u][t % 4u]);
      if (mirror) {
        c[p.offC + j * p.ldC + i] = n;
      }
    }
  }
}
