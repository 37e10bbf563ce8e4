// activation: x = act(x) in place — the MLP nonlinearity of OPT (ReLU) and GPT-2 (GELU).
//
// Bindings (group 0):
//   #params { n: u32 }
//   #binding x: array<f32>, read_write   [n]
// Math: x[i] = act(x[i]), ACT selecting 0 relu, 1 gelu_new, 2 gelu (erf), 3 silu (lib/activation.wgsl).
// Grid: 1-D over n, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 256;
override ACT: u32 = 0;

// #include "lib/flat_entry.wgsl"

// #include "lib/activation.wgsl"

fn flat_item(i: u32) {
  if (i >= p.n) {
    return;
  }
  x[i] = act(x[i]);
}
