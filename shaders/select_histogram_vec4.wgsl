// select_histogram_vec4: select_histogram.wgsl (one radix pass of the global exact k-smallest
// selection) reading the scores four at a time, for views whose offset, leading dimension and
// columns are multiples of 4 (lib/select_walk4.wgsl). The same counts in the same bins: keys are
// visited in the same flat order and the runs of equal digits are the scalar kernel's.
//
// Bindings (group 0):
//   #params { n, cols, offset, ld, items, radix_pass, shift: u32 }
//   #binding scores: array<vec4u>, read        f32 bits; element (i, j) of the view at offset + i*ld + j
//   #binding state: array<u32>, read         [12] (lib/select_state.wgsl)
//   #binding hist: array<atomic<u32>>, read_write   [4 * 256]
// Grid: as select_histogram.wgsl (items a multiple of 4).

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/select_walk4.wgsl"
// #include "lib/radix_pass.wgsl"

fn walk_range(range: vec2u, high: u32, prefix: u32) {
  var pos = row_col(range.x, p.cols);
  if (p.shift >= 24u) {
    for (var f = range.x; f < range.y; f += 4u) {
      let d = view_keys(pos) >> vec4u(24u);
      atomicAdd(&local_hist[d.x], 1u);
      atomicAdd(&local_hist[d.y], 1u);
      atomicAdd(&local_hist[d.z], 1u);
      atomicAdd(&local_hist[d.w], 1u);
      pos = walk_next4(pos, p.cols);
    }
  } else {
    for (var f = range.x; f < range.y; f += 4u) {
      let keys = view_keys(pos);
      // most keys of a later pass miss the prefix: skip the four tests when all do
      if (any((keys & vec4u(high)) == vec4u(prefix))) {
        count_matching(keys.x, high, prefix);
        count_matching(keys.y, high, prefix);
        count_matching(keys.z, high, prefix);
        count_matching(keys.w, high, prefix);
      }
      pos = walk_next4(pos, p.cols);
    }
    end_run();
  }
}
