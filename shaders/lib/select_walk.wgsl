// select_walk: reading the scores view of the global k-smallest steps in flat order:
//   view_key(pos)              = order_key of the score at (row, col) = pos, i.e. of
//                                scores[p.offset + row·p.ld + col]
//   count_ties(range, T)       = #{ f in [range.x, range.y) : key_f == T }, walking from range.x
// Needs the includer's Params `p` with cols, offset, ld (and items, `override WG` for item_range)
// and binding `scores` (u32: the f32 bits). Used by select_histogram, select_tie_count and
// select_mask.

// #include "lib/order_key.wgsl"
// #include "lib/flat_walk.wgsl"
// #include "lib/chunk_items.wgsl"

fn view_key(pos: vec2u) -> u32 {
  return order_key(scores[view_at(p.offset, p.ld, pos)]);
}

fn count_ties(range: vec2u, threshold: u32) -> u32 {
  var mine = 0u;
  var pos = row_col(range.x, p.cols);
  for (var f = range.x; f < range.y; f++) {
    if (view_key(pos) == threshold) {
      mine++;
    }
    pos = walk_next(pos, p.cols);
  }
  return mine;
}
