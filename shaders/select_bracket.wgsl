// select_bracket: the optional first step of the global exact k-smallest selection (kSmallestMask
// with a SelectBracket): one walk over the view that counts the keys below a bracket [lo, hi] around
// the previous selection's threshold and collects the keys inside it. When the k-th smallest key
// lies inside (select_bracket_check), the four radix passes read only the collected keys instead
// of the whole view — Thanos's dynamic mask selects again every block over the remaining columns,
// and its threshold moves by a fraction of a percent from block to block.
//   state[BELOW] = #{ f : key_f < lo },   state[CANDS] = #{ f : lo <= key_f <= hi },
//   cands[0 .. min(CANDS, capacity)) = those keys, in no particular order
//
// Bindings (group 0):
//   #params { n, cols, offset, ld, items, capacity: u32 }
//   #binding scores: array<u32>, read         f32 bits; element (i, j) of the view at offset + i*ld + j
//   #binding bracket: array<u32>, read        [12] the previous selection's state (lib/select_state.wgsl)
//   #binding state: array<atomic<u32>>, read_write   [12] (lib/select_state.wgsl)
//   #binding cands: array<u32>, read_write    [capacity]
// Grid: as select_histogram.wgsl.

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/select_walk.wgsl"
// #include "lib/select_bracket_keys.wgsl"

// #include "lib/chunk_entry.wgsl"

fn chunk_item(chunk: u32, t: u32) {
  let bounds = bracket_bounds();
  let range = item_range(chunk, t, p.n);
  var pos = row_col(range.x, p.cols);
  var below = 0u;
  for (var f = range.x; f < range.y; f++) {
    let key = view_key(pos);
    if (key < bounds.x) {
      below++;
    } else {
      bracket_collect(key, bounds);
    }
    pos = walk_next(pos, p.cols);
  }
  bracket_flush(t, below);
}
