// copy_strided: dst[i, j] = src[offS + i·sI + j·sJ] for every element of a rows x cols window — a
// plain copy of a view (sI = ld, sJ = 1), a transposed copy (sI = 1, sJ = ld) or a copy with rows
// and columns reversed (negative strides). The one copy kernel of the project (copyView and
// copyStrided in thanos/linalg/elementwise.ts).
//
// Bindings (group 0):
//   #params { rows, cols: u32, offS, sI, sJ: i32, offD, ldD: u32 }
//   #binding src: array<f32>, read         any element the strides reach (the caller checks they lie inside)
//   #binding dst: array<f32>, read_write   [rows, cols] window at offD with leading dimension ldD
// Grid: 1-D over rows·cols (row-major, so consecutive invocations write consecutive elements),
//   workgroup size WG, folded into y past 65535 groups (linear index = gid.x + gid.y · nwg.x · WG).

override WG: u32 = 256;

// #include "lib/flat_entry.wgsl"

fn flat_item(e: u32) {
  if (e >= p.rows * p.cols) {
    return;
  }
  let ij = row_col(e, p.cols);
  dst[view_at(p.offD, p.ldD, ij)] = src[u32(p.offS + i32(ij.x) * p.sI + i32(ij.y) * p.sJ)];
}
