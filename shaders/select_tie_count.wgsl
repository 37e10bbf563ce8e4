// select_tie_count: counts, per chunk, the elements whose key equals the threshold T
// (kSmallestMask, step 4 of 6; does nothing unless state[TIES] == 2, i.e. only some ties are taken).
//   counts[c] = #{ f in chunk c : key_f == T }
// Order key: lib/order_key.wgsl.
//
// Bindings (group 0):
//   #params { n, cols, offset, ld, items, chunks: u32 }
//   #binding scores: array<u32>, read         f32 bits of the view (offset, ld)
//   #binding state: array<u32>, read         [12] (lib/select_state.wgsl)
//   #binding counts: array<u32>, read_write   [chunks]
// Grid: as select_histogram.wgsl (one workgroup per chunk of WG*items flat indices, folded into y;
//   the chunking must match select_mask.wgsl).

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/select_walk.wgsl"
// #include "lib/select_tie_count_main.wgsl"
