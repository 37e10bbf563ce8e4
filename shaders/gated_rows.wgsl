// gated_rows: out = act(gate) · up for [rows, cols] windows (LLaMA's SwiGLU), written into a row-padded
// output whose padding columns get zeros, and checked for NaN/Inf on the way (no second pass).
//
// The windows may be two column ranges of one fused gate/up product (thanos/linalg/matmul.ts
// matmulRowStack): gate and up may be bound to the same buffer (both read-only). The output's
// leading dimension `ldOut` ≥ cols is chosen by the caller so the next product can copy its rows
// into a texture (a multiple of 64 on llvmpipe); the padding is written as zeros, so the whole
// [rows, ldOut] tensor is finite and deterministic.
//
// #params { rows, cols, offG, ldG, offU, ldU, ldOut, slot: u32 }
// #binding gate: array<f32>, read          gate[r, c] at offG + r·ldG + c
// #binding up: array<f32>, read            up[r, c] at offU + r·ldU + c
// #binding out: array<f32>, read_write     [rows, ldOut]
// #binding flags: array<atomic<u32>>, read_write   [> slot]
// Math: out[r, c] = act(gate[r, c]) · up[r, c] for c < cols (lib/activation.wgsl; the expression of
//   gated_activation.wgsl, so the values agree bit for bit), out[r, c] = 0 for cols ≤ c < ldOut;
//   flags[slot] = max(flags[slot], 0xffffffff − i) for every non-finite out[r, c] with i = r·cols + c
//   (the convention of first_nonfinite.wgsl, in the unpadded [rows, cols] layout) when CHECK.
// Grid: 1-D over rows·ldOut, workgroup size WG, folded into y past 65535 groups.

override WG: u32 = 256;
override ACT: u32 = 3;
override CHECK: bool = false;

// #include "lib/flat_entry.wgsl"

// #include "lib/activation.wgsl"

fn flat_item(i: u32) {
  if (i >= p.rows * p.ldOut) {
    return;
  }
  let e = row_col(i, p.ldOut);
  if (e.y >= p.cols) {
    out[i] = 0.0;
    return;
  }
  let v = act(gate[view_at(p.offG, p.ldG, e)]) * up[view_at(p.offU, p.ldU, e)];
  if (CHECK && (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) {
    atomicMax(&flags[p.slot], 0xffffffffu - (e.x * p.cols + e.y));
  }
  out[i] = v;
}
