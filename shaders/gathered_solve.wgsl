// gathered_solve: many small SPD solves, one per row r, each on a principal submatrix of one
// shared SPD matrix A:
//   A[q_r, q_r]·λ_r = b_r,   q_r = idx[r, 0..n_r),  n_r = counts[r] (or one count for all rows)
//   λ[r, 0..n_r) = the solution, λ[r, n_r..maxQ) = 0
// by Cholesky: G = A[q_r, q_r] = L·Lᵀ (right-looking, column by column), then L·y = b, Lᵀ·λ = y.
//
// One invocation per row (no barriers, no workgroup memory): on CPU-emulated adapters a
// workgroup barrier costs ~WG context switches, while independent rows map onto SIMD lanes that
// run the same instruction stream on neighbouring addresses. Each row's L lives in `scratch`,
// packed column-major with the layout of an maxQ x maxQ lower triangle (column k holds rows k..maxQ-1
// from colStart(k) = k·maxQ − k(k−1)/2), interleaved across the rows of the dispatch:
//   L[i, k] of slot s  =  scratch[(colStart(k) + i − k)·slots + s]
// so the lanes of a SIMD group (or warp) touch consecutive words.
//
// The work of a row is split into phases that the host may spread over several dispatches (state
// stays in scratch/out): gather (if p.gather), factor columns j0 ≤ j < j1, forward solve (if
// p.forward, y into out), backward solve and zero padding (if p.backward). Mesa's llvmpipe stops
// any invocation after 65535 loop iterations in total — silently — so the host keeps each
// dispatch's loop count under that (see solve.ts).
//
// A pivot that is not > 0 (NaN included) is reported to the status buffer with key r·256 + j
// under op `op` (thanos/linalg/status.ts); that row's λ is then not meaningful.
//
// Bindings (group 0):
//   0  uniform Params { rows, row0, slots, maxQ, offA, ldA, count, op, gather, j0, j1, forward,
//                       backward: u32 }   (count = 0xffffffff: read counts[r])
//   1  a: array<f32>, read                   [m, m] window at offA, leading dimension ldA
//   2  idx: array<u32>, read                 [rows, maxQ]
//   3  counts: array<u32>, read              [rows] (unused when count != 0xffffffff)
//   4  rhs: array<f32>, read                 [rows, maxQ]
//   5  out: array<f32>, read_write           [rows, maxQ]: λ
//   6  scratch: array<f32>, read_write       [maxQ·(maxQ+1)/2, slots]
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
  gather: u32,
  j0: u32,
  j1: u32,
  forward: u32,
  backward: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read> counts: array<u32>;
@group(0) @binding(4) var<storage, read> rhs: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(7) var<storage, read_write> status: array<atomic<u32>>;

// Keeps the first failing op and its smallest key (thanos/linalg/status.ts).
fn report(key: u32, pivot: f32) {
  let op = ~p.op;
  let prevOp = atomicMax(&status[0], op);
  if (prevOp > op) {
    return; // an earlier operation failed first
  }
  let k = ~key;
  let prevKey = atomicMax(&status[1], k);
  if (prevKey < k) {
    atomicStore(&status[2], bitcast<u32>(pivot));
  }
}

// scratch index of L[i, k] (i ≥ k) of slot s, in units of `slots`: colStart(k) + i − k
fn col(k: u32) -> u32 {
  return k * p.maxQ - k * (k - 1u) / 2u - k;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = gid.x + gid.y * nwg.x * WG;
  let r = p.row0 + s;
  if (s >= p.slots || r >= p.rows) {
    return;
  }
  let S = p.slots;
  let base = r * p.maxQ;
  var n = p.count;
  if (n == 0xffffffffu) {
    n = counts[r];
  }
  n = min(n, p.maxQ);

  if (p.gather != 0u) {
    // G[i, k] = A[q_i, q_k] for i ≥ k
    for (var k = 0u; k < n; k++) {
      let ak = p.offA + idx[base + k];
      let ck = col(k);
      for (var i = k; i < n; i++) {
        scratch[(ck + i) * S + s] = a[ak + idx[base + i] * p.ldA];
      }
    }
  }

  // right-looking Cholesky, columns j0 ≤ j < j1:
  //   L[j, j] = sqrt(G[j, j]);  L[i, j] = G[i, j] / L[j, j];  G[i, k] −= L[i, j]·L[k, j]  (i ≥ k > j)
  for (var j = p.j0; j < min(p.j1, n); j++) {
    let cj = col(j);
    let pivot = scratch[(cj + j) * S + s];
    if (!(pivot > 0.0)) {
      report(r * 256u + j, pivot);
    }
    let d = sqrt(pivot);
    scratch[(cj + j) * S + s] = d;
    let inv = 1.0 / d;
    for (var i = j + 1u; i < n; i++) {
      scratch[(cj + i) * S + s] *= inv;
    }
    for (var k = j + 1u; k < n; k++) {
      let ck = col(k);
      let lkj = scratch[(cj + k) * S + s];
      for (var i = k; i < n; i++) {
        scratch[(ck + i) * S + s] -= scratch[(cj + i) * S + s] * lkj;
      }
    }
  }

  if (p.forward != 0u) {
    // L·y = b, column by column: y_j = b_j / L[j, j];  b_i −= L[i, j]·y_j  (i > j)
    for (var i = 0u; i < n; i++) {
      out[base + i] = rhs[base + i];
    }
    for (var j = 0u; j < n; j++) {
      let cj = col(j);
      let yj = out[base + j] / scratch[(cj + j) * S + s];
      out[base + j] = yj;
      for (var i = j + 1u; i < n; i++) {
        out[base + i] -= scratch[(cj + i) * S + s] * yj;
      }
    }
  }

  if (p.backward != 0u) {
    // Lᵀ·λ = y, bottom-up: λ_i = (y_i − Σ_{k>i} L[k, i]·λ_k) / L[i, i]
    for (var t = 0u; t < n; t++) {
      let i = n - 1u - t;
      let ci = col(i);
      var acc = out[base + i];
      for (var k = i + 1u; k < n; k++) {
        acc -= scratch[(ci + k) * S + s] * out[base + k];
      }
      out[base + i] = acc / scratch[(ci + i) * S + s];
    }
    for (var i = n; i < p.maxQ; i++) {
      out[base + i] = 0.0;
    }
  }
}
