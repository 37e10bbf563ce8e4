// chunk_items: how the chunked flat kernels split n flat indices: workgroup `chunk` (folded,
// wid.x + wid.y·nwg.x) takes WG·items consecutive indices, invocation t of it the p.items from
// (chunk·WG + t)·p.items:
//   item_range(chunk, t, n) = [start, end) as vec2u(start, end), clipped to n (end = start when the
//                             invocation has none)
// Needs the includer's `override WG` and Params field `items`. Used by count_mask,
// first_nonfinite, select_histogram, select_tie_count and select_mask (the last three must chunk
// alike: select_mask ranks ties with select_tie_count's per-chunk counts).

fn item_range(chunk: u32, t: u32, n: u32) -> vec2u {
  let start = (chunk * WG + t) * p.items;
  return vec2u(start, max(start, min(start + p.items, n)));
}
