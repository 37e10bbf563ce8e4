// residual_add: x[i] += y[i] — adds a sub-layer's output back into the residual stream, and, when
// CHECK, records the NaN/Inf check of the sum in the same pass.
//
// Bindings (group 0):
//   #params { n, slot: u32 }
//   #binding y: array<f32>, read          [n]
//   #binding x: array<f32>, read_write    [n]
//   #binding flags: array<atomic<u32>>, read_write   [> slot] (untouched unless CHECK)
// Math: x[i] = x[i] + y[i]; when CHECK, flags[slot] = max(flags[slot], 0xffffffff − i) for every
//   non-finite sum (the convention of first_nonfinite.wgsl).
// Grid: 1-D over n, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 256;
override CHECK: bool = false;

// #include "lib/flat_entry.wgsl"

fn flat_item(i: u32) {
  if (i >= p.n) {
    return;
  }
  let v = x[i] + y[i];
  if (CHECK && (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) {
    atomicMax(&flags[p.slot], 0xffffffffu - i);
  }
  x[i] = v;
}
