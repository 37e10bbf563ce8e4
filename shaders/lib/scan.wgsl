// scan: inclusive prefix sum of one u32 per invocation over a workgroup of WG invocations
// (Hillis–Steele with ping-pong buffers: log2(WG) steps, one barrier each).
//   scan_inclusive(t, v) = Σ_{t' ≤ t} v_t'
// Needs the includer's `override WG: u32` (a power of two); t is local_invocation_index. Call
// from uniform control flow: every invocation of the workgroup must reach it.

var<workgroup> scan_scratch: array<u32, 2 * WG>;

fn scan_inclusive(t: u32, v: u32) -> u32 {
  var src = 0u;
  scan_scratch[t] = v;
  workgroupBarrier();
  for (var d = 1u; d < WG; d <<= 1u) {
    var x = scan_scratch[src + t];
    if (t >= d) {
      x += scan_scratch[src + t - d];
    }
    src = WG - src;
    scan_scratch[src + t] = x;
    workgroupBarrier();
  }
  return scan_scratch[src + t];
}
