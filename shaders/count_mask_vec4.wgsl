// count_mask_vec4: count_mask.wgsl reading the mask four elements at a time, for views whose
// offset, leading dimension and columns are multiples of 4 (countMask chooses it; its chunks then
// hold multiples of 4): counter[0] += #{ (i, j) : mask_ij != 0 }. llvmpipe loads storage lane by
// lane, so a quarter of the loads.
//
// Bindings (group 0):
//   #params { count, cols, offset, ld, items: u32 }   (in elements, as count_mask.wgsl)
//   #binding mask: array<vec4u>, read                 element (i, j) at offset + i*ld + j
//   #binding counter: array<atomic<u32>>, read_write   [1]
// Grid: as count_mask.wgsl (items a multiple of 4).

override WG: u32 = 256;

// #include "lib/flat_walk.wgsl"
// #include "lib/chunk_items.wgsl"
// #include "lib/workgroup_count.wgsl"

// #include "lib/chunk_entry.wgsl"

fn chunk_item(chunk: u32, t: u32) {
  let range = item_range(chunk, t, p.count);
  var pos = row_col(range.x, p.cols);
  var mine = vec4u(0u);
  for (var f = range.x; f < range.y; f += 4u) {
    mine += select(vec4u(0u), vec4u(1u), mask[view_at(p.offset, p.ld, pos) / 4u] != vec4u(0u));
    pos = walk_next4(pos, p.cols);
  }
  let c = workgroup_count(t, mine.x + mine.y + mine.z + mine.w);
  if (t == 0u && c != 0u) {
    atomicAdd(&counter[0], c);
  }
}
