// first_nonfinite: the first NaN or ±Inf of a flat f32 range, recorded without a readback —
//   i* = min{ i < count : x[offset + i] is NaN or ±Inf }   (exponent bits all ones)
//   flags[slot] = max(flags[slot], 0xffffffff − i*)         (unchanged when every value is finite)
// So after a cleared (zero) flags[slot], 0 means "all finite" and otherwise i* = 0xffffffff −
// flags[slot]; several launches into one flags tensor (one slot per tensor) need one readback.
// The test looks at the bits, not at `v != v`, which a compiler may assume false.
//
// Bindings (group 0):
//   #params { count, offset, items, slot: u32 }   (count < 0xffffffff)
//   #binding x: array<f32>, read                element i at offset + i
//   #binding flags: array<atomic<u32>>, read_write  [> slot]
// Grid: one workgroup per chunk of WG*items consecutive indices, folded into y
//   (chunk = wid.x + wid.y * nwg.x); an invocation scans its `items` indices in order and stops at
//   its first bad one; a workgroup maximum, then one atomicMax per workgroup that found one.
//   `items` is capped by the caller within llvmpipe's loop budget.

override WG: u32 = 256;

var<workgroup> best: atomic<u32>;

// #include "lib/chunk_items.wgsl"

// #include "lib/chunk_entry.wgsl"

fn chunk_item(chunk: u32, t: u32) {
  if (t == 0u) {
    atomicStore(&best, 0u);
  }
  workgroupBarrier();
  let range = item_range(chunk, t, p.count);
  for (var i = range.x; i < range.y; i++) {
    if ((bitcast<u32>(x[p.offset + i]) & 0x7f800000u) == 0x7f800000u) {
      atomicMax(&best, 0xffffffffu - i);
      break;
    }
  }
  workgroupBarrier();
  if (t == 0u) {
    let b = atomicLoad(&best);
    if (b != 0u) {
      atomicMax(&flags[p.slot], b);
    }
  }
}
