// grid_entry: the entry point of a 2-D launch with one invocation per element (i, j) of an
// [rows, cols] range: workgroups of the includer's `override WG_X` x `WG_Y`, x over columns j, y over
// rows i. main calls the includer's `grid_item(i, j)`, which checks both against its own bounds and
// returns past them (the edge workgroups are partly idle).

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  grid_item(gid.y, gid.x);
}
