// count_mask: counter[0] += #{ (i, j) : mask_ij != 0 } (countMask; the caller clears the counter
// first unless it accumulates).
//
// Bindings (group 0):
//   #params { count, cols, offset, ld, items: u32 }   (count = rows*cols)
//   #binding mask: array<u32>, read                 element (i, j) at offset + i*ld + j
//   #binding counter: array<atomic<u32>>, read_write   [1]
// Grid: one workgroup per chunk of WG*items consecutive flat (row-major) indices, folded into y
//   (chunk = wid.x + wid.y * nwg.x); a workgroup total, then one atomic add per workgroup. An
//   invocation loops items + 1 times (capped by the caller within llvmpipe's loop budget).

override WG: u32 = 256;

// #include "lib/flat_walk.wgsl"
// #include "lib/chunk_items.wgsl"
// #include "lib/workgroup_count.wgsl"

// #include "lib/chunk_entry.wgsl"

fn chunk_item(chunk: u32, t: u32) {
  let range = item_range(chunk, t, p.count);
  var pos = row_col(range.x, p.cols);
  var mine = 0u;
  for (var f = range.x; f < range.y; f++) {
    if (mask[view_at(p.offset, p.ld, pos)] != 0u) {
      mine++;
    }
    pos = walk_next(pos, p.cols);
  }
  let c = workgroup_count(t, mine);
  if (t == 0u && c != 0u) {
    atomicAdd(&counter[0], c);
  }
}
