// activation: act(z), the MLP nonlinearity selected by the includer's `override ACT: u32`
// (all in f32):
//   0 relu:      max(z, 0)
//   1 gelu_new:  0.5·z·(1 + tanh(sqrt(2/π)·(z + 0.044715·z³)))   (GPT-2's tanh approximation)
//   2 gelu:      0.5·z·(1 + erf(z/√2))   (erf by Abramowitz–Stegun 7.1.26, |error| ≤ 1.5e-7)
//   3 silu:      z / (1 + exp(−z))
// Used by activation.wgsl and gated_activation.wgsl.

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
