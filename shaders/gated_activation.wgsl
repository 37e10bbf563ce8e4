// gated_activation: gate = act(gate) · up in place — LLaMA's SwiGLU MLP, down(silu(gate(x)) · up(x)).
//
// Bindings (group 0):
//   0  uniform Params { n: u32 }
//   1  up: array<f32>, read           [n]
//   2  gate: array<f32>, read_write   [n]
// Math: gate[i] = act(gate[i]) · up[i], with ACT as in activation.wgsl
//   (0 relu, 1 gelu_new, 2 gelu (erf), 3 silu = x / (1 + exp(−x))).
// Grid: 1-D over n, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 256;
override ACT: u32 = 3;

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<storage, read_write> gate: array<f32>;

fn erf(z: f32) -> f32 {
  let a = abs(z);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(z) * (1.0 - poly * exp(-a * a));
}

fn act(z: f32) -> f32 {
  switch ACT {
    case 0u: {
      return max(z, 0.0);
    }
    case 1u: {
      let u = clamp(0.7978845608028654 * (z + 0.044715 * z * z * z), -15.0, 15.0);
      return 0.5 * z * (1.0 + tanh(u));
    }
    case 2u: {
      return 0.5 * z * (1.0 + erf(z * 0.7071067811865476));
    }
    default: {
      return z / (1.0 + exp(-z));
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) {
    return;
  }
  gate[i] = act(gate[i]) * up[i];
}
