// scale: x[i, j] *= alpha for every element of a rows x cols window.
//
// Bindings (group 0):
//   0  uniform Params { rows, cols, off, ld: u32, alpha: f32 }
//   1  x: array<f32>, read_write   [rows, cols] window at off with leading dimension ld
// Grid: 1-D over rows·cols (row-major), workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y · nwg.x · WG).

override WG: u32 = 256;

struct Params {
  rows: u32,
  cols: u32,
  off: u32,
  ld: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;

// #include "lib/flat_index.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = flat_id(gid, nwg);
  if (e >= p.rows * p.cols) {
    return;
  }
  let at = view_at(p.off, p.ld, row_col(e, p.cols));
  x[at] = p.alpha * x[at];
}
