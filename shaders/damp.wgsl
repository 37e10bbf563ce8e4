// damp: the SparseGPT/Thanos damping of a Hessian, in place, in one workgroup:
//   dead[j] = (H[j, j] == 0);  H[j, j] = 1 where dead;
//   lambda  = percdamp · mean_j H[j, j]   (mean taken after the dead fix);
//   H[j, j] += lambda.
// The mean is a reduction in workgroup memory (strided partial sums, then a tree), so the whole
// operation stays on the GPU.
//
// Bindings (group 0):
//   #params { n, off, ld: u32, percdamp: f32 }
//   #binding h: array<f32>, read_write     [n, n] window at off with leading dimension ld (diagonal only)
//   #binding dead: array<u32>, read_write  [n]
//   #binding lambda: array<f32>, read_write [1]: the value added to the diagonal
// Grid: one workgroup of WG invocations; invocation t handles diagonal entries t, t + WG, …

override WG: u32 = 256;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  var sum = 0.0;
  for (var j = t; j < p.n; j += WG) {
    let v = h[p.off + j * (p.ld + 1u)];
    sum += select(v, 1.0, v == 0.0);
  }
  partial[t] = sum;
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    workgroupBarrier();
    if (t < half) {
      partial[t] += partial[t + half];
    }
  }
  workgroupBarrier();
  let damp = p.percdamp * partial[0] / f32(p.n);
  if (t == 0u) {
    lambda[0] = damp;
  }
  // each invocation rewrites exactly the entries it read above: no race with the reduction
  for (var j = t; j < p.n; j += WG) {
    let at = p.off + j * (p.ld + 1u);
    let v = h[at];
    let isDead = v == 0.0;
    dead[j] = select(0u, 1u, isDead);
    h[at] = select(v, 1.0, isDead) + damp;
  }
}
