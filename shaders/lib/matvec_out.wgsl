// matvec_out: the epilogue every one-token product (matvec, matvec_vec4, sparse24_matvec,
// sparse24_matvec_vec4, bitmask_matvec) ends with, for output row o and its sum acc:
//   t = acc + bias[o] (HAS_BIAS);  y[yOffset + o] = t (ACCUMULATE false) or y[yOffset + o] + t.
// Uses the bindings `bias` and `y` and p.yOffset of the includer, which reaches it through
// lib/matvec_row_entry.wgsl or lib/matvec_quad_entry.wgsl.

override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;

fn matvec_out(o: u32, acc: f32) {
  var t = acc;
  if (HAS_BIAS) {
    t += bias[o];
  }
  let at = p.yOffset + o;
  if (ACCUMULATE) {
    y[at] = y[at] + t;
  } else {
    y[at] = t;
  }
}
