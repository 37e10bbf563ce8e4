// col_sums_weighted: out_j = norms[j] · Σ_{i : row_mask[i] == 0} w_ij²  (colSumsWeighted; Thanos's
// structured column metric over the non-outlier rows; with use_row_mask = 0 every row counts).
//
// Bindings (group 0):
//   #params { rows, cols, offset, ld, use_row_mask: u32 }
//   #binding w: array<f32>, read         element (i, j) at offset + i*ld + j
//   #binding norms: array<f32>, read         [cols]
//   #binding row_mask: array<u32>, read         [rows] 1 = row excluded (read only when use_row_mask != 0)
//   #binding out: array<f32>, read_write   [cols]
// Grid: one workgroup of WGX x WGY invocations (WGY a power of two) per WGX columns, folded into y
//   (block = wid.x + wid.y * nwg.x); invocation (x, y) sums rows y, y + WGY, … of column
//   block*WGX + x, then the WGY partial sums are reduced in workgroup memory.

override WGX: u32 = 64;
override WGY: u32 = 4;

var<workgroup> partial: array<f32, WGX * WGY>;

@compute @workgroup_size(WGX, WGY)
fn main(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let block = wid.x + wid.y * nwg.x;
  let col = block * WGX + lid.x;
  var sum = 0.0;
  if (col < p.cols) {
    for (var i = lid.y; i < p.rows; i += WGY) {
      if (p.use_row_mask == 0u || row_mask[i] == 0u) {
        let x = w[p.offset + i * p.ld + col];
        sum += x * x;
      }
    }
  }
  partial[lid.y * WGX + lid.x] = sum;
  workgroupBarrier();
  for (var s = WGY / 2u; s > 0u; s >>= 1u) {
    if (lid.y < s) {
      partial[lid.y * WGX + lid.x] += partial[(lid.y + s) * WGX + lid.x];
    }
    workgroupBarrier();
  }
  if (lid.y == 0u && col < p.cols) {
    out[col] = norms[col] * partial[lid.x];
  }
}
