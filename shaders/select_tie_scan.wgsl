// select_tie_scan: exclusive prefix sum of the per-chunk tie counts, in place (kSmallestMask,
// step 5 of 6; does nothing unless state[TIES] == 2).
//   counts[c] ← Σ_{c' < c} counts[c']   (= ties before chunk c in flat order)
//
// Bindings (group 0):
//   #params { chunks: u32 }
//   #binding state: array<u32>, read         [12] (lib/select_state.wgsl)
//   #binding counts: array<u32>, read_write   [chunks]
// Grid: 1 workgroup of WG invocations; invocation t scans a contiguous run of ⌈chunks/WG⌉ entries.

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/scan.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  let per = select(0u, (p.chunks + WG - 1u) / WG, state[TIES] == TIES_RANK);
  let c0 = t * per;
  let c1 = min(c0 + per, p.chunks);
  var sum = 0u;
  for (var c = c0; c < c1; c++) {
    sum += counts[c];
  }
  var running = scan_inclusive(t, sum) - sum;
  for (var c = c0; c < c1; c++) {
    let v = counts[c];
    counts[c] = running;
    running += v;
  }
}
