// matvec_quad_entry: the entry point of the one-token products that form 4 rows' sums per
// invocation (matvec_vec4, sparse24_matvec_vec4): one invocation per 4 output rows o0 .. o0+3
// (lib/flat_entry.wgsl). The includer's `matvec_rows(o0, last) -> array<vec4<f32>, 4>` returns
// each row's 4 lane-partial sums s_r, rows past `last` = rows − 1 repeating row `last` (computed,
// then dropped: no branch in the includer's loop); they are reduced here in the fixed order
// (s.x + s.y) + (s.z + s.w) and each row in range ends with matvec_out (lib/matvec_out.wgsl).

// #include "lib/flat_entry.wgsl"
// #include "lib/matvec_out.wgsl"

fn flat_item(i: u32) {
  let o0 = i * 4u;
  if (o0 >= p.rows) {
    return;
  }
  let last = p.rows - 1u;
  let s = matvec_rows(o0, last);
  let sums = vec4<f32>(
    (s[0].x + s[0].y) + (s[0].z + s[0].w),
    (s[1].x + s[1].y) + (s[1].z + s[1].w),
    (s[2].x + s[2].y) + (s[2].z + s[2].w),
    (s[3].x + s[3].y) + (s[3].z + s[3].w),
  );
  for (var r = 0u; r < 4u; r++) {
    let o = o0 + r;
    if (o > last) {
      break;
    }
    matvec_out(o, sums[r]);
  }
}
