// workgroup_radix: the k-th smallest of a set of `count` u32 keys, found by one workgroup in
// workgroup memory (row_select.wgsl: a row's scores; select_bracket_check.wgsl: the keys the
// bracket collected). Four radix passes over 8-bit digits, most significant first, each a 256-bin
// histogram of the keys that match the digits found so far:
//   workgroup_radix(t, count, k)   for 1 <= k <= count, leaves in workgroup memory
//     found_prefix = T, the k-th smallest key;   found_rem = how many keys equal to T are selected
//     (the k smallest, ties at T counted in order); found_count = #{ j : key_j == T };
//     found_ties = TIES_ALL when found_rem == found_count, else TIES_RANK
// Keys come from the includer's `fn radix_key(j: u32) -> u32` (j < count; each invocation reads
// j = t, t + WG, …). Call from uniform control flow; it ends with a barrier, after which every
// invocation may read found_*. Needs `override WG` (dividing 256) and lib/select_state.wgsl.

// #include "lib/scan.wgsl"

var<workgroup> radix_hist: array<atomic<u32>, 256>;
var<workgroup> found_prefix: u32; // digits of T found so far
var<workgroup> found_rem: u32; // rank still to find among keys matching found_prefix (1-based)
var<workgroup> found_count: u32;
var<workgroup> found_ties: u32;

fn workgroup_radix(t: u32, count: u32, k: u32) {
  if (t == 0u) {
    found_prefix = 0u;
    found_rem = k;
    found_count = 0u;
    found_ties = TIES_ALL;
  }
  let per = 256u / WG;
  for (var radix_pass = 0u; radix_pass < 4u; radix_pass++) {
    let shift = 24u - 8u * radix_pass;
    for (var b = t; b < 256u; b += WG) {
      atomicStore(&radix_hist[b], 0u);
    }
    workgroupBarrier(); // also publishes found_* from the previous pass
    let high = select(0xffffffffu << (shift + 8u), 0u, radix_pass == 0u);
    let prefix = found_prefix;
    let k_rem = found_rem;
    if (radix_pass == 0u) {
      for (var j = t; j < count; j += WG) {
        atomicAdd(&radix_hist[radix_key(j) >> 24u], 1u);
      }
    } else {
      // only keys that match the prefix count; when keys repeat they mostly share one digit,
      // so runs of equal digits are added with one atomic
      var run_digit = 0u;
      var run_length = 0u;
      for (var j = t; j < count; j += WG) {
        let key = radix_key(j);
        if ((key & high) == prefix) {
          let digit = (key >> shift) & 0xffu;
          if (digit != run_digit && run_length != 0u) {
            atomicAdd(&radix_hist[run_digit], run_length);
            run_length = 0u;
          }
          run_digit = digit;
          run_length++;
        }
      }
      if (run_length != 0u) {
        atomicAdd(&radix_hist[run_digit], run_length);
      }
    }
    workgroupBarrier();
    // the bin d with Σ_{e<d} hist[e] < k_rem ≤ Σ_{e≤d} hist[e]
    var sum = 0u;
    for (var i = 0u; i < per; i++) {
      sum += atomicLoad(&radix_hist[t * per + i]);
    }
    var running = scan_inclusive(t, sum) - sum; // its barriers order the reads of found_* above
    for (var i = 0u; i < per; i++) {
      let c = atomicLoad(&radix_hist[t * per + i]);
      if (k_rem > running && k_rem <= running + c) {
        found_prefix = prefix | ((t * per + i) << shift);
        found_rem = k_rem - running;
        if (radix_pass == 3u) {
          found_count = c;
          found_ties = select(TIES_RANK, TIES_ALL, k_rem - running == c);
        }
      }
      running += c;
    }
    workgroupBarrier(); // everyone is done reading the histogram before the next pass clears it
  }
}
