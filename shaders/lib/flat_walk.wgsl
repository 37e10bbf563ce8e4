// flat_walk: visiting the elements of a [rows, cols] view in flat row-major order, f = row·cols + col,
// as the chunked kernels do (an invocation takes `items` consecutive flat indices):
//   walk_start(f, cols) = (row, col) of flat index f;   walk_next(pos, cols) = the position after pos.
// Positions are vec2u(row, col); the element is at offset + row·ld + col of the includer's view.
// Used by select_histogram, select_tie_count, select_mask and count_mask.

fn walk_start(f: u32, cols: u32) -> vec2u {
  let row = f / cols;
  return vec2u(row, f - row * cols);
}

fn walk_next(pos: vec2u, cols: u32) -> vec2u {
  if (pos.y + 1u == cols) {
    return vec2u(pos.x + 1u, 0u);
  }
  return vec2u(pos.x, pos.y + 1u);
}
