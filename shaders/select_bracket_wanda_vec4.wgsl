// select_bracket_wanda_vec4: select_bracket_vec4.wgsl over Wanda scores computed from the weights
// instead of read from a scores buffer: the key of element (i, j) is that of
//   s_ij = |w_ij| · sqrt(colSqNorms[col_offset + j])
// with wanda_scores_vec4.wgsl's arithmetic (the same bits), so the same counts and the same keys
// collected as select_bracket_vec4 over the scores wanda_scores_vec4 would write. Thanos's dynamic
// mask walks W[:, i1:] this way every block and writes the scores only where the selection still
// needs them (kSmallestMask's `wanda` option): this walk writes those of the columns j < write_cols
// (the mask's, which select_mask reads), the rest only when the bracket misses or ties must be
// ranked — one pass over the weights instead of a pass that writes the scores and one that reads them.
//
// Bindings (group 0):
//   #params { n, cols, offset, ld, items, capacity, col_offset, s_offset, s_ld, write_cols: u32 }
//        (the weights' view and the scores' (s_): offsets, lds, cols, col_offset, write_cols and
//        items multiples of 4)
//   #binding w: array<vec4f>, read            element (i, j) of the view at offset + i*ld + j
//   #binding scores: array<vec4f>, read_write  element (i, j) at s_offset + i*s_ld + j: written for j < write_cols
//   #binding norms: array<vec4f>, read        [layer cols / 4] squared column norms ‖X_j‖²
//   #binding bracket: array<u32>, read        [12] the previous selection's state (lib/select_state.wgsl)
//   #binding state: array<atomic<u32>>, read_write   [12] (lib/select_state.wgsl)
//   #binding cands: array<u32>, read_write    [capacity]
// Grid: as select_histogram.wgsl (items a multiple of 4).

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/order_key4.wgsl"
// #include "lib/flat_walk.wgsl"
// #include "lib/chunk_items.wgsl"
// #include "lib/select_bracket_keys.wgsl"

// #include "lib/chunk_entry.wgsl"

// the order keys of the Wanda scores of w[offset + row·ld + col ..+4] (pos.y a multiple of 4), the
// scores stored where the mask's columns are
fn view_keys(pos: vec2u) -> vec4u {
  let n = norms[(p.col_offset + pos.y) / 4u];
  let s = abs(w[view_at(p.offset, p.ld, pos) / 4u]) * sqrt(n);
  if (pos.y < p.write_cols) {
    scores[view_at(p.s_offset, p.s_ld, pos) / 4u] = s;
  }
  return order_key4(bitcast<vec4u>(s));
}

// #include "lib/select_bracket_walk4.wgsl"
