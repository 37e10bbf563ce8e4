// select_bracket_check: after select_bracket, finds the threshold of the global exact k-smallest
// selection among the keys the bracket collected when it lies there (kSmallestMask with a
// SelectBracket), and sizes the next bracket.
//
// With K = state[K_EFF], BELOW and CANDS from select_bracket: the k-th smallest key lies in the
// bracket iff BELOW < K ≤ BELOW + CANDS. Then, when every key inside was stored (CANDS ≤ capacity)
// and the previous selection had a threshold, the (K − BELOW)-th smallest collected key is the k-th
// smallest of the view (every key below the bracket is smaller, every key above larger), found
// here by one workgroup (lib/workgroup_radix.wgsl), and
//   MODE = MODE_CANDIDATES, PREFIX = T, K_REM = the keys equal to T selected, COUNT_T, TIES
// as select_digit's last pass would leave them; the radix passes then skip (lib/radix_pass.wgsl).
// (they are not launched: radix_args zeroed; tie_args set when the ties must be ranked).
// Otherwise MODE stays MODE_FULL and they read the whole view, as without a bracket. Either way
// the same threshold is found.
//
// WIDTH for the next bracket: after a hit, scaled so that about `aim` keys fall inside if the
// scores keep their density, but at least twice the distance the threshold moved (and 64 keys):
// each collected key costs an atomic, so the bracket is kept as narrow as the drift allows.
// After a miss: halved when more keys fell inside than capacity / 2 (at least 1), else doubled
// (at most 2^31).
//
// Bindings (group 0):
//   #params { capacity, aim, grid_x, grid_y, score_x, score_y: u32 }
//        (grid: the tie count's, when ties must be ranked; score: the scores kernel's, see score_args)
//   #binding bracket: array<u32>, read        [12] the previous selection's state (lib/select_state.wgsl)
//   #binding state: array<u32>, read_write   [12] (lib/select_state.wgsl)
//   #binding cands: array<u32>, read          [capacity] the keys select_bracket collected
//   #binding radix_args: array<u32>, read_write   [6] the radix passes' workgroup counts: zeroed on a hit
//   #binding tie_args: array<u32>, read_write     [6] the tie steps': set on a hit when ties must be ranked
//   #binding score_args: array<u32>, read_write   [3] for a selection whose scores are written on
//                                                 demand (select_bracket_wanda_vec4): the scores
//                                                 kernel's workgroup counts over the whole view when
//                                                 every score is still needed (a miss, or ties to
//                                                 rank), else none
// Grid: 1 workgroup of WG invocations (WG divides 256).

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/workgroup_radix.wgsl"

var<workgroup> hit: u32;

fn radix_key(j: u32) -> u32 {
  return cands[j];
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  let k = state[K_EFF];
  let below = state[BELOW];
  let count = state[CANDS];
  if (t == 0u) {
    let inside = below < k && k - below <= count;
    hit = select(0u, 1u, bracket[TIES] != TIES_NONE && inside && count <= p.capacity);
    score_args[0] = p.score_x;
    score_args[1] = p.score_y;
    score_args[2] = 1u;
    if (hit == 0u) {
      // a miss: narrower when too many keys fell inside, else wider
      let width = bracket[WIDTH];
      if (count > p.capacity / 2u) {
        state[WIDTH] = max(width / 2u, 1u);
      } else if (!inside) {
        state[WIDTH] = select(width * 2u, 0x80000000u, width >= 0x40000000u);
      } else {
        state[WIDTH] = width;
      }
    }
  }
  if (workgroupUniformLoad(&hit) == 0u) {
    return;
  }
  workgroup_radix(t, count, k - below);
  if (t == 0u) {
    let centre = bracket[PREFIX];
    let drift = max(found_prefix, centre) - min(found_prefix, centre);
    let scaled = f32(bracket[WIDTH]) * f32(p.aim) / f32(max(count, 1u));
    state[WIDTH] = max(u32(min(scaled, 2147483648.0)), max(min(drift, 0x3fffffffu) * 2u, 64u));
    state[MODE] = MODE_CANDIDATES;
    state[PREFIX] = found_prefix;
    state[K_REM] = found_rem;
    state[COUNT_T] = found_count;
    state[TIES] = found_ties;
    let radix = grid_words(vec2u(0u, 1u));
    let ties = grid_words(select(vec2u(0u, 1u), vec2u(p.grid_x, p.grid_y), found_ties == TIES_RANK));
    if (found_ties != TIES_RANK) {
      score_args[0] = 0u;
    }
    for (var i = 0u; i < 6u; i++) {
      radix_args[i] = radix[i];
      tie_args[i] = ties[i];
    }
  }
}
