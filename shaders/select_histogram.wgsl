// select_histogram: one radix pass of the global exact k-smallest selection (kSmallestMask,
// step 2 of 6, run for radix_pass = 0, 1, 2, 3 with shift = 24, 16, 8, 0).
//
// Every element of the scores view whose order key agrees with state[PREFIX] on the bits above
// `shift + 8` adds 1 to bin (key >> shift) & 255 of histogram `radix_pass`:
//   hist[radix_pass][d] += #{ f : key_f >> (shift + 8) == PREFIX >> (shift + 8), (key_f >> shift) & 255 == d }
// Order key: lib/order_key.wgsl (numeric order, −0 ties with +0, NaN after +Inf).
//
// Bindings (group 0):
//   #params { n, cols, offset, ld, items, radix_pass, shift: u32 }
//   #binding scores: array<u32>, read         f32 bits; element (i, j) of the view at offset + i*ld + j
//   #binding state: array<u32>, read         [12] (lib/select_state.wgsl)
//   #binding hist: array<atomic<u32>>, read_write   [4 * 256]
// Grid: one workgroup per chunk of WG*items consecutive flat (row-major) indices, folded into y
//   (chunk = wid.x + wid.y * nwg.x); invocation t takes the `items` indices from (chunk*WG + t)*items.
//   Counts gather in a workgroup histogram, then one atomic per non-empty bin. (Large chunks keep
//   the per-workgroup cost — zeroing the workgroup histogram — small next to the data; the caller
//   caps `items` so that select_mask's two walks stay within llvmpipe's loop budget, see
//   chunkItems in thanos/linalg/select.ts.)

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/select_walk.wgsl"
// #include "lib/radix_pass.wgsl"

fn walk_range(range: vec2u, high: u32, prefix: u32) {
  var pos = row_col(range.x, p.cols);
  if (p.shift >= 24u) {
    // first pass: every element counts
    for (var f = range.x; f < range.y; f++) {
      atomicAdd(&local_hist[view_key(pos) >> 24u], 1u);
      pos = walk_next(pos, p.cols);
    }
  } else {
    // later passes: only the elements that match the prefix count (lib/radix_pass.wgsl)
    for (var f = range.x; f < range.y; f++) {
      count_matching(view_key(pos), high, prefix);
      pos = walk_next(pos, p.cols);
    }
    end_run();
  }
}
