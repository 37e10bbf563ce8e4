// sparse_groups: decoding the compressed weights of the sparse products one group of 4 columns at a
// time. A row's mask or index words hold 8 groups each: group g of a row is the nibble at bits
// 4·(g mod 8) of word g / 8.
//   nibbleOf(word, g): that nibble.
//   kept24(n):         for a 2:4 index nibble (bits 0-1: the in-group column of the first kept value,
//                      bits 2-3: of the second), those two columns.
//   dense24(n, v0, v1): the group's 4 dense weights: v0 at column kept24(n).x, v1 at .y, 0 elsewhere
//                      (v0 + v1 when both name one column: never for a valid index).
//   maskLanes(n):      for a bitmask nibble (bit i = column i of the group is non-zero), which lanes are set.
//   maskSlots(n, k):   where each set column's value sits in a row's values when the group's first
//                      non-zero is values[k]: k + (set bits below column i); lanes not set get a slot too
//                      (the caller masks them out with maskLanes).
// Used by sparse24_matvec.wgsl, sparse24_matmul.wgsl and bitmask_matmul.wgsl.

fn nibbleOf(word: u32, g: u32) -> u32 {
  return (word >> ((g & 7u) * 4u)) & 15u;
}

fn kept24(n: u32) -> vec2u {
  return vec2u(n & 3u, n >> 2u);
}

fn dense24(n: u32, v0: f32, v1: f32) -> vec4f {
  let lanes = vec4u(0u, 1u, 2u, 3u);
  let k = kept24(n);
  return select(vec4f(0.0), vec4f(v0), lanes == vec4u(k.x)) + select(vec4f(0.0), vec4f(v1), lanes == vec4u(k.y));
}

fn maskLanes(n: u32) -> vec4<bool> {
  return (vec4u(n) & vec4u(1u, 2u, 4u, 8u)) != vec4u(0u);
}

fn maskSlots(n: u32, k: u32) -> vec4u {
  let b = (vec4u(n) >> vec4u(0u, 1u, 2u, 3u)) & vec4u(1u);
  return vec4u(k, k + b.x, k + b.x + b.y, k + b.x + b.y + b.z);
}
