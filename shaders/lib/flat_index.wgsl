// flat_index: the element an invocation of a 1-D launch owns, and where an element of a strided
// view lives. 1-D launches fold their workgroups into y past 65535 (grid1d in thanos/gpu/launch.ts):
//   flat_id(gid, nwg)      = gid.x + gid.y·nwg.x·WG   (the includer's `override WG`)
//   row_col(f, cols)       = vec2u(f / cols, f mod cols): (row, column) of flat index f of a
//                            row-major [rows, cols] range
//   view_at(offset, ld, e) = offset + e.x·ld + e.y: where element e = (row, column) of a view with
//                            that offset and leading dimension lives in its buffer

fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

fn row_col(f: u32, cols: u32) -> vec2u {
  let row = f / cols;
  return vec2u(row, f - row * cols);
}

fn view_at(offset: u32, ld: u32, e: vec2u) -> u32 {
  return offset + e.x * ld + e.y;
}
