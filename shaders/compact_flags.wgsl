// compact_flags: the ascending list of positions whose flag is set, one range of positions per
//   dispatch (the caller splits n into ranges under llvmpipe's 65535-iterations-per-invocation limit
//   and clears count first; each range appends after the previous ones).
//
// Bindings (group 0):
//   0  uniform Params { begin, end: u32 }
//   1  flags: array<u32>, read       [n] (non-zero = set)
//   2  idx: array<u32>, read_write   [n]  idx[0..count) = set positions ascending; rest untouched
//   3  count: array<u32>, read_write [1]  running count (0 before the first range)
// Math: idx = { j : flags[j] != 0 } in order. Sequential by design: n is a layer width, and a single
//   pass is cheaper here than a parallel scan's extra dispatches.
// Grid: exactly one workgroup of one invocation.

struct Params {
  begin: u32,
  end: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> flags: array<u32>;
@group(0) @binding(2) var<storage, read_write> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> count: array<u32>;

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
