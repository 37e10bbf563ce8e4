// select_mask_ties: what select_mask.wgsl and select_mask_vec4.wgsl share around their walks (the
// includer's walk, lib/select_walk.wgsl or lib/select_walk4.wgsl, defines count_ties):
//   mask_ties(t)                  state[TIES], read once for the workgroup (uniform)
//   first_tie_rank(chunk, t, range, ties, T)
//                                 with TIES_RANK: how many ties (key == T) lie before this
//                                 invocation's range in flat order (its chunk's earlier
//                                 invocations by a workgroup scan, earlier chunks from
//                                 select_tie_scan.wgsl's counts); else 0
//   written_only(ties)            whether only the written columns need a walk: no ties to rank
//                                 and write_cols < cols (else the walk covers the chunk's range)
//   written_range(chunk, t, multiple)
//                                 this invocation's share of the flat indices of the written
//                                 [rows, write_cols] part, a multiple of `multiple` long, spread
//                                 over the invocations that have elements of the view
// Needs the includer's Params `p` (n, cols, items, chunks, write_cols), bindings `state` and `counts` and `override
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

fn written_only(ties: u32) -> bool {
  return ties != TIES_RANK && p.write_cols < p.cols;
}

fn written_range(chunk: u32, t: u32, multiple: u32) -> vec2u {
  let total = p.n / p.cols * p.write_cols;
  let invocations = (p.n + p.items - 1u) / p.items;
  let per = ((total + invocations - 1u) / invocations + multiple - 1u) / multiple * multiple;
  let start = min((chunk * WG + t) * per, total);
  return vec2u(start, min(start + per, total));
}
