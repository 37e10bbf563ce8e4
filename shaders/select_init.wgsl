// select_init: starts a global exact k-smallest selection (kSmallestMask, step 1 of 6).
//
// Resets the selection state and the four radix histograms, and sets the number of elements to
// select, k_eff = min(k, n), where k comes from Params (`k_from_state` 0), from state[K_IN]
// (1: filled beforehand by a buffer copy from the caller's GPU-resident k), or is a budget's rest
// max(0, p.k − state[K_IN]) (2: state[K_IN] then holds what earlier selections spent). The radix
// passes read every key (MODE_FULL) unless select_bracket_check finds the k-th key in a bracket;
// WIDTH starts at `width` (the bracket half-width a later selection starts from).
//
// The later steps are launched indirectly (lib/select_state.wgsl, "indirect arguments"): the radix
// passes over the full grid [grid_x, grid_y] (select_bracket_check zeroes them when it finds the
// threshold), the tie steps not at all (the last select_digit or select_bracket_check launches them
// when ties must be ranked).
//
// Bindings (group 0):
//   #params { n: u32, k: u32, k_from_state: u32, width: u32, grid_x: u32, grid_y: u32 }
//   #binding state: array<u32>, read_write   [12]   (lib/select_state.wgsl; shared by every select_* kernel)
//   #binding hist: array<u32>, read_write   [4 * 256]  (one 256-bin histogram per radix pass)
//   #binding radix_args: array<u32>, read_write   [6] the histogram's and select_digit's workgroup counts
//   #binding tie_args: array<u32>, read_write     [6] select_tie_count's and select_tie_scan's
// Grid: 1 workgroup of WG invocations.
//
// State layout: lib/select_state.wgsl.

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  for (var i = t; i < 4u * 256u; i += WG) {
    hist[i] = 0u;
  }
  if (t == 0u) {
    let radix = grid_words(vec2u(p.grid_x, p.grid_y));
    let ties = grid_words(vec2u(0u, 1u));
    for (var i = 0u; i < 6u; i++) {
      radix_args[i] = radix[i];
      tie_args[i] = ties[i];
    }
    var k = p.k;
    if (p.k_from_state == 1u) {
      k = state[K_IN];
    } else if (p.k_from_state == 2u) {
      k = select(p.k - state[K_IN], 0u, state[K_IN] >= p.k);
    }
    k = min(k, p.n);
    state[K_EFF] = k;
    state[K_REM] = k;
    state[PREFIX] = 0u;
    state[COUNT_T] = 0u;
    state[TIES] = TIES_NONE;
    state[MODE] = MODE_FULL;
    state[BELOW] = 0u;
    state[CANDS] = 0u;
    state[WIDTH] = p.width;
  }
}
