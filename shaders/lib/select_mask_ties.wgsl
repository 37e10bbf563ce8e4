// select_mask_ties: what select_mask.wgsl and select_mask_vec4.wgsl share around their walks (the
// includer's walk, lib/select_walk.wgsl or lib/select_walk4.wgsl, defines count_ties):
//   mask_ties(t)                  state[TIES], read once for the workgroup (uniform)
//   first_tie_rank(chunk, t, range, ties, T)
//                                 with TIES_RANK: how many ties (key == T) lie before this
//                                 invocation's range in flat order (its chunk's earlier
//                                 invocations by a workgroup scan, earlier chunks from
//                                 select_tie_scan.wgsl's counts); else 0
//   past_written(pos, ties)       whether pos lies past the written columns with no ties to rank:
//                                 the walk then moves on to the next row without reading
// Needs the includer's Params `p` (chunks, write_cols), bindings `state` and `counts` and `override
// WG`; mask_ties and first_tie_rank from uniform control flow.

// #include "lib/scan.wgsl"

var<workgroup> ties_mode: u32;

fn mask_ties(t: u32) -> u32 {
  if (t == 0u) {
    ties_mode = state[TIES];
  }
  return workgroupUniformLoad(&ties_mode);
}

fn first_tie_rank(chunk: u32, t: u32, range: vec2u, ties: u32, threshold: u32) -> u32 {
  var rank = 0u;
  if (ties == TIES_RANK) {
    let mine = count_ties(range, threshold);
    rank = scan_inclusive(t, mine) - mine;
    if (chunk < p.chunks) {
      rank += counts[chunk];
    }
  }
  return rank;
}

fn past_written(pos: vec2u, ties: u32) -> bool {
  return pos.y >= p.write_cols && ties != TIES_RANK;
}
