// column_sq_norms: out[j] += scale · Σ_i X[i, j]², the squared column norms of a batch of
// activation rows, accumulated across calibration batches.
//
// One invocation per column walks all rows; neighbouring invocations read neighbouring columns
// of a row, so the loads are contiguous across a SIMD vector / warp. The Σ is accumulated in f32
// in row order; the cost is n·d loads, negligible next to the Gram product's n·d² FMAs.
// An invocation loops rows + 1 times: the caller passes at most LOOP_BUDGET rows per dispatch
// (llvmpipe silently ends an invocation after 65535 loop iterations; see thanos/gpu/loop_budget.ts).
//
// Bindings (group 0):
//   #params { rows, cols, off, ld: u32, scale: f32 }
//   #binding x: array<f32>, read           X is the [rows, cols] window at off with leading dimension ld
//   #binding out: array<f32>, read_write   [cols]
// Grid: 1-D over cols, workgroup size WG, folded into y past 65535 groups
//   (column = gid.x + gid.y · nwg.x · WG).

override WG: u32 = 64;

// #include "lib/flat_entry.wgsl"

fn flat_item(j: u32) {
  if (j >= p.cols) {
    return;
  }
  var sum = 0.0;
  var at = p.off + j;
  for (var i = 0u; i < p.rows; i++) {
    let v = x[at];
    sum = fma(v, v, sum);
    at += p.ld;
  }
  out[j] += p.scale * sum;
}
