// flat_walk: visiting the elements of a [rows, cols] view in flat row-major order, f = row·cols + col,
// as the chunked kernels do (an invocation takes `items` consecutive flat indices):
//   row_col(f, cols) = (row, col) of flat index f (lib/flat_index.wgsl);
//   walk_next(pos, cols) = the position after pos;
//   walk_next4(pos, cols) = the position four on, for rows of whole vec4s (cols and pos.y multiples
//                          of 4: the vec4 kernels' walks).
// Positions are vec2u(row, col); the element is at view_at(offset, ld, pos) of the includer's view.
// Used by count_mask.wgsl and, through lib/select_walk.wgsl, the global k-smallest steps.

// #include "lib/flat_index.wgsl"

fn walk_next(pos: vec2u, cols: u32) -> vec2u {
  if (pos.y + 1u == cols) {
    return vec2u(pos.x + 1u, 0u);
  }
  return vec2u(pos.x, pos.y + 1u);
}

fn walk_next4(pos: vec2u, cols: u32) -> vec2u {
  if (pos.y + 4u == cols) {
    return vec2u(pos.x + 1u, 0u);
  }
  return vec2u(pos.x, pos.y + 4u);
}
