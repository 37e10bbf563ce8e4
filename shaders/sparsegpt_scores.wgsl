// sparsegpt_scores: SparseGPT's saliency of the weights of one column block, w² / [Hinv]_jj².
//
// Bindings (group 0):
//   #params { rows, count, w_offset, w_ld, u_offset, u_ld, out_offset, out_ld: u32 }
//   #binding w: array<f32>, read           view [rows, count] = W[:, i1:i2]
//   #binding u: array<f32>, read           view [count, count] = Hinv[i1:i2, i1:i2] (upper Cholesky factor of H⁻¹)
//   #binding out: array<f32>, read_write   view [rows, count]
// Math: out[r, j] = w[r, j]² / u[j, j]²  (the OBS error of removing w_rj alone).
// Grid: 2-D, x over count (WG_X per group), y over rows (WG_Y per group).

override WG_X: u32 = 64;
override WG_Y: u32 = 4;

// #include "lib/grid_entry.wgsl"

fn grid_item(r: u32, j: u32) {
  if (r >= p.rows || j >= p.count) {
    return;
  }
  let x = w[p.w_offset + r * p.w_ld + j];
  let d = u[p.u_offset + j * p.u_ld + j];
  out[p.out_offset + r * p.out_ld + j] = (x * x) / (d * d);
}
