// select_tie_count_vec4: select_tie_count.wgsl (per chunk, the elements whose key equals the
// threshold T) reading the scores four at a time, for views whose offset, leading dimension and
// columns are multiples of 4 (lib/select_walk4.wgsl); the same chunks and counts.
//   counts[c] = #{ f in chunk c : key_f == T }
//
// Bindings (group 0):
//   #params { n, cols, offset, ld, items, chunks: u32 }
//   #binding scores: array<vec4u>, read        f32 bits of the view (offset, ld)
//   #binding state: array<u32>, read         [12] (lib/select_state.wgsl)
//   #binding counts: array<u32>, read_write   [chunks]
// Grid: as select_tie_count.wgsl (items a multiple of 4).

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/select_walk4.wgsl"
// #include "lib/select_tie_count_main.wgsl"
