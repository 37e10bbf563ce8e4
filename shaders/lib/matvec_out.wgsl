// matvec_out: the epilogue every one-token product (matvec, matvec_vec4, sparse24_matvec,
// sparse24_matvec_vec4, bitmask_matvec) ends with, for output row o and its sum acc:
//   t = acc + bias[o] (HAS_BIAS);  y[yOffset + o] = t (ACCUMULATE false) or y[yOffset + o] + t.
// Uses the includer's `override HAS_BIAS`, `override ACCUMULATE`, bindings `bias` and `y`, and `p.yOffset`.

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
