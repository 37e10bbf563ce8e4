// compact_flags: the ascending list of positions whose flag is set, one range of positions per
//   dispatch (the caller splits n into ranges under llvmpipe's 65535-iterations-per-invocation limit
//   and clears count first; each range appends after the previous ones).
//
// Bindings (group 0):
//   #params { begin, end: u32 }
//   #binding flags: array<u32>, read       [n] (non-zero = set)
//   #binding idx: array<u32>, read_write   [n]  idx[0..count) = set positions ascending; rest untouched
//   #binding count: array<u32>, read_write [1]  running count (0 before the first range)
// Math: idx = { j : flags[j] != 0 } in order. Sequential by design: n is a layer width, and a single
//   pass is cheaper here than a parallel scan's extra dispatches.
// Grid: exactly one workgroup of one invocation.

@compute @workgroup_size(1)
fn main() {
  var c = count[0];
  for (var j = p.begin; j < p.end; j++) {
    if (flags[j] != 0u) {
      idx[c] = j;
      c++;
    }
  }
  count[0] = c;
}
