// attention_texture_reads: the interface and the key/value reads of attention_texture.wgsl and
// attention_texture_hd32.wgsl (see attention_texture.wgsl), which differ only in the shape of their
// per-query arrays (lib/attention_main.wgsl).
//
// #params { batchHeads, seqLen, heads, kvHeads, qOffset, qLd, outLd, keyBegin, keyEnd: u32, scale: f32, slot: u32 }
// #binding q: array<f32>, read            view [batch·seqLen, heads·headDim]   (r, c) at qOffset + r·qLd + c
// #binding tk: texture_storage_2d<rgba32float, read>          k [batch·seqLen rows, kvHeads·headDim / 4 texels]
// #binding tv: texture_storage_2d<rgba32float, read>          v [batch·seqLen rows, kvHeads·headDim / 4 texels]
// #binding out: array<f32>, read_write    [batch·seqLen, heads·headDim]        (r, c) at r·outLd + c
// #binding state: array<f32>, read_write  [batch·seqLen, heads, 2] running (m, l) between dispatches
// #binding flags: array<atomic<u32>>, read_write  [> slot]: the NaN/Inf check of out when CHECK (as attention.wgsl)

fn k4(row: u32, g: u32, d: u32) -> vec4f {
  return textureLoad(tk, vec2u((g * HEAD_DIM + d) / 4u, row));
}
fn v4(row: u32, g: u32, d: u32) -> vec4f {
  return textureLoad(tv, vec2u((g * HEAD_DIM + d) / 4u, row));
}

// #include "lib/attention_main.wgsl"
