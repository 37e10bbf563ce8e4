// copy_strided: dst[i, j] = src[offS + i·sI + j·sJ] for a rows x cols window — a plain copy, a
// transposed copy (sI = 1, sJ = ld) or a copy with rows and columns reversed (negative strides).
//
// Bindings (group 0):
//   0  uniform Params { rows, cols: u32, offS, sI, sJ: i32, offD, ldD: u32 }
//   1  src: array<f32>, read         any element the strides reach
//   2  dst: array<f32>, read_write   [rows, cols] window at offD with leading dimension ldD
// Grid: (ceil(cols / WG_X), ceil(rows / WG_Y)) workgroups of WG_X x WG_Y; one element each.

override WG_X: u32 = 16;
override WG_Y: u32 = 16;

struct Params {
  rows: u32,
  cols: u32,
  offS: i32,
  sI: i32,
  sJ: i32,
  offD: u32,
  ldD: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.y;
  let j = gid.x;
  if (i >= p.rows || j >= p.cols) {
    return;
  }
  dst[p.offD + i * p.ldD + j] = src[u32(p.offS + i32(i) * p.sI + i32(j) * p.sJ)];
}
