// select_state: the slots of the u32 `state` buffer [12] that the steps of the global exact
// k-smallest selection (select_init → [select_bracket → select_bracket_check] →
// select_histogram/select_digit ×4 → select_tie_count → select_tie_scan → select_mask) pass to one
// another, and the values of its TIES and MODE slots.
//   0 K_IN     k, or a budget's spent count, copied from the caller's tensor (read only when select_init's
//              k_from_state != 0)
//   1 K_REM    rank still to find among the elements that match PREFIX (1-based); after the last
//              radix pass: how many elements whose key equals the threshold are selected
//   2 PREFIX   the high key bits fixed so far; after the last pass: the threshold key T
//   3 COUNT_T  number of elements whose key equals T (set by the last pass)
//   4 TIES     how elements with key == T are selected: TIES_NONE (k = 0), TIES_ALL, or TIES_RANK
//              (the K_REM lowest flat indices)
//   5 K_EFF    min(k, n)
//   6 MODE     whether select_bracket_check found the threshold among the keys select_bracket
//              collected (MODE_CANDIDATES: the radix passes are then not launched) or not
//              (MODE_FULL: they read every key of the view) — a record for the caller's bracket
//              copy and the tests; no kernel branches on it
//   7 BELOW    keys below the bracket (select_bracket)
//   8 CANDS    keys inside the bracket (select_bracket; only the first `capacity` are stored)
//   9 WIDTH    the bracket's half-width in key units, for the next selection that brackets
// Indirect arguments: the radix passes (select_histogram*, select_digit) and the tie steps
// (select_tie_count*, select_tie_scan) are launched with workgroup counts from two small buffers,
// `radix_args` and `tie_args` ([6] u32 each: the walk's grid x, y, 1, then the single-workgroup
// step's 1, 1, 1 — or 0 for x to skip both), which select_init, select_bracket_check and the last
// select_digit write (`grid_words`): the passes do not run at all once the bracket found the
// threshold, nor the tie steps unless ties must be ranked (TIES_RANK).
// A SelectBracket (thanos/linalg/select.ts) keeps a copy of the whole state after a selection: its
// PREFIX (the threshold), TIES and WIDTH place the next selection's bracket.
// row_select.wgsl keeps the same quantities in workgroup memory and uses the TIES_* values.

const K_IN: u32 = 0u;
const K_REM: u32 = 1u;
const PREFIX: u32 = 2u;
const COUNT_T: u32 = 3u;
const TIES: u32 = 4u;
const K_EFF: u32 = 5u;
const MODE: u32 = 6u;
const BELOW: u32 = 7u;
const CANDS: u32 = 8u;
const WIDTH: u32 = 9u;

const TIES_NONE: u32 = 0u;
const TIES_ALL: u32 = 1u;
const TIES_RANK: u32 = 2u;

const MODE_FULL: u32 = 0u;
const MODE_CANDIDATES: u32 = 1u;

// sets an indirect-arguments buffer: the walk's grid [grid.x, grid.y, 1], and [1, 1, 1] for the
// single-workgroup step after it — or nothing of either when grid.x is 0 (the caller stores
// the six words: `for (var i = 0u; i < 6u; i++) { radix_args[i] = w[i]; }`)
fn grid_words(grid: vec2u) -> array<u32, 6> {
  return array<u32, 6>(grid.x, grid.y, 1u, select(0u, 1u, grid.x != 0u), 1u, 1u);
}
