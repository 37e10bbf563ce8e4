// row_entry: the entry point of a kernel that gives each row of [rows, …] one workgroup of the
// includer's `override WG` invocations, rows folded into y past 65535 workgroups
// (row = wid.x + wid.y·nwg.x): main returns for rows ≥ p.rows (a whole workgroup at once, so what
// follows stays in uniform control flow and may use barriers) and calls the includer's
// `row_item(row, lid)`, lid the local_invocation_index.

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) {
    return;
  }
  row_item(row, lid);
}
