// sparse24_matvec_vec4: y = W·x (+ b) for one token from a 2:4-sparse weight stored without its zeros,
// reading its kept values four at a time (two groups of 4 columns per vec4) and x one group per vec4 —
// the decode step's 2:4 product when cols is a multiple of 8 and xOffset a multiple of 4.
//
// llvmpipe loads storage lane by lane, so load instructions bound the product (see
// matvec_vec4.wgsl): per 8 columns of a row this reads 1 vec4 of values, 1/4 of an index word and
// (shared by the 4 rows of an invocation) 2 vec4s of x — 1.75 loads against the dense kernel's 2.5.
//
// Bindings (group 0):
//   #params { rows, cols, xOffset4, yOffset: u32 }
//   #binding values: array<vec4<f32>>, read [rows, cols/8]: the 2 kept values of every group of 4 columns,
//                                   row-major (compressed-tensors' `<m>.compressed`), two groups a vec4
//   #binding index: array<u32>, read      [rows, ceil(cols/32)]: 4 bits per group, 8 groups per word
//                                   (lib/sparse_groups.wgsl: nibbleOf, kept24)
//   #binding x: array<vec4<f32>>, read    [cols/4] at xOffset4 (in vec4s)
//   #binding bias: array<f32>, read       [rows] (read only when HAS_BIAS)
//   #binding y: array<f32>, read_write    [rows] at yOffset
// Math: for o < rows, acc = Σ_g values[o, 2g]·x[4g + i0(o, g)] + values[o, 2g+1]·x[4g + i1(o, g)]
//   (one partial sum per vec4 lane of values, added as (s.x + s.y) + (s.z + s.w)); t = acc + bias[o]
//   (HAS_BIAS); y[o] = t (ACCUMULATE false) or y[o] + t (ACCUMULATE true).
// Grid: 1-D over ceil(rows / 4) row groups, workgroup size WG, folded into y past 65535 groups
//   (linear index = gid.x + gid.y * nwg.x * WG). An invocation loops cols/8 + 4 times. cols % 8 == 0.
// Reference: tests/reference/sparse.ts `sparse24Matvec` (the same math as sparse24_matvec.wgsl).

override WG: u32 = 64;

// #include "lib/matvec_quad_entry.wgsl"

// #include "lib/sparse_groups.wgsl"

/** The row's 2 groups (2t, 2t + 1) against x's groups xa, xb: its 4 kept values times their inputs. */
fn pairTerms(v: vec4<f32>, word: u32, t: u32, xa: vec4<f32>, xb: vec4<f32>) -> vec4<f32> {
  let ka = kept24(nibbleOf(word, 2u * t));
  let kb = kept24(nibbleOf(word, 2u * t + 1u));
  return v * vec4<f32>(xa[ka.x], xa[ka.y], xb[kb.x], xb[kb.y]);
}

// rows o0 .. o0+3 (past `last`, row `last` again): each row's 4 lane-partial sums
fn matvec_rows(o0: u32, last: u32) -> array<vec4<f32>, 4> {
  let pairs = p.cols / 8u;
  let words = (p.cols / 4u + 7u) / 8u;
  let o1 = min(o0 + 1u, last);
  let o2 = min(o0 + 2u, last);
  let o3 = min(o0 + 3u, last);
  var s0 = vec4<f32>(0.0);
  var s1 = vec4<f32>(0.0);
  var s2 = vec4<f32>(0.0);
  var s3 = vec4<f32>(0.0);
  var w0 = 0u;
  var w1 = 0u;
  var w2 = 0u;
  var w3 = 0u;
  for (var t = 0u; t < pairs; t++) {
    if ((t & 3u) == 0u) { //                                     a word holds 8 groups: 4 pairs
      w0 = index[o0 * words + t / 4u];
      w1 = index[o1 * words + t / 4u];
      w2 = index[o2 * words + t / 4u];
      w3 = index[o3 * words + t / 4u];
    }
    let xa = x[p.xOffset4 + 2u * t];
    let xb = x[p.xOffset4 + 2u * t + 1u];
    s0 += pairTerms(values[o0 * pairs + t], w0, t & 3u, xa, xb);
    s1 += pairTerms(values[o1 * pairs + t], w1, t & 3u, xa, xb);
    s2 += pairTerms(values[o2 * pairs + t], w2, t & 3u, xa, xb);
    s3 += pairTerms(values[o3 * pairs + t], w3, t & 3u, xa, xb);
  }
  return array<vec4<f32>, 4>(s0, s1, s2, s3);
}
