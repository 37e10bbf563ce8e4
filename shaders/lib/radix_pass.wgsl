// radix_pass: what the two kernels of one radix pass share (select_histogram.wgsl reading the
// scores one at a time, select_histogram_vec4.wgsl four at a time):
//   radix_clear(t)                     zeroes the workgroup histogram, then a barrier
//   radix_high()                       the key bits above this pass's digit (none in pass 0)
//   count_matching(key, high, prefix)  counts key's digit when key agrees with the prefix on `high`;
//                                      keys of one digit in a row are one run, added with one atomic
//                                      (when scores repeat they mostly share a digit)
//   end_run()                          adds the open run (call once, after the last key)
//   radix_flush(t)                     a barrier, then adds the workgroup histogram to hist[radix_pass]
//   radix_skipped(t)                   whether select_bracket_check already found the threshold among
//                                      the bracket's keys (state[MODE] == MODE_CANDIDATES): the pass
//                                      then has nothing to count (uniform across the workgroup)
// Needs the includer's Params `p` (shift, radix_pass), bindings `state` and `hist` and
// `override WG`; radix_skipped, radix_clear and radix_flush from uniform control flow.

var<workgroup> local_hist: array<atomic<u32>, 256>;
var<private> run_digit: u32;
var<workgroup> radix_mode: u32;
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

fn radix_skipped(t: u32) -> bool {
  if (t == 0u) {
    radix_mode = state[MODE];
  }
  return workgroupUniformLoad(&radix_mode) == MODE_CANDIDATES;
}
