// attention_texture: attention.wgsl with the keys and values read from textures that
// pack_texture.wgsl filled — the same math, loop order and results bit for bit (the body is shared:
// lib/attention_main.wgsl); only how a key or value row is fetched differs.
//
// Why: llvmpipe turns each storage-buffer load into a loop over the 8 SIMD lanes (see
// matmul_texture.wgsl), and attention.wgsl's inner loops are those loads — per four keys,
// 2·4·headDim scalar loads for 4·QB·headDim FMAs. A texel fetch is straight-line SIMD code and
// brings four elements at once. The queries are read once per invocation and stay in storage.
// k and v are bound as read-only storage textures, as in matmul_texture.wgsl (no mip level to
// clamp per fetch; here the gain is within noise: the forward's speed is the same either way).
//
//   k[row, c] = tk[texel (c / 4, row)][c % 4], v likewise from tv   (row < batch·seqLen)
// HEAD_DIM must be a multiple of 4 (a texel never straddles two heads; the wrapper falls back to
// attention.wgsl otherwise), so no read needs a mask.
//
// #params { batchHeads, seqLen, heads, kvHeads, qOffset, qLd, outLd, keyBegin, keyEnd: u32, scale: f32, slot: u32 }
// #binding q: array<f32>, read            view [batch·seqLen, heads·headDim]   (r, c) at qOffset + r·qLd + c
// #binding tk: texture_storage_2d<rgba32float, read>          k [batch·seqLen rows, kvHeads·headDim / 4 texels]
// #binding tv: texture_storage_2d<rgba32float, read>          v [batch·seqLen rows, kvHeads·headDim / 4 texels]
// #binding out: array<f32>, read_write    [batch·seqLen, heads·headDim]        (r, c) at r·outLd + c
// #binding state: array<f32>, read_write  [batch·seqLen, heads, 2] running (m, l) between dispatches
// #binding flags: array<atomic<u32>>, read_write  [> slot]: the NaN/Inf check of out when CHECK (as attention.wgsl)
// Grid, key ranges and overrides: as attention.wgsl.

fn k4(row: u32, g: u32, d: u32) -> vec4f {
  return textureLoad(tk, vec2u((g * HEAD_DIM + d) / 4u, row));
}
fn v4(row: u32, g: u32, d: u32) -> vec4f {
  return textureLoad(tv, vec2u((g * HEAD_DIM + d) / 4u, row));
}

// #include "lib/attention_main.wgsl"
