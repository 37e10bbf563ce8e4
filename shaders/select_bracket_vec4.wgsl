// select_bracket_vec4: select_bracket.wgsl reading the scores four at a time, for views whose
// offset, leading dimension and columns are multiples of 4 (lib/select_walk4.wgsl); the same counts
// and the same keys collected.
//
// Bindings (group 0):
//   #params { n, cols, offset, ld, items, capacity: u32 }
//   #binding scores: array<vec4u>, read        f32 bits; element (i, j) of the view at offset + i*ld + j
//   #binding bracket: array<u32>, read        [12] the previous selection's state (lib/select_state.wgsl)
//   #binding state: array<atomic<u32>>, read_write   [12] (lib/select_state.wgsl)
//   #binding cands: array<u32>, read_write    [capacity]
// Grid: as select_histogram.wgsl (items a multiple of 4).

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/select_walk4.wgsl"
// #include "lib/select_bracket_keys.wgsl"

// #include "lib/chunk_entry.wgsl"

// #include "lib/select_bracket_walk4.wgsl"
