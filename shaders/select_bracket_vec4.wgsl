// select_bracket_vec4: select_bracket.wgsl reading the scores four at a time, for views whose
// offset, leading dimension and columns are multiples of 4 (lib/select_walk4.wgsl); the same counts
// and the same keys collected.
//
// Bindings (group 0):
//   #params { n, cols, offset, ld, items, capacity: u32 }
//   #binding scores: array<vec4u>, read        f32 bits; element (i, j) of the view at offset + i*ld + j
//   #binding bracket: array<u32>, read        [12] the previous selection's state (lib/select_state.wgsl)
//   #binding state: array<atomic<u32>>, read_write   [12] (lib/select_state.wgsl)
//   #binding cands: array<u32>, read_write    [capacity]
// Grid: as select_histogram.wgsl (items a multiple of 4).

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/select_walk4.wgsl"
// #include "lib/select_bracket_keys.wgsl"

// #include "lib/chunk_entry.wgsl"

fn chunk_item(chunk: u32, t: u32) {
  let bounds = bracket_bounds();
  let lo = vec4u(bounds.x);
  let range = item_range(chunk, t, p.n);
  var pos = row_col(range.x, p.cols);
  var below = vec4u(0u);
  for (var f = range.x; f < range.y; f += 4u) {
    let keys = view_keys(pos);
    below += select(vec4u(0u), vec4u(1u), keys < lo);
    // most keys lie outside the bracket: one test for the four
    if (any((keys >= lo) & (keys <= vec4u(bounds.y)))) {
      bracket_collect(keys.x, bounds);
      bracket_collect(keys.y, bounds);
      bracket_collect(keys.z, bounds);
      bracket_collect(keys.w, bounds);
    }
    pos = walk_next4(pos, p.cols);
  }
  bracket_flush(t, below.x + below.y + below.z + below.w);
}
