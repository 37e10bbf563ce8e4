// compact_flags: the ascending list of positions whose flag is set.
//
// Bindings (group 0):
//   0  uniform Params { n: u32 }
//   1  flags: array<u32>, read       [n] (non-zero = set)
//   2  idx: array<u32>, read_write   [n]  idx[0..count) = set positions ascending; rest untouched
//   3  count: array<u32>, read_write [1]
// Math: idx = { j : flags[j] != 0 } in order. Sequential by design: n is a layer width (≤ ~16k), and
//   a single pass is cheaper here than a parallel scan's extra dispatches.
// Grid: exactly one workgroup of one invocation.

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> flags: array<u32>;
@group(0) @binding(2) var<storage, read_write> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> count: array<u32>;

@compute @workgroup_size(1)
fn main() {
  var c = 0u;
  for (var j = 0u; j < p.n; j++) {
    if (flags[j] != 0u) {
      idx[c] = j;
      c++;
    }
  }
  count[0] = c;
}
