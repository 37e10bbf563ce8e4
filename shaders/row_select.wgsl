// row_select: in every row of a scores view, exactly k elements selected — the k smallest, ties
// broken by the lower column index (rowKSmallestMask).
//   mask_ij = 1  iff  #{ j' : key_ij' < key_ij  or  (key_ij' == key_ij and j' < j) } < k
// Order key: lib/order_key.wgsl (numeric order, −0 ties with +0, NaN after +Inf).
//
// Method (one row at a time per workgroup, everything in workgroup memory): four radix passes over 8-bit
// digits of the key, most significant first, each a 256-bin histogram of the keys that match the
// digits found so far, narrow down the k-th smallest key T and how many elements equal to T are
// selected (r) (lib/workgroup_radix.wgsl). Then mask = key < T, plus the first r elements equal to T in column order (a
// workgroup prefix sum over contiguous column segments); when all of them are taken, key <= T.
//
// Bindings (group 0):
//   #params { rows, cols, k, offset, ld, mask_offset, mask_ld: u32 }
//   #binding scores: array<u32>, read         f32 bits; element (i, j) at offset + i*ld + j
//   #binding mask: array<u32>, read_write   element (i, j) at mask_offset + i*mask_ld + j
// Grid: any number G of workgroups of WG invocations (WG divides 256), in x and y; workgroup
//   g = wid.x + wid.y * nwg.x takes rows g, g + G, g + 2G, … (few workgroups suit software
//   adapters, where each one's setup is costly; one per row suits a GPU). A row costs an
//   invocation ~6·cols/WG + 104 loop iterations, and llvmpipe silently ends an invocation after
//   65535: the caller launches enough workgroups that none takes more rows than that allows
//   (rowSelectWorkgroups in thanos/linalg/select.ts).

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

// #include "lib/order_key.wgsl"

// #include "lib/workgroup_radix.wgsl"

var<private> row_src: u32;

fn radix_key(j: u32) -> u32 {
  return order_key(scores[row_src + j]);
}

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_index) t: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let groups = nwg.x * nwg.y;
  for (var row = wid.x + wid.y * nwg.x; row < p.rows; row += groups) {
    workgroupBarrier(); // the previous row is finished with found_* and the histogram
    select_row(t, row);
  }
}

fn select_row(t: u32, row: u32) {
  let src = p.offset + row * p.ld;
  let dst = p.mask_offset + row * p.mask_ld;
  if (p.k == 0u || p.k >= p.cols) {
    let v = select(0u, 1u, p.k != 0u);
    for (var j = t; j < p.cols; j += WG) {
      mask[dst + j] = v;
    }
    return;
  }

  row_src = src;
  workgroup_radix(t, p.cols, p.k);
  let ties = workgroupUniformLoad(&found_ties); // its barrier publishes found_prefix, found_rem
  let threshold = found_prefix;
  let take = found_rem;

  if (ties == TIES_ALL) {
    for (var j = t; j < p.cols; j += WG) {
      mask[dst + j] = select(0u, 1u, order_key(scores[src + j]) <= threshold);
    }
    return;
  }
  // some ties only: invocation t owns columns [j0, j1) so that ranks follow column order
  let seg = (p.cols + WG - 1u) / WG;
  let j0 = min(t * seg, p.cols);
  let j1 = min(j0 + seg, p.cols);
  var mine = 0u;
  for (var j = j0; j < j1; j++) {
    if (order_key(scores[src + j]) == threshold) {
      mine++;
    }
  }
  var rank = scan_inclusive(t, mine) - mine;
  for (var j = j0; j < j1; j++) {
    let key = order_key(scores[src + j]);
    var selected = key < threshold;
    if (key == threshold) {
      selected = rank < take;
      rank++;
    }
    mask[dst + j] = select(0u, 1u, selected);
  }
}
