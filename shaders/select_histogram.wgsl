// select_histogram: one radix pass of the global exact k-smallest selection (kSmallestMask,
// step 2 of 6, run for radix_pass = 0, 1, 2, 3 with shift = 24, 16, 8, 0).
//
// Every element of the scores view whose order key agrees with state[PREFIX] on the bits above
// `shift + 8` adds 1 to bin (key >> shift) & 255 of histogram `radix_pass`:
//   hist[radix_pass][d] += #{ f : key_f >> (shift + 8) == PREFIX >> (shift + 8), (key_f >> shift) & 255 == d }
// Order key: lib/order_key.wgsl (numeric order, −0 ties with +0, NaN after +Inf).
//
// Bindings (group 0):
//   #params { n, cols, offset, ld, items, radix_pass, shift: u32 }
//   #binding scores: array<u32>, read         f32 bits; element (i, j) of the view at offset + i*ld + j
//   #binding state: array<u32>, read         [8] (lib/select_state.wgsl)
//   #binding hist: array<atomic<u32>>, read_write   [4 * 256]
// Grid: one workgroup per chunk of WG*items consecutive flat (row-major) indices, folded into y
//   (chunk = wid.x + wid.y * nwg.x); invocation t takes the `items` indices from (chunk*WG + t)*items.
//   Counts gather in a workgroup histogram, then one atomic per non-empty bin. (Large chunks keep
//   the per-workgroup cost — zeroing the workgroup histogram — small next to the data; the caller
//   caps `items` so that select_mask's two walks stay within llvmpipe's loop budget, see
//   chunkItems in thanos/linalg/select.ts.)

override WG: u32 = 256;

// #include "lib/select_state.wgsl"

var<workgroup> local_hist: array<atomic<u32>, 256>;

// #include "lib/select_walk.wgsl"

// #include "lib/chunk_entry.wgsl"

fn chunk_item(chunk: u32, t: u32) {
  for (var b = t; b < 256u; b += WG) {
    atomicStore(&local_hist[b], 0u);
  }
  workgroupBarrier();

  let range = item_range(chunk, t, p.n);
  // keys that agree with the prefix on the bits above this pass's digit (none fixed in pass 0)
  let high = select(0xffffffffu << (p.shift + 8u), 0u, p.shift >= 24u);
  let prefix = state[PREFIX] & high;
  var pos = row_col(range.x, p.cols);
  if (p.shift >= 24u) {
    // first pass: every element counts
    for (var f = range.x; f < range.y; f++) {
      atomicAdd(&local_hist[view_key(pos) >> 24u], 1u);
      pos = walk_next(pos, p.cols);
    }
  } else {
    // later passes: only the elements that match the prefix count, and when scores repeat they
    // mostly share one digit, so runs of equal digits are added with one atomic
    var run_digit = 0u;
    var run_length = 0u;
    for (var f = range.x; f < range.y; f++) {
      let key = view_key(pos);
      if ((key & high) == prefix) {
        let digit = (key >> p.shift) & 0xffu;
        if (digit != run_digit && run_length != 0u) {
          atomicAdd(&local_hist[run_digit], run_length);
          run_length = 0u;
        }
        run_digit = digit;
        run_length++;
      }
      pos = walk_next(pos, p.cols);
    }
    if (run_length != 0u) {
      atomicAdd(&local_hist[run_digit], run_length);
    }
  }
  workgroupBarrier();

  for (var b = t; b < 256u; b += WG) {
    let c = atomicLoad(&local_hist[b]);
    if (c != 0u) {
      atomicAdd(&hist[p.radix_pass * 256u + b], c);
    }
  }
}
