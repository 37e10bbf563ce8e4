// activation: x = act(x) in place — the MLP nonlinearity of OPT (ReLU) and GPT-2 (GELU).
//
// Bindings (group 0):
//   0  uniform Params { n: u32 }
//   1  x: array<f32>, read_write   [n]
// Math (ACT selects, all in f32):
//   0 relu:      max(x, 0)
//   1 gelu_new:  0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))   (GPT-2's tanh approximation)
//   2 gelu:      0.5·x·(1 + erf(x/√2))   (erf by Abramowitz–Stegun 7.1.26, |error| ≤ 1.5e-7)
//   3 silu:      x / (1 + exp(−x))
// Grid: 1-D over n, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 256;
override ACT: u32 = 0;

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;

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
      // tanh saturates to ±1 in f32 beyond |u| ≈ 9; clamping keeps exp-based tanh from overflowing
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
  x[i] = act(x[i]);
}
