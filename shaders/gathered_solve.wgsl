// gathered_solve: many small SPD solves, one per row r, each on a principal submatrix of one
// shared SPD matrix A:
//   A[q_r, q_r]·λ_r = b_r,   q_r = idx[r, 0..n_r),  n_r = counts[r] (or one count for all rows)
//   λ[r, 0..n_r) = the solution, λ[r, n_r..maxQ) = 0
// by Cholesky G = A[q_r, q_r] = L·Lᵀ, then L·y = b and Lᵀ·λ = y.
//
// One invocation per row (no barriers, no workgroup memory): on CPU-emulated adapters a barrier
// costs a context switch per 8 invocations, while independent rows map onto SIMD lanes that run one
// instruction stream on neighbouring addresses. Within a row everything works on 4 x 4 tiles held
// in registers (left-looking blocked Cholesky by 4-column blocks, blocked triangular solves), so
// each step loads two vec4s for 16 multiply-adds. G is padded to nq = ceil(n/4) blocks with the
// identity (L stays the identity there and the padded λ are 0).
//
// scratch (vec4 words, interleaved across the `slots` rows of the dispatch: word w of slot s at
// w·slots + s, so the lanes of a SIMD group or warp touch neighbouring words):
//   L: column j holds the row blocks g = j/4 .. Mq−1 (Mq = ceil(maxQ/4)) from colStart(j)
//      (colStart(j) = Σ_{c<j} (Mq − c/4)), 2·Mq·(Mq+1) words; then y/λ: Mq words.
//
// The work of a row is split into phases that the host may spread over several dispatches (state
// stays in scratch): column blocks kg0 ≤ kg < kg1, forward solve (if p.forward), backward solve and
// output (if p.backward). Mesa's llvmpipe silently ends any invocation after 65535 loop
// iterations in total, so the host keeps each dispatch under that (see solve.ts).
//
// A pivot that is not > 0 (NaN included) is reported to the status buffer with key r·256 + j
// under op `op` (thanos/linalg/status.ts); that row's λ is then not meaningful.
//
// Bindings (group 0):
//   0  uniform Params { rows, row0, slots, maxQ, offA, ldA, count, op, kg0, kg1, forward,
//                       backward: u32 }   (count = 0xffffffff: read counts[r])
//   1  a: array<f32>, read                   [m, m] window at offA, leading dimension ldA
//   2  idx: array<u32>, read                 [rows, maxQ]
//   3  counts: array<u32>, read              [rows] (unused when count != 0xffffffff)
//   4  rhs: array<f32>, read                 [rows, maxQ]
//   5  out: array<f32>, read_write           [rows, maxQ]: λ
//   6  scratch: array<vec4f>, read_write     [2·Mq·(Mq+1) + Mq, slots]
//   7  status: array<atomic<u32>>, read_write [4]
// Grid: 1-D over the slots of this dispatch (rows row0 .. row0+slots), WG per workgroup, folded
//   into y past 65535 groups.

override WG: u32 = 64;

