// select_bracket_keys: what select_bracket.wgsl and select_bracket_vec4.wgsl share (they differ
// only in how they walk the scores):
//   bracket_bounds()          [lo, hi] = the previous selection's threshold ± its WIDTH, in key
//                             units, clipped to the key range (from `bracket`, the copy of that
//                             selection's state); an empty bracket when it selected nothing
//   bracket_collect(key, bounds)  appends a key in [lo, hi] to `cands` (past `capacity` it is
//                             only counted in state[CANDS]: the bracket then misses)
//   bracket_flush(t, below)   adds the workgroup's sum of `below` (each invocation's count of keys
//                             below lo) to state[BELOW] (call once, from uniform control flow)
// Needs the includer's Params `p` (capacity), bindings `bracket` (read), `state`
// (array<atomic<u32>>) and `cands`, and `override WG`.

// #include "lib/workgroup_count.wgsl"

fn bracket_bounds() -> vec2u {
  let center = bracket[PREFIX];
  let width = bracket[WIDTH];
  if (bracket[TIES] == TIES_NONE) {
    return vec2u(1u, 0u);
  }
  return vec2u(center - min(center, width), center + min(0xffffffffu - center, width));
}

fn bracket_collect(key: u32, bounds: vec2u) {
  if (key >= bounds.x && key <= bounds.y) {
    let slot = atomicAdd(&state[CANDS], 1u);
    if (slot < p.capacity) {
      cands[slot] = key;
    }
  }
}

fn bracket_flush(t: u32, below: u32) {
  let total = workgroup_count(t, below);
  if (t == 0u && total != 0u) {
    atomicAdd(&state[BELOW], total);
  }
}
