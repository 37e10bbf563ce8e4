// select_mask_vec4: select_mask.wgsl (the mask of the global exact k-smallest selection) reading the
// scores and writing the mask four at a time, for views whose offsets, leading dimensions and
// columns are multiples of 4 (lib/select_walk4.wgsl); the same mask, ties ranked in the same flat
// order, and only columns j < write_cols written (a multiple of 4; see select_mask.wgsl).
//   mask_f = 1  iff  key_f < T,  or  key_f == T and (TIES == 1, or TIES == 2 and
//                                     #{ f' < f : key_f' == T } < K_REM);   else 0
//
// Bindings (group 0):
//   #params { n, cols, offset, ld, items, chunks, mask_offset, mask_ld, write_cols: u32 }
//   #binding scores: array<vec4u>, read        f32 bits; view element (i, j) at offset + i*ld + j
//   #binding state: array<u32>, read         [12] (lib/select_state.wgsl)
//   #binding counts: array<u32>, read         [chunks] ties before each chunk
//   #binding mask: array<vec4u>, read_write    view element (i, j) at mask_offset + i*mask_ld + j
// Grid: as select_mask.wgsl (items a multiple of 4).

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/select_walk4.wgsl"
// #include "lib/select_mask_ties.wgsl"

// #include "lib/chunk_entry.wgsl"

var<private> rank: u32;

// whether the key at threshold T is taken: all ties, or the K_REM first in flat order
fn take_tie(ties: u32, take: u32) -> u32 {
  let selected = ties == TIES_ALL || (ties == TIES_RANK && rank < take);
  rank++;
  return select(0u, 1u, selected);
}

fn chunk_item(chunk: u32, t: u32) {
  let ties = mask_ties(t);
  let threshold = state[PREFIX];
  let take = state[K_REM];
  if (written_only(ties)) {
    let written = written_range(chunk, t, 4u);
    let all = select(vec4u(0u), vec4u(1u), ties == TIES_ALL);
    var pos = row_col(written.x, p.write_cols);
    for (var f = written.x; f < written.y; f += 4u) {
      let keys = view_keys(pos);
      let m = select(vec4u(0u), vec4u(1u), keys < vec4u(threshold)) | (all & select(vec4u(0u), vec4u(1u), keys == vec4u(threshold)));
      mask[view_at(p.mask_offset, p.mask_ld, pos) / 4u] = m;
      pos = walk_next4(pos, p.write_cols);
    }
    return;
  }
  let range = item_range(chunk, t, p.n);
  rank = first_tie_rank(chunk, t, range, ties, threshold);

  var pos = row_col(range.x, p.cols);
  for (var f = range.x; f < range.y; f += 4u) {
    let keys = view_keys(pos);
    var m = select(vec4u(0u), vec4u(1u), keys < vec4u(threshold));
    if (any(keys == vec4u(threshold))) {
      if (keys.x == threshold) {
        m.x = take_tie(ties, take);
      }
      if (keys.y == threshold) {
        m.y = take_tie(ties, take);
      }
      if (keys.z == threshold) {
        m.z = take_tie(ties, take);
      }
      if (keys.w == threshold) {
        m.w = take_tie(ties, take);
      }
    }
    if (pos.y < p.write_cols) {
      mask[view_at(p.mask_offset, p.mask_ld, pos) / 4u] = m;
    }
    pos = walk_next4(pos, p.cols);
  }
}
