// select_walk4: lib/select_walk.wgsl four keys at a time, for the vec4 steps of the global
// k-smallest selection (select_histogram_vec4, select_tie_count_vec4, select_mask_vec4). The view's
// offset, leading dimension and columns are multiples of 4, and so is the includer's `items`
// (kSmallestMask sees to both), so a step's four keys lie in one row and one vec4 of the buffer:
//   view_keys(pos)             = the order keys of scores[p.offset + row·p.ld + col ..+4] (pos.y a
//                                multiple of 4), components in column order
//   walk_next4(pos, cols)      = the position four elements on in flat order (lib/flat_walk.wgsl)
//   count_ties(range, T)       = #{ f in [range.x, range.y) : key_f == T }, walking from range.x
// Why: llvmpipe loads storage lane by lane, one loop over the SIMD lanes per load instruction, so a
// vec4 load costs about what a u32 load does — a quarter of the loads for the same keys.
// Needs the includer's Params `p` with cols, offset, ld (and items, `override WG` for item_range)
// and binding `scores` (vec4u: the f32 bits).

// #include "lib/order_key4.wgsl"
// #include "lib/flat_walk.wgsl"
// #include "lib/chunk_items.wgsl"

fn view_keys(pos: vec2u) -> vec4u {
  return order_key4(scores[view_at(p.offset, p.ld, pos) / 4u]);
}

fn count_ties(range: vec2u, threshold: u32) -> u32 {
  var mine = vec4u(0u);
  var pos = row_col(range.x, p.cols);
  for (var f = range.x; f < range.y; f += 4u) {
    mine += select(vec4u(0u), vec4u(1u), view_keys(pos) == vec4u(threshold));
    pos = walk_next4(pos, p.cols);
  }
  return mine.x + mine.y + mine.z + mine.w;
}
