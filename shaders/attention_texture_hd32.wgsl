// attention_texture_hd32: attention_texture.wgsl specialised to heads of 32 (QB = 4 queries an
// invocation): the per-query arrays are array<array<vec4f, 8>, 4>, their dimensions the loops'
// trip counts, so llvmpipe keeps them in registers instead of scratch memory — the same bits,
// ~1.25x the kernel's speed at tiny-llama's shapes (lib/attention_main.wgsl says why and what else
// was tried). Chosen by causalAttention for HEAD_DIM 32 with QB 4 on the texture variant.
//
// Bindings, grid, key ranges: as attention_texture.wgsl (lib/attention_texture_reads.wgsl);
// HEAD_DIM must be 32 and QB 4.

const ATT_ROWS: u32 = 4u;
const ATT_COLS: u32 = 8u;

// #include "lib/attention_texture_reads.wgsl"
