// embedding: gather rows of a (row-chunk of a) table by index — token embeddings, learned
// positions, and picking hidden-state rows before the LM head.
//
// Bindings (group 0):
//   #params { n, d, lo, rows: u32 }
//   #binding ids: array<u32>, read          [n] row indices into the FULL table
//   #binding table: array<f32>, read        [rows, d] = rows lo .. lo+rows-1 of the full table
//   #binding out: array<f32>, read_write    [n, d]
// Math: for every t with lo <= ids[t] < lo + rows:
//   out[t, :] = table[ids[t] - lo, :]           (ACCUMULATE = false)
//   out[t, :] += table[ids[t] - lo, :]          (ACCUMULATE = true, e.g. adding learned positions)
//   rows of out whose id falls outside the chunk are left untouched, so a table too large for one
//   storage binding is gathered by one dispatch per row-chunk.
// Grid: 1-D over n·d, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 256;
override ACCUMULATE: bool = false;

// #include "lib/flat_entry.wgsl"

fn flat_item(i: u32) {
  if (i >= p.n * p.d) {
    return;
  }
  let tc = row_col(i, p.d); // (token, column)
  let id = ids[tc.x];
  if (id < p.lo || id - p.lo >= p.rows) {
    return;
  }
  let value = table[(id - p.lo) * p.d + tc.y];
  if (ACCUMULATE) {
    out[i] = out[i] + value;
  } else {
    out[i] = value;
  }
}
