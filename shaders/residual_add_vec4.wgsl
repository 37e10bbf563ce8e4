// residual_add_vec4: residual_add.wgsl four floats at a time (n a multiple of 4): the same sums and
// the same check; llvmpipe loads and stores storage lane by lane, so a quarter of the memory
// operations.
//
// Bindings (group 0):
//   #params { n, slot: u32 }
//   #binding y: array<vec4f>, read          [n / 4]
//   #binding x: array<vec4f>, read_write    [n / 4]
//   #binding flags: array<atomic<u32>>, read_write   [> slot] (untouched unless CHECK)
// Math: x[i] = x[i] + y[i]; when CHECK, flags[slot] = max(flags[slot], 0xffffffff − i) for every
//   non-finite sum, i the float's index (residual_add.wgsl's convention).
// Grid: 1-D over n / 4, workgroup size WG, folded into y past 65535 groups.

override WG: u32 = 256;
override CHECK: bool = false;

// #include "lib/flat_entry.wgsl"

fn flat_item(i: u32) {
  if (i >= p.n / 4u) {
    return;
  }
  let v = x[i] + y[i];
  if (CHECK) {
    let bad = (bitcast<vec4u>(v) & vec4u(0x7f800000u)) == vec4u(0x7f800000u);
    if (any(bad)) {
      // the first non-finite component of this vec4 (the largest key among them)
      let t = select(select(select(3u, 2u, bad.z), 1u, bad.y), 0u, bad.x);
      atomicMax(&flags[p.slot], 0xffffffffu - (4u * i + t));
    }
  }
  x[i] = v;
}
