// argmax: the index of the largest of n values, ties to the lowest index (greedy decoding's next
// token, so only 4 bytes are read back per token).
//
// Bindings (group 0):
//   #params { n, offset: u32 }
//   #binding x: array<f32>, read           [n] at offset
//   #binding result: array<u32>, read_write [1]: the index (0 when n is 0)
// Math: result = min { i : x[i] = max_j x[j] }. NaN compares false everywhere and is never picked
//   unless every value is NaN (then 0).
// Grid: (1): one workgroup of WG invocations; invocation t scans i ≡ t (mod WG) keeping its first
//   maximum, then a tree reduction in workgroup memory keeps the larger value, the lower index on
//   ties. An invocation loops ceil(n / WG) + log2(WG) + 2 times; WG must be a power of two.

override WG: u32 = 64;

// #include "lib/argmax.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  var v = -3.4028235e38;
  var at = 0xffffffffu;
  for (var i = t; i < p.n; i += WG) {
    let xi = x[p.offset + i];
    if (xi > v || (at == 0xffffffffu && xi == v)) {
      v = xi;
      at = i;
    }
  }
  let best = workgroup_argmax(t, v, at);
  if (t == 0u) {
    result[0] = select(best.index, 0u, best.index == 0xffffffffu);
  }
}
