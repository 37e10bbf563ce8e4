// gathered_solve: many small SPD solves, one per row r, each on a principal submatrix of one
// shared SPD matrix A:
//   A[q_r, q_r]·λ_r = b_r,   q_r = idx[r, 0..n_r),  n_r = counts[r] (or one count for all rows)
//   λ[r, 0..n_r) = the solution, λ[r, n_r..maxQ) = 0 (with scatter: λ at the columns q_r, zeros elsewhere)
// by Cholesky G = A[q_r, q_r] = L·Lᵀ with L·y = b alongside, then Lᵀ·λ = y.
//
// One invocation per row (no barriers, no workgroup memory): on CPU-emulated adapters a barrier
// costs a context switch per 8 invocations, while independent rows map onto SIMD lanes that run one
// instruction stream on neighbouring addresses. Within a row everything works on 4 x 4 tiles held
// in registers (left-looking blocked Cholesky by 4-column blocks, blocked triangular solves), so
// each step loads two vec4s for 16 multiply-adds. The forward solve L·y = b rides along the
// factorization: block row kg of it needs exactly the tiles L[4kg.., j < 4kg] that the diagonal
// tile's update loads, so y_kg is formed there (the same operations in the same order as a separate
// forward sweep, which read those tiles again: ~20% of a row's loads, and llvmpipe's loads of
// storage are lane by lane). G is padded to nq = ceil(n/4) blocks with the
// identity (L stays the identity there and the padded λ are 0).
//
// scratch (vec4 words, by groups of SG = 32 slots, interleaved within a group: word w of slot s at
// ((s / SG)·words + w)·SG + s % SG, so the lanes of a SIMD group or warp touch neighbouring words):
//   L: column j holds the row blocks g = j/4 .. Mq−1 (Mq = ceil(cap/4)) from colStart(j)
//      (colStart(j) = Σ_{c<j} (Mq − c/4)), 2·Mq·(Mq+1) words; then y/λ: Mq words (Mq = ceil(cap/4)).
//
// The work of a row is split into phases that the host may spread over several dispatches (state
// stays in scratch): column blocks kg0 ≤ kg < kg1 (with y), backward solve and output (if p.backward). Mesa's llvmpipe silently ends any invocation after 65535 loop
// iterations in total, so the host keeps each dispatch under that (see solve.ts).
//
// A pivot that is not > 0 (NaN included) is reported to the status buffer with key r·512 + j
// under op `op` (thanos/linalg/status.ts); that row's λ is then not meaningful.
//
// maxQ is the row stride of idx/rhs/out; cap ≤ maxQ bounds every n_r and sizes L (Mq = ceil(cap/4)):
// n:m removes exactly n/m of a block per row, so its scratch and work are those of cap, not maxQ.
//
// Bindings (group 0):
//   #params { rows, row0, slots, maxQ, offA, ldA, count, op, kg0, kg1,
//                       backward, cap, ordered, scatter: u32 }   (count = 0xffffffff: read counts[r])
//   #binding a: array<f32>, read                   [m, m] window at offA, leading dimension ldA
//   #binding idx: array<u32>, read                 [rows, maxQ]
//   #binding counts: array<u32>, read              [rows] (unused when count != 0xffffffff)
//   #binding order: array<u32>, read               [rows]: slot row0 + s solves row order[row0 + s]
//                                                  when ordered != 0 (count_order.wgsl), else row0 + s
//   #binding rhs: array<f32>, read                 [rows, maxQ]
//   #binding out: array<f32>, read_write           [rows, maxQ]: λ, compact (λ_r in out[r, 0..n_r), zeros
//                                                  after), or with scatter != 0 at its columns (out[r, q_i] =
//                                                  λ_i, zeros elsewhere; every q_i < maxQ — Thanos's dense Λ)
//   #binding scratch: array<vec4f>, read_write     [2·Mq·(Mq+1) + Mq, slots]
//   #binding status: array<atomic<u32>>, read_write [4]
// (8 storage bindings, WebGPU's guaranteed minimum per stage: a binding split across storage
// bindings (gpu/chunked.ts) would need more than such a device has, and launch() says so.)
// Grid: 1-D over the slots of this dispatch (rows row0 .. row0+slots), WG per workgroup, folded
//   into y past 65535 groups.

override WG: u32 = 64;

var<private> slot: u32; // this invocation's slot in the dispatch
var<private> row: u32; //  its row
var<private> n: u32; //    its count n_r
var<private> mq: u32; //   Mq = ceil(cap / 4)

// #include "lib/status.wgsl"

