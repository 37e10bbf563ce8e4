// scatter_rows: expands per-row compact values back to their columns (zeros elsewhere).
//
// Bindings (group 0):
//   #params { rows, count, width, out_offset, out_ld: u32 }
//   #binding values: array<f32>, read      [rows, count]  first counts[r] entries of row r valid
//   #binding idx: array<u32>, read         [rows, count]  target column of each value (< width)
//   #binding counts: array<u32>, read      [rows]
//   #binding out: array<f32>, read_write   view [rows, width], (r, j) at out_offset + r*out_ld + j
// Math: out[r, :] = 0; out[r, idx[r, k]] = values[r, k] for k < counts[r]. Thanos uses it to turn the
//   per-row multipliers λ_r into a dense Λ [rows, B] so that W[:, i1:] −= Λ·Hinv[0:B, :] is one matmul.
// Grid: 1-D over rows (one invocation per row), workgroup size WG, folded into y past 65535 groups.
//   An invocation loops width + count + 2 times (checked by the caller against llvmpipe's loop budget).

override WG: u32 = 64;

// #include "lib/flat_entry.wgsl"

fn flat_item(r: u32) {
  if (r >= p.rows) {
    return;
  }
  let base = p.out_offset + r * p.out_ld;
  for (var j = 0u; j < p.width; j++) {
    out[base + j] = 0.0;
  }
  let c = min(counts[r], p.count);
  for (var k = 0u; k < c; k++) {
    out[base + idx[r * p.count + k]] = values[r * p.count + k];
  }
}
