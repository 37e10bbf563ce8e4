// bias_add: x[r, c] += bias[c] — the bias of a linear layer, added to its output rows.
//
// Bindings (group 0):
//   0  uniform Params { n, cols: u32 }      n = rows·cols
//   1  bias: array<f32>, read               [cols]
//   2  x: array<f32>, read_write            [rows, cols]
// Grid: 1-D over n, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG).

override WG: u32 = 256;

struct Params {
  n: u32,
  cols: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;

// #include "lib/flat_index.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) {
    return;
  }
  x[i] = x[i] + bias[i % p.cols];
}
