// gated_activation: gate = act(gate) · up in place — LLaMA's SwiGLU MLP, down(silu(gate(x)) · up(x)).
//
// Bindings (group 0):
//   #params { n: u32 }
//   #binding up: array<f32>, read           [n]
//   #binding gate: array<f32>, read_write   [n]
// Math: gate[i] = act(gate[i]) · up[i], ACT selecting 0 relu, 1 gelu_new, 2 gelu (erf), 3 silu
//   (lib/activation.wgsl).
// Grid: 1-D over n, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 256;
override ACT: u32 = 3;

// #include "lib/flat_entry.wgsl"

// #include "lib/activation.wgsl"

fn flat_item(i: u32) {
  if (i >= p.n) {
    return;
  }
  gate[i] = act(gate[i]) * up[i];
}
