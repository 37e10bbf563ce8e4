// select_digit: picks one radix digit of the k-th smallest key (kSmallestMask, step 3 of 6, run
// after each select_histogram pass).
//
// With h = hist[radix_pass] and K = state[K_REM] (the rank, 1-based, still to find among the elements
// that match the prefix), finds the bin d with  Σ_{e<d} h[e] < K ≤ Σ_{e≤d} h[e]  and sets
//   PREFIX |= d << shift,   K_REM = K − Σ_{e<d} h[e].
// After the last pass (shift 0) PREFIX is the threshold key T (the k-th smallest key), K_REM the
// number of elements with key T that are selected, and COUNT_T = h[d] the number that exist; TIES
// becomes 1 (select all of them) when K_REM == COUNT_T, else 2 (select the K_REM lowest flat
// indices). When K = 0 (k = 0) no bin qualifies and the state keeps TIES = 0, PREFIX = 0.
//
// Bindings (group 0):
//   #params { radix_pass, shift, last, grid_x, grid_y: u32 }   (grid: the tie count's, when ties must be ranked)
//   #binding hist: array<u32>, read         [4 * 256]
//   #binding state: array<u32>, read_write   [12] (lib/select_state.wgsl)
//   #binding tie_args: array<u32>, read_write   [6] the tie steps' workgroup counts (set after the
//                                               last pass when ties must be ranked)
// Grid: 1 workgroup of WG invocations (WG divides 256; invocation t owns bins t*256/WG …).

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/scan.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  let k_rem = state[K_REM]; // every invocation reads before the winner writes (barriers below)
  let per = 256u / WG;
  let b0 = p.radix_pass * 256u + t * per;
  var sum = 0u;
  for (var i = 0u; i < per; i++) {
    sum += hist[b0 + i];
  }
  var running = scan_inclusive(t, sum) - sum;
  storageBarrier();
  for (var i = 0u; i < per; i++) {
    let c = hist[b0 + i];
    if (k_rem > running && k_rem <= running + c) {
      let rem = k_rem - running;
      state[PREFIX] = state[PREFIX] | ((t * per + i) << p.shift);
      state[K_REM] = rem;
      if (p.last != 0u) {
        state[COUNT_T] = c;
        state[TIES] = select(TIES_RANK, TIES_ALL, rem == c);
        if (rem != c) {
          let ties = grid_words(vec2u(p.grid_x, p.grid_y));
          for (var w = 0u; w < 6u; w++) {
            tie_args[w] = ties[w];
          }
        }
      }
    }
    running += c;
  }
}
