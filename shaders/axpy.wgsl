// axpy: y[i, j] += alpha · x[i, j] for every element of a rows x cols window.
//
// Bindings (group 0):
//   0  uniform Params { rows, cols, offX, ldX, offY, ldY: u32, alpha: f32 }
//   1  x: array<f32>, read         [rows, cols] window at offX with leading dimension ldX
//   2  y: array<f32>, read_write   [rows, cols] window at offY with leading dimension ldY
// Grid: 1-D over rows·cols (row-major), workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y · nwg.x · WG).

override WG: u32 = 256;

struct Params {
  rows: u32,
  cols: u32,
  offX: u32,
  ldX: u32,
  offY: u32,
  ldY: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= p.rows * p.cols) {
    return;
  }
  let i = e / p.cols;
  let j = e - i * p.cols;
  let at = p.offY + i * p.ldY + j;
  y[at] = fma(p.alpha, x[p.offX + i * p.ldX + j], y[at]);
}
