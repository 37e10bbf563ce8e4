// widen_half: the two weights of one packed word (low half first), widened exactly to f32 — F16 by
// unpack2x16float, BF16 (the includer's p.bf16 == 1) by shifting its 16 bits into the high half of
// an f32's bits.

fn widen(word: u32) -> vec2f {
  if (p.bf16 == 1u) {
    return vec2f(bitcast<f32>(word << 16u), bitcast<f32>(word & 0xffff0000u));
  }
  return unpack2x16float(word);
}
