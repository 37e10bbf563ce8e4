// copy_view: dst[i, j] = src[i, j] for every element of a rows x cols window.
//
// Bindings (group 0):
//   0  uniform Params { rows, cols, offSrc, ldSrc, offDst, ldDst: u32 }
//   1  src: array<f32>, read         [rows, cols] window at offSrc with leading dimension ldSrc
//   2  dst: array<f32>, read_write   [rows, cols] window at offDst with leading dimension ldDst
// Grid: 1-D over rows·cols (row-major), workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y · nwg.x · WG).

override WG: u32 = 256;

struct Params {
  rows: u32,
  cols: u32,
  offSrc: u32,
  ldSrc: u32,
  offDst: u32,
  ldDst: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= p.rows * p.cols) {
    return;
  }
  let i = e / p.cols;
  let j = e - i * p.cols;
  dst[p.offDst + i * p.ldDst + j] = src[p.offSrc + i * p.ldSrc + j];
}
