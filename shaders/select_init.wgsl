// select_init: starts a global exact k-smallest selection (kSmallestMask, step 1 of 6).
//
// Resets the selection state and the four radix histograms, and sets the number of elements to
// select, k_eff = min(k, n), where k comes either from Params or, when `k_from_state` is set,
// from state[K_IN] (filled beforehand by a buffer copy from the caller's GPU-resident k).
//
// Bindings (group 0):
//   0  uniform Params { n: u32, k: u32, k_from_state: u32 }
//   1  state: array<u32>, read_write   [8]   (layout below; shared by every select_* kernel)
//   2  hist:  array<u32>, read_write   [4 * 256]  (one 256-bin histogram per radix pass)
// Grid: 1 workgroup of WG invocations.
//
// State layout:
//   0 K_IN     k copied from the caller's tensor (read only when k_from_state != 0)
//   1 K_REM    rank still to find among the elements that match PREFIX (1-based); after the last
//              radix pass: how many elements whose key equals the threshold are selected
//   2 PREFIX   the high key bits fixed so far; after the last pass: the threshold key T
//   3 COUNT_T  number of elements whose key equals T (set by the last pass)
//   4 TIES     how elements with key == T are selected: 0 none (k = 0), 1 all, 2 by flat index
//   5 K_EFF    min(k, n)

override WG: u32 = 256;

const K_IN: u32 = 0u;
const K_REM: u32 = 1u;
const PREFIX: u32 = 2u;
const COUNT_T: u32 = 3u;
const TIES: u32 = 4u;
const K_EFF: u32 = 5u;
const TIES_NONE: u32 = 0u;

struct Params {
  n: u32,
  k: u32,
  k_from_state: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> state: array<u32>;
@group(0) @binding(2) var<storage, read_write> hist: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  for (var i = t; i < 4u * 256u; i += WG) {
    hist[i] = 0u;
  }
  if (t == 0u) {
    var k = p.k;
    if (p.k_from_state != 0u) {
      k = state[K_IN];
    }
    k = min(k, p.n);
    state[K_EFF] = k;
    state[K_REM] = k;
    state[PREFIX] = 0u;
    state[COUNT_T] = 0u;
    state[TIES] = TIES_NONE;
  }
}
