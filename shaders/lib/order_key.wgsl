// order_key: a u32 whose unsigned order is the numeric order of the f32 with bits `bits`, so that
// selections can sort scores by radix digits:
//   NaN → 0xffffffff (after +Inf);  −0 → key(+0) = 0x80000000 (ties with +0);
//   negative → ~bits;  else bits | 0x80000000.
// Used by the k-smallest selections (select_*.wgsl, row_select.wgsl, nm_mask.wgsl).

fn order_key(bits: u32) -> u32 {
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    return 0xffffffffu;
  }
  if ((bits & 0x80000000u) != 0u && bits != 0x80000000u) {
    return ~bits;
  }
  return bits | 0x80000000u;
}
