// upper_tiles: numbering of the tiles on and above the diagonal of a symmetric result, so that a
// SYMMETRIC product launches one workgroup per such tile (T·(T+1)/2 of a T x T tile grid):
//   triangle(T) = T·(T+1)/2;   upperTile(t) = (column, row) of the t-th tile, column by column,
//   row ≤ column;   ceilDiv(x, y) = ⌈x / y⌉.
// Used by the matmul kernels (through lib/matmul_params.wgsl's product_tile) and syrk.wgsl (which
// numbers the tiles on or below the diagonal row by row: upperTile(t).yx).

fn ceilDiv(x: u32, y: u32) -> u32 {
  return (x + y - 1u) / y;
}

fn triangle(T: u32) -> u32 {
  return T * (T + 1u) / 2u;
}

// the t-th tile on or above the diagonal, numbered column by column: (column, row) with row ≤ column
fn upperTile(t: u32) -> vec2u {
  var col = u32((sqrt(8.0 * f32(t) + 1.0) - 1.0) * 0.5);
  while (triangle(col + 1u) <= t) {
    col++;
  }
  while (triangle(col) > t) {
    col--;
  }
  return vec2u(col, t - triangle(col));
}
