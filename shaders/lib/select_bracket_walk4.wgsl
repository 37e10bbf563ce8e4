// select_bracket_walk4: the body of select_bracket_vec4.wgsl and select_bracket_wanda_vec4.wgsl,
// which differ only in where their keys come from (the includer's `view_keys(pos)`: four keys of
// one row, lib/select_walk4.wgsl's from stored scores, or computed from the weights): counts the keys
// below the bracket and collects those inside (lib/select_bracket_keys.wgsl).
// Needs the includer's Params `p` (n, cols, items, capacity), `view_keys`, lib/flat_walk.wgsl,
// lib/chunk_items.wgsl and lib/select_bracket_keys.wgsl.

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
