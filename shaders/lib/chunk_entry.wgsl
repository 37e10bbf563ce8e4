// chunk_entry: the entry point of a kernel that gives each chunk of its work one workgroup of the
// includer's `override WG` invocations, chunks folded into y past 65535 workgroups
// (chunk = wid.x + wid.y·nwg.x): main calls the includer's `chunk_item(chunk, t)`, t the
// local_invocation_index. chunk_item checks chunk against its own count.

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_index) t: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  chunk_item(wid.x + wid.y * nwg.x, t);
}
