// radix_pass: the body of one radix pass, shared by select_histogram.wgsl (reading the scores one
// at a time) and select_histogram_vec4.wgsl (four at a time), which differ only in their walk:
//   chunk_item(chunk, t)               the kernel (not launched once select_bracket_check found the
//                                      threshold among the bracket's keys: lib/select_state.wgsl's
//                                      indirect arguments): zeroes the workgroup histogram, calls the
//                                      includer's
//                                      `walk_range(range, high, prefix)` over the invocation's
//                                      flat range, then adds the histogram to hist[radix_pass]
//   count_matching(key, high, prefix)  (for walk_range) counts key's digit when key agrees with the
//                                      prefix on `high` (none in pass 0); keys of one digit in a row
//                                      are one run, added with one atomic (when scores repeat they
//                                      mostly share a digit)
//   end_run()                          (for walk_range) adds the open run, once after the last key
// Needs the includer's Params `p` (n, items, shift, radix_pass), bindings `state` and `hist`,
// `override WG` and lib/select_state.wgsl.

// #include "lib/chunk_items.wgsl"
// #include "lib/chunk_entry.wgsl"

var<workgroup> local_hist: array<atomic<u32>, 256>;
var<private> run_digit: u32;
var<private> run_length: u32;

fn radix_clear(t: u32) {
  for (var b = t; b < 256u; b += WG) {
    atomicStore(&local_hist[b], 0u);
  }
  run_digit = 0u;
  run_length = 0u;
  workgroupBarrier();
}

fn radix_high() -> u32 {
  return select(0xffffffffu << (p.shift + 8u), 0u, p.shift >= 24u);
}

fn count_matching(key: u32, high: u32, prefix: u32) {
  if ((key & high) == prefix) {
    let digit = (key >> p.shift) & 0xffu;
    if (digit != run_digit && run_length != 0u) {
      atomicAdd(&local_hist[run_digit], run_length);
      run_length = 0u;
    }
    run_digit = digit;
    run_length++;
  }
}

fn end_run() {
  if (run_length != 0u) {
    atomicAdd(&local_hist[run_digit], run_length);
  }
}

fn radix_flush(t: u32) {
  workgroupBarrier();
  for (var b = t; b < 256u; b += WG) {
    let c = atomicLoad(&local_hist[b]);
    if (c != 0u) {
      atomicAdd(&hist[p.radix_pass * 256u + b], c);
    }
  }
}


fn chunk_item(chunk: u32, t: u32) {
  radix_clear(t);
  let high = radix_high();
  walk_range(item_range(chunk, t, p.n), high, state[PREFIX] & high);
  radix_flush(t);
}
