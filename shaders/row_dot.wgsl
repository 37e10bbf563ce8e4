// row_dot: per-row inner products of two equally shaped views, and per-row counts of non-finite
//   values of the first view, over one range of columns per dispatch (the caller splits long rows
//   under llvmpipe's 65535-iterations-per-invocation limit and accumulates).
//
// Bindings (group 0):
//   #params { rows, a_offset, a_ld, b_offset, b_ld, col_begin, col_end, accumulate: u32 }
//   #binding a: array<f32>, read           view [rows, cols]
//   #binding b: array<f32>, read           view [rows, cols]
//   #binding dots: array<f32>, read_write  [rows]  dots[r] (+)= Σ_{j in range} a[r, j]·b[r, j]
//   #binding bad: array<u32>, read_write   [rows]  bad[r] (+)= #{ j in range : a[r, j] is NaN or ±Inf }
// Math: the reconstruction error ‖ΔW·Xᵀ‖² = tr(ΔW·H·ΔWᵀ)·n/2 is Σ_r row_dot(ΔW·H, ΔW)[r]; the caller
//   sums the rows in float64. Non-finite values are detected from the bits (fast-math safe).
// Grid: 1-D over rows (one invocation per row), workgroup size WG, folded into y past 65535 groups.

override WG: u32 = 64;

// #include "lib/flat_entry.wgsl"

fn flat_item(r: u32) {
  if (r >= p.rows) {
    return;
  }
  var s = 0.0;
  var c = 0.0; // Kahan compensation: rows can be thousands of columns long
  var n = 0u;
  for (var j = p.col_begin; j < p.col_end; j++) {
    let x = a[p.a_offset + r * p.a_ld + j];
    if ((bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u) {
      n++;
    }
    let y = x * b[p.b_offset + r * p.b_ld + j] - c;
    let t = s + y;
    c = (t - s) - y;
    s = t;
  }
  if (p.accumulate != 0u) {
    dots[r] += s;
    bad[r] += n;
  } else {
    dots[r] = s;
    bad[r] = n;
  }
}
