// count_order: the rows of a batched gathered solve (gathered_solve.wgsl) in order of decreasing
// count, so that the rows run side by side — the 8 SIMD lanes of an llvmpipe vector, a GPU's warp —
// have about the same count. Every lane of a vector runs the loops of the longest row among them,
// and a row's work grows as n³. Which row a slot solves does not change its result (each row's
// arithmetic is its own), so ties may come out in any order.
//
// Sorted by count, slot s would solve the row of rank s (rank 0 the largest count). But llvmpipe
// hands each of its threads a contiguous range of workgroups, so sorted slots would give one
// thread the heavy rows and the other the light ones. So the ranks are dealt out by vectors of
// `lanes` rows: of the first `full` = group·floor(rows/group) ranks, W = full/group workgroups of
// `group` slots, vector v = rank/lanes goes to workgroup v mod W, as its (v div W)-th vector — every
// workgroup gets vectors from the whole range of counts, and each vector rows of adjacent rank
// (on a GPU, which schedules workgroups as they free up, the host passes lanes = group: plain
// sorted order, a warp's rows of adjacent rank):
//   slot(rank) = ((v mod W)·(group/lanes) + v div W)·lanes + rank mod lanes   (rank < full)
//   slot(rank) = rank                                                        (the rest, the lightest)
//   order[slot(rank)] = the row of that rank, ranks by decreasing min(counts[r], cap)
//
// With add_total != 0 it also adds the rows' clamped counts Σ_r min(counts[r], cap) to total[0]
// (Thanos's zeros so far: the block's removal sets are exactly its pruned weights).
//
// Bindings (group 0):
//   #params { rows, cap, lanes, group, add_total: u32 }   (cap ≤ 512: thanos/linalg/solve.ts
//                                              MAX_GATHERED; group a multiple of lanes)
//   #binding counts: array<u32>, read          [rows]
//   #binding order: array<u32>, read_write     [rows]
//   #binding total: array<u32>, read_write     [1] (unused when add_total == 0)
// Grid: one workgroup of WG invocations (a counting sort: bins of counts, their offsets, placement).

override WG: u32 = 256;

var<workgroup> bins: array<atomic<u32>, 513>;
var<workgroup> sum: atomic<u32>;

// bin of row r: cap − its clamped count, so that the larger counts come first
fn bin(r: u32) -> u32 {
  return p.cap - min(counts[r], p.cap);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  for (var b = t; b <= p.cap; b += WG) {
    atomicStore(&bins[b], 0u);
  }
  if (t == 0u) {
    atomicStore(&sum, 0u);
  }
  workgroupBarrier();
  var mine = 0u;
  for (var r = t; r < p.rows; r += WG) {
    let b = bin(r);
    atomicAdd(&bins[b], 1u);
    mine += p.cap - b;
  }
  atomicAdd(&sum, mine);
  workgroupBarrier();
  if (t == 0u) {
    if (p.add_total != 0u) {
      total[0] += atomicLoad(&sum);
    }
    var start = 0u;
    for (var b = 0u; b <= p.cap; b++) {
      let c = atomicLoad(&bins[b]);
      atomicStore(&bins[b], start);
      start += c;
    }
  }
  workgroupBarrier();
  let full = p.rows / p.group * p.group;
  let wgs = full / p.group;
  for (var r = t; r < p.rows; r += WG) {
    let rank = atomicAdd(&bins[bin(r)], 1u);
    var slot = rank;
    if (rank < full) {
      let v = rank / p.lanes;
      slot = ((v % wgs) * (p.group / p.lanes) + v / wgs) * p.lanes + rank % p.lanes;
    }
    order[slot] = r;
  }
}
