// sparsegpt_block: SparseGPT's column-by-column OBS sweep inside one column block, every row at once.
//
// Bindings (group 0):
//   #params { rows, count, w_offset, w_ld, u_offset, u_ld, mask_offset, mask_ld, n, m,
//                       i_begin, i_end: u32 }
//   #binding w: array<f32>, read_write     view [rows, count] = W[:, i1:i2], overwritten with the pruned block Q1
//   #binding u: array<f32>, read           view [count, count] = Hinv1 = U[i1:i2, i1:i2] (U upper, UᵀU = H⁻¹)
//   #binding mask: array<u32>, read_write  view [rows, count]; unstructured (m == 0): read, chosen beforehand;
//                                    n:m (m > 0): written here, group by group, as the sweep reaches it
//   #binding err: array<f32>, read_write   [rows, count]  Err1, for the deferred update W[:, i2:] −= Err1·U[i1:i2, i2:]
// Math (per row, for i = i_begin .. i_end−1 of the block, as in SparseGPT's fasterprune; the caller
//   splits the sweep over several dispatches so that no invocation loops more than LOOP_BUDGET times —
//   llvmpipe silently stops an invocation after 65535 loop iterations; column i costs
//   (count − i) + 2, an n:m group's ranking (m + 1)²; see sweepChunks in thanos/prune/ops.ts):
//   if n:m and i % m == 0: mask the n smallest w_t²/U_tt² for t in [i, i+m) (ties: lower t first)
//   q = mask ? 0 : w_i;  e = (w_i − q) / U_ii;  w_j −= e·U_ij for j in [i, count);  w_i = q;  err_i = e
// Rows are independent: one invocation per row walks the block sequentially (no barriers).
// Grid: 1-D over rows, workgroup size WG, folded into y past 65535 groups.

override WG: u32 = 64;

// #include "lib/flat_entry.wgsl"

fn score(wrow: u32, t: u32) -> f32 {
  let x = w[wrow + t];
  let d = u[p.u_offset + t * p.u_ld + t];
  return (x * x) / (d * d);
}

fn flat_item(r: u32) {
  if (r >= p.rows) {
    return;
  }
  let wrow = p.w_offset + r * p.w_ld;
  let mrow = p.mask_offset + r * p.mask_ld;
  for (var i = p.i_begin; i < p.i_end; i++) {
    if (p.m > 0u && i % p.m == 0u) {
      // n smallest of the group [i, i+m): t is chosen iff fewer than n group members rank before it
      for (var t = i; t < i + p.m; t++) {
        let st = score(wrow, t);
        var before = 0u;
        for (var s = i; s < i + p.m; s++) {
          let ss = score(wrow, s);
          if (ss < st || (ss == st && s < t)) {
            before++;
          }
        }
        mask[mrow + t] = select(0u, 1u, before < p.n);
      }
    }
    let wi = w[wrow + i];
    var q = wi;
    if (mask[mrow + i] != 0u) {
      q = 0.0;
    }
    let e = (wi - q) / u[p.u_offset + i * p.u_ld + i];
    for (var j = i; j < p.count; j++) {
      w[wrow + j] -= e * u[p.u_offset + i * p.u_ld + j];
    }
    w[wrow + i] = q;
    err[r * p.count + i] = e;
  }
}
