// select_mask: writes the mask of the global exact k-smallest selection (kSmallestMask, step 6 of 6).
//   mask_f = 1  iff  key_f < T,  or  key_f == T and (TIES == 1, or TIES == 2 and
//                                     #{ f' < f : key_f' == T } < K_REM);   else 0
// where T = state[PREFIX] and K_REM = state[K_REM] come from select_digit.wgsl and, for TIES == 2,
// the ties before chunk c come from select_tie_scan.wgsl. With TIES == 0 (k = 0) nothing is selected.
// Only the view's columns j < write_cols are written (the rest of the mask is left as it was; the
// selection is still over the whole view): Thanos needs only its block's part of the layer-wide
// choice, and unless ties must be ranked only the columns below write_cols are read, spread evenly
// over the invocations (lib/select_mask_ties.wgsl).
// Order key: lib/order_key.wgsl.
//
// Bindings (group 0):
//   #params { n, cols, offset, ld, items, chunks, mask_offset, mask_ld, write_cols: u32 }
//   #binding scores: array<u32>, read         f32 bits; view element (i, j) at offset + i*ld + j
//   #binding state: array<u32>, read         [12] (lib/select_state.wgsl)
//   #binding counts: array<u32>, read         [chunks] ties before each chunk
//   #binding mask: array<u32>, read_write   view element (i, j) at mask_offset + i*mask_ld + j
// Grid: as select_histogram.wgsl / select_tie_count.wgsl (same chunking).

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/select_walk.wgsl"
// #include "lib/select_mask_ties.wgsl"

// #include "lib/chunk_entry.wgsl"

fn chunk_item(chunk: u32, t: u32) {
  let ties = mask_ties(t);
  let threshold = state[PREFIX];
  let take = state[K_REM];
  if (written_only(ties)) {
    let written = written_range(chunk, t, 1u);
    var pos = row_col(written.x, p.write_cols);
    for (var f = written.x; f < written.y; f++) {
      let key = view_key(pos);
      let selected = key < threshold || (key == threshold && ties == TIES_ALL);
      mask[view_at(p.mask_offset, p.mask_ld, pos)] = select(0u, 1u, selected);
      pos = walk_next(pos, p.write_cols);
    }
    return;
  }
  let range = item_range(chunk, t, p.n);
  var rank = first_tie_rank(chunk, t, range, ties, threshold);

  var pos = row_col(range.x, p.cols);
  for (var f = range.x; f < range.y; f++) {
    let key = view_key(pos);
    var selected = key < threshold;
    if (key == threshold) {
      selected = ties == TIES_ALL || (ties == TIES_RANK && rank < take);
      rank++;
    }
    if (pos.y < p.write_cols) {
      mask[view_at(p.mask_offset, p.mask_ld, pos)] = select(0u, 1u, selected);
    }
    pos = walk_next(pos, p.cols);
  }
}
