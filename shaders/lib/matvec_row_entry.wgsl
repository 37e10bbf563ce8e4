// matvec_row_entry: the entry point of the one-token products that form one row's sum per
// invocation (matvec, bitmask_matvec, sparse24_matvec): one invocation per output row o < p.rows
// (lib/flat_entry.wgsl), which ends with matvec_out(o, matvec_row(o)) (lib/matvec_out.wgsl);
// `matvec_row(o) -> f32`, the sum of row o, is the includer's.

// #include "lib/flat_entry.wgsl"
// #include "lib/matvec_out.wgsl"

fn flat_item(o: u32) {
  if (o >= p.rows) {
    return;
  }
  matvec_out(o, matvec_row(o));
}