struct Params {
  rows: u32,
  row0: u32,
  slots: u32,
  maxQ: u32,
  offA: u32,
  ldA: u32,
  count: u32,
  op: u32,
  kg0: u32,
  kg1: u32,
  forward: u32,
  backward: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read> counts: array<u32>;
@group(0) @binding(4) var<storage, read> rhs: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> scratch: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> status: array<atomic<u32>>;

var<private> slot: u32; // this invocation's slot in the dispatch
var<private> row: u32; //  its row
var<private> n: u32; //    its count n_r
var<private> mq: u32; //   Mq = ceil(maxQ / 4)

// #include "lib/status.wgsl"

// scratch index of the vec4 L[4g .. 4g+3, j] (g ≥ j/4)
fn lAt(j: u32, g: u32) -> u32 {
  let jg = j / 4u;
  let colStart = 4u * jg * mq - 2u * jg * (jg - 1u) + (j % 4u) * (mq - jg); // jg·(jg−1) wraps to 0 at jg = 0
  return (colStart + g - jg) * p.slots + slot;
}

// scratch index of block g of y (then λ)
fn yAt(g: u32) -> u32 {
  return (2u * mq * (mq + 1u) + g) * p.slots + slot;
}

// q_i, or past n a marker that selects the identity padding
fn q(i: u32) -> u32 {
  if (i < n) {
    return idx[row * p.maxQ + i];
  }
  return 0xffffffffu;
}

// G[i, j] = A[q_i, q_j], the identity past n
fn g(qi: u32, qj: u32, same: bool) -> f32 {
  if (qi == 0xffffffffu || qj == 0xffffffffu) {
    return select(0.0, 1.0, same);
  }
  return a[p.offA + qi * p.ldA + qj];
}

// column c (rows 4ig .. 4ig+3) of the tile G[4ig.., 4kg..]
fn gatherColumn(qr: vec4u, qc: u32, rowBase: u32, col: u32) -> vec4f {
  return vec4f(
    g(qr.x, qc, rowBase == col),
    g(qr.y, qc, rowBase + 1u == col),
    g(qr.z, qc, rowBase + 2u == col),
    g(qr.w, qc, rowBase + 3u == col),
  );
}

fn checkPivot(j: u32, pivot: f32) {
  if (!(pivot > 0.0) && j < n) {
    report(row * 256u + j, pivot);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  slot = gid.x + gid.y * nwg.x * WG;
  row = p.row0 + slot;
  if (slot >= p.slots || row >= p.rows) {
    return;
  }
  n = p.count;
  if (n == 0xffffffffu) {
    n = counts[row];
  }
  n = min(n, p.maxQ);
  mq = (p.maxQ + 3u) / 4u;
  let nq = (n + 3u) / 4u;
  let base = row * p.maxQ;

  // left-looking Cholesky by 4-column blocks kg:
  //   tile (ig, kg) = G[4ig.., 4kg..] − Σ_{j<4kg} L[4ig.., j]·L[4kg.., j]ᵀ, then the diagonal tile is
  //   factored in registers and the tiles below are multiplied by its inverse transpose
  for (var kg = p.kg0; kg < min(p.kg1, nq); kg++) {
    let kb = 4u * kg;
    let qk = vec4u(q(kb), q(kb + 1u), q(kb + 2u), q(kb + 3u));
    var d0 = gatherColumn(qk, qk.x, kb, kb);
    var d1 = gatherColumn(qk, qk.y, kb, kb + 1u);
    var d2 = gatherColumn(qk, qk.z, kb, kb + 2u);
    var d3 = gatherColumn(qk, qk.w, kb, kb + 3u);
    for (var j = 0u; j < kb; j++) {
      let lk = scratch[lAt(j, kg)];
      d0 -= lk * lk.x;
      d1 -= lk * lk.y;
      d2 -= lk * lk.z;
      d3 -= lk * lk.w;
    }
    // 4 x 4 Cholesky of the diagonal tile (lower triangle; column c of L in d_c)
    checkPivot(kb, d0.x);
    d0 /= sqrt(d0.x);
    d1 -= d0 * d0.y;
    d2 -= d0 * d0.z;
    d3 -= d0 * d0.w;
    checkPivot(kb + 1u, d1.y);
    d1 = vec4f(0.0, d1.yzw / sqrt(d1.y));
    d2 -= d1 * d1.z;
    d3 -= d1 * d1.w;
    checkPivot(kb + 2u, d2.z);
    d2 = vec4f(0.0, 0.0, d2.zw / sqrt(d2.z));
    d3 -= d2 * d2.w;
    checkPivot(kb + 3u, d3.w);
    d3 = vec4f(0.0, 0.0, 0.0, sqrt(d3.w));
    scratch[lAt(kb, kg)] = d0;
    scratch[lAt(kb + 1u, kg)] = d1;
    scratch[lAt(kb + 2u, kg)] = d2;
    scratch[lAt(kb + 3u, kg)] = d3;
    // tiles below: T = (G − Σ L·Lᵀ)·L_kk⁻ᵀ
    for (var ig = kg + 1u; ig < nq; ig++) {
      let ib = 4u * ig;
      let qi = vec4u(q(ib), q(ib + 1u), q(ib + 2u), q(ib + 3u));
      var t0 = gatherColumn(qi, qk.x, ib, kb);
      var t1 = gatherColumn(qi, qk.y, ib, kb + 1u);
      var t2 = gatherColumn(qi, qk.z, ib, kb + 2u);
      var t3 = gatherColumn(qi, qk.w, ib, kb + 3u);
      for (var j = 0u; j < kb; j++) {
        let li = scratch[lAt(j, ig)];
        let lk = scratch[lAt(j, kg)];
        t0 -= li * lk.x;
        t1 -= li * lk.y;
        t2 -= li * lk.z;
        t3 -= li * lk.w;
      }
      t0 = t0 / d0.x;
      t1 = (t1 - t0 * d0.y) / d1.y;
      t2 = (t2 - t0 * d0.z - t1 * d1.z) / d2.z;
      t3 = (t3 - t0 * d0.w - t1 * d1.w - t2 * d2.w) / d3.w;
      scratch[lAt(kb, ig)] = t0;
      scratch[lAt(kb + 1u, ig)] = t1;
      scratch[lAt(kb + 2u, ig)] = t2;
      scratch[lAt(kb + 3u, ig)] = t3;
    }
  }

  if (p.forward != 0u) {
    // L·y = b by row blocks: v = b_g − Σ_{jb<g} L[g, jb]·y_jb, then the diagonal tile's solve
    for (var gg = 0u; gg < nq; gg++) {
      let gb = 4u * gg;
      var v = vec4f(0.0);
      for (var t = 0u; t < 4u; t++) {
        if (gb + t < n) {
          v[t] = rhs[base + gb + t];
        }
      }
      for (var jb = 0u; jb < gg; jb++) {
        let yj = scratch[yAt(jb)];
        let j = 4u * jb;
        v -= scratch[lAt(j, gg)] * yj.x + scratch[lAt(j + 1u, gg)] * yj.y +
          scratch[lAt(j + 2u, gg)] * yj.z + scratch[lAt(j + 3u, gg)] * yj.w;
      }
      let d0 = scratch[lAt(gb, gg)];
      let d1 = scratch[lAt(gb + 1u, gg)];
      let d2 = scratch[lAt(gb + 2u, gg)];
      let d3 = scratch[lAt(gb + 3u, gg)];
      let y0 = v.x / d0.x;
      v -= d0 * y0;
      let y1 = v.y / d1.y;
      v -= d1 * y1;
      let y2 = v.z / d2.z;
      v -= d2 * y2;
      scratch[yAt(gg)] = vec4f(y0, y1, y2, v.w / d3.w);
    }
  }

  if (p.backward != 0u) {
    // Lᵀ·λ = y by row blocks from the bottom: v = y_g − Σ_{kb>g} L[kb, g]ᵀ·λ_kb, then the tile's solve
    for (var t = 0u; t < nq; t++) {
      let gg = nq - 1u - t;
      let gb = 4u * gg;
      var v = scratch[yAt(gg)];
      for (var kb = gg + 1u; kb < nq; kb++) {
        let xk = scratch[yAt(kb)];
        v -= vec4f(
          dot(scratch[lAt(gb, kb)], xk),
          dot(scratch[lAt(gb + 1u, kb)], xk),
          dot(scratch[lAt(gb + 2u, kb)], xk),
          dot(scratch[lAt(gb + 3u, kb)], xk),
        );
      }
      let d0 = scratch[lAt(gb, gg)];
      let d1 = scratch[lAt(gb + 1u, gg)];
      let d2 = scratch[lAt(gb + 2u, gg)];
      let d3 = scratch[lAt(gb + 3u, gg)];
      let x3 = v.w / d3.w;
      let x2 = (v.z - d2.w * x3) / d2.z;
      let x1 = (v.y - d1.z * x2 - d1.w * x3) / d1.y;
      let x0 = (v.x - d0.y * x1 - d0.z * x2 - d0.w * x3) / d0.x;
      let x = vec4f(x0, x1, x2, x3);
      scratch[yAt(gg)] = x;
      for (var c = 0u; c < 4u; c++) {
        if (gb + c < n) {
          out[base + gb + c] = x[c];
        }
      }
    }
    for (var i = n; i < p.maxQ; i++) {
      out[base + i] = 0.0;
    }
  }
}
