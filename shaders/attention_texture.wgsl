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
// Bindings: lib/attention_texture_reads.wgsl (q, tk, tv, out, state, flags; attention.wgsl's params
// without the k and v views). Grid, key ranges and overrides: as attention.wgsl.

const ATT_ROWS: u32 = 1u; // the per-query arrays as one row of up to 64 vec4s (lib/attention_main.wgsl)
const ATT_COLS: u32 = 64u;

// #include "lib/attention_texture_reads.wgsl"
