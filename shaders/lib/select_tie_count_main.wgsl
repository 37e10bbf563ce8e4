// select_tie_count_main: the body of select_tie_count.wgsl and select_tie_count_vec4.wgsl, which
// differ only in how they read the scores (the includer's walk: lib/select_walk.wgsl or
// lib/select_walk4.wgsl, which define count_ties):
//   counts[c] = #{ f in chunk c : key_f == T }   (0 unless state[TIES] == TIES_RANK)
// Needs the includer's Params `p` (n, items, chunks), bindings `state` and `counts` and `override WG`.

// #include "lib/workgroup_count.wgsl"
// #include "lib/chunk_entry.wgsl"

fn chunk_item(chunk: u32, t: u32) {
  var mine = 0u;
  if (state[TIES] == TIES_RANK) {
    mine = count_ties(item_range(chunk, t, p.n), state[PREFIX]);
  }
  let total = workgroup_count(t, mine);
  if (t == 0u && chunk < p.chunks) {
    counts[chunk] = total;
  }
}
