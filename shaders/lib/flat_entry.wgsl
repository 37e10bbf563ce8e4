// flat_entry: the entry point of a 1-D launch with one invocation per index: workgroups of the
// includer's `override WG`, folded into y past 65535 (grid1d in thanos/gpu/launch.ts). main calls
// the includer's `flat_item(f)` with f = flat_id(gid, nwg) (lib/flat_index.wgsl); flat_item checks f
// against its own count and returns past it (the last workgroup is partly idle).

// #include "lib/flat_index.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  flat_item(flat_id(gid, nwg));
}
