// matmul_store: C[i, j] = v, or C[i, j] += v when the includer's `override ACCUMULATE: bool` is
// set, for a window of `c` at Params offC with leading dimension ldC. Used by the matmul kernels
// (through lib/matmul_operands.wgsl where they also read scalar operands).

fn store(i: u32, j: u32, v: f32) {
  let at = p.offC + i * p.ldC + j;
  if (ACCUMULATE) {
    c[at] += v;
  } else {
    c[at] = v;
  }
}