// Slots per scratch group: a group's words are interleaved (word w of its slot s at w·SG + s), so
// neighbouring lanes touch neighbouring words (a GPU warp's loads coalesce, a CPU's SIMD vector
// reads whole cache lines), and the groups lie one after another — interleaving across all slots
// instead put a row's consecutive words `slots`·16 bytes apart (12 KiB at 768 rows), a page apart,
// and on llvmpipe the Cholesky loops then missed the TLB on nearly every load.
const SG: u32 = 32u;

// scratch index of word w of this invocation's slot
fn word(w: u32) -> u32 {
  let words = 2u * mq * (mq + 1u) + mq;
  return ((slot / SG) * words + w) * SG + slot % SG;
}

// scratch index of the vec4 L[4g .. 4g+3, j] (g ≥ j/4)
fn lAt(j: u32, g: u32) -> u32 {
  let jg = j / 4u;
  let colStart = 4u * jg * mq - 2u * jg * (jg - 1u) + (j % 4u) * (mq - jg); // jg·(jg−1) wraps to 0 at jg = 0
  return word(colStart + g - jg);
}

// scratch index of block g of y (then λ)
fn yAt(g: u32) -> u32 {
  return word(2u * mq * (mq + 1u) + g);
}

// b_i, or 0 past n
fn b(i: u32) -> f32 {
  if (i < n) {
    return rhs[row * p.maxQ + i];
  }
  return 0.0;
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

// scratch index of L[0.., 4jb] block g: lAt(4jb, g); column 4jb + t is t·(mq − jb)·slots words further
fn lBlock(jb: u32, g: u32) -> u32 {
  let colStart = 4u * jb * mq - 2u * jb * (jb - 1u); // jb·(jb−1) wraps to 0 at jb = 0
  return word(colStart + g - jb);
}

// t_c −= li·lk_c (c = 0..3): one column j of Σ_j L[4ig.., j]·L[4kg.., j]ᵀ
fn subOuter(t: ptr<function, array<vec4f, 4>>, li: vec4f, lk: vec4f) {
  (*t)[0] -= li * lk.x;
  (*t)[1] -= li * lk.y;
  (*t)[2] -= li * lk.z;
  (*t)[3] -= li * lk.w;
}

// the tile G[4ig.., 4kg..] (columns in t_0..t_3)
fn gatherTile(qk: vec4u, kb: u32, ig: u32) -> array<vec4f, 4> {
  let ib = 4u * ig;
  let qi = vec4u(q(ib), q(ib + 1u), q(ib + 2u), q(ib + 3u));
  return array<vec4f, 4>(
    gatherColumn(qi, qk.x, ib, kb),
    gatherColumn(qi, qk.y, ib, kb + 1u),
    gatherColumn(qi, qk.z, ib, kb + 2u),
    gatherColumn(qi, qk.w, ib, kb + 3u),
  );
}

// L[4ig.., 4kg..] = T·L_kk⁻ᵀ (d: the diagonal tile's columns of L), stored
fn storeBelow(t: ptr<function, array<vec4f, 4>>, d: ptr<function, array<vec4f, 4>>, kb: u32, ig: u32) {
  let t0 = (*t)[0] / (*d)[0].x;
  let t1 = ((*t)[1] - t0 * (*d)[0].y) / (*d)[1].y;
  let t2 = ((*t)[2] - t0 * (*d)[0].z - t1 * (*d)[1].z) / (*d)[2].z;
  let t3 = ((*t)[3] - t0 * (*d)[0].w - t1 * (*d)[1].w - t2 * (*d)[2].w) / (*d)[3].w;
  scratch[lAt(kb, ig)] = t0;
  scratch[lAt(kb + 1u, ig)] = t1;
  scratch[lAt(kb + 2u, ig)] = t2;
  scratch[lAt(kb + 3u, ig)] = t3;
}

fn checkPivot(j: u32, pivot: f32) {
  if (!(pivot > 0.0) && j < n) {
    report(row * 512u + j, pivot);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  slot = gid.x + gid.y * nwg.x * WG;
  row = p.row0 + slot;
  if (slot >= p.slots || row >= p.rows) {
    return;
  }
  if (p.ordered != 0u) {
    row = order[row];
  }
  n = p.count;
  if (n == 0xffffffffu) {
    n = counts[row];
  }
  n = min(n, p.cap);
  mq = (p.cap + 3u) / 4u;
  let nq = (n + 3u) / 4u;
  let base = row * p.maxQ;

  // left-looking Cholesky by 4-column blocks kg:
  //   tile (ig, kg) = G[4ig.., 4kg..] − Σ_{j<4kg} L[4ig.., j]·L[4kg.., j]ᵀ, then the diagonal tile is
  //   factored in registers and the tiles below are multiplied by its inverse transpose
  for (var kg = p.kg0; kg < min(p.kg1, nq); kg++) {
    let kb = 4u * kg;
    let qk = vec4u(q(kb), q(kb + 1u), q(kb + 2u), q(kb + 3u));
    var d = array<vec4f, 4>(
      gatherColumn(qk, qk.x, kb, kb),
      gatherColumn(qk, qk.y, kb, kb + 1u),
      gatherColumn(qk, qk.z, kb, kb + 2u),
      gatherColumn(qk, qk.w, kb, kb + 3u),
    );
    // by column blocks jb: the 4 columns j = 4jb + t lie (mq − jb)·SG words apart; the same tiles
    // give the forward solve's block row kg: v = b_kg − Σ_{jb<kg} L[kg, jb]·y_jb
    var v = vec4f(b(kb), b(kb + 1u), b(kb + 2u), b(kb + 3u));
    for (var jb = 0u; jb < kg; jb++) {
      let at = lBlock(jb, kg);
      let step = (mq - jb) * SG;
      let l0 = scratch[at];
      let l1 = scratch[at + step];
      let l2 = scratch[at + 2u * step];
      let l3 = scratch[at + 3u * step];
      subOuter(&d, l0, l0);
      subOuter(&d, l1, l1);
      subOuter(&d, l2, l2);
      subOuter(&d, l3, l3);
      let yj = scratch[yAt(jb)];
      v -= l0 * yj.x + l1 * yj.y + l2 * yj.z + l3 * yj.w;
    }
    var d0 = d[0];
    var d1 = d[1];
    var d2 = d[2];
    var d3 = d[3];
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
    // y_kg = L_kk⁻¹·v
    let y0 = v.x / d0.x;
    v -= d0 * y0;
    let y1 = v.y / d1.y;
    v -= d1 * y1;
    let y2 = v.z / d2.z;
    v -= d2 * y2;
    scratch[yAt(kg)] = vec4f(y0, y1, y2, v.w / d3.w);
    var dk = array<vec4f, 4>(d0, d1, d2, d3);
    // tiles below, two at a time (8 x 4: three vec4 loads per 32 multiply-adds instead of two per
    // 16 — loads, lane by lane on llvmpipe, bound this loop): T = (G − Σ L·Lᵀ)·L_kk⁻ᵀ
    var ig = kg + 1u;
    for (; ig + 1u < nq; ig += 2u) {
      var ta = gatherTile(qk, kb, ig);
      var tb = gatherTile(qk, kb, ig + 1u);
      let off = (ig - kg) * SG; // L[4ig.., j] − L[4kg.., j] in words; L[4ig + 4.., j] one slot row further
      for (var jb = 0u; jb < kg; jb++) {
        let at = lBlock(jb, kg);
        let step = (mq - jb) * SG;
        var lk = scratch[at];
        subOuter(&ta, scratch[at + off], lk);
        subOuter(&tb, scratch[at + off + SG], lk);
        lk = scratch[at + step];
        subOuter(&ta, scratch[at + step + off], lk);
        subOuter(&tb, scratch[at + step + off + SG], lk);
        lk = scratch[at + 2u * step];
        subOuter(&ta, scratch[at + 2u * step + off], lk);
        subOuter(&tb, scratch[at + 2u * step + off + SG], lk);
        lk = scratch[at + 3u * step];
        subOuter(&ta, scratch[at + 3u * step + off], lk);
        subOuter(&tb, scratch[at + 3u * step + off + SG], lk);
      }
      storeBelow(&ta, &dk, kb, ig);
      storeBelow(&tb, &dk, kb, ig + 1u);
    }
    if (ig < nq) {
      var ta = gatherTile(qk, kb, ig);
      let off = (ig - kg) * SG;
      for (var jb = 0u; jb < kg; jb++) {
        let at = lBlock(jb, kg);
        let step = (mq - jb) * SG;
        subOuter(&ta, scratch[at + off], scratch[at]);
        subOuter(&ta, scratch[at + step + off], scratch[at + step]);
        subOuter(&ta, scratch[at + 2u * step + off], scratch[at + 2u * step]);
        subOuter(&ta, scratch[at + 3u * step + off], scratch[at + 3u * step]);
      }
      storeBelow(&ta, &dk, kb, ig);
    }
  }

  if (p.backward != 0u) {
    if (p.scatter != 0u) {
      // zeros first, then λ_i lands at column q_i
      for (var i = 0u; i < p.maxQ; i++) {
        out[base + i] = 0.0;
      }
    }
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
          var at = gb + c;
          if (p.scatter != 0u) {
            at = min(q(at), p.maxQ - 1u); // an index past the row (not allowed) stays inside it
          }
          out[base + at] = x[c];
        }
      }
    }
    if (p.scatter == 0u) {
      for (var i = n; i < p.maxQ; i++) {
        out[base + i] = 0.0;
      }
    }
  }
}
