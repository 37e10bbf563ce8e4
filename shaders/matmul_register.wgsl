// matmul_register: C = alpha·op(A)·op(B) (+ C when ACCUMULATE), register-blocked, no shared memory.
//
// The fast variant on CPU-emulated adapters (llvmpipe), where workgroup barriers are expensive:
// each invocation computes a 4 x 8 tile of C in registers, reading op(A) and op(B) straight from
// storage (the cache does the reuse).
//
// Operands are described by strides, so one kernel serves every transpose and every view:
//   op(A)[i, k] = A[offA + i·sAi + k·sAk]    (A·: sAi = ldA, sAk = 1;  Aᵀ·: sAi = 1, sAk = ldA)
//   op(B)[k, j] = B[offB + k·sBk + j·sBj]    (·B: sBk = ldB, sBj = 1;  ·Bᵀ: sBk = 1, sBj = ldB)
//   C[i, j]     = C[offC + i·ldC + j]
//
// Bindings (group 0):
//   0  uniform Params { M, N, K, offA, sAi, sAk, offB, sBk, sBj, offC, ldC: u32, alpha: f32 }
//   1  a: array<f32>, read         op(A) is [M, K]
//   2  b: array<f32>, read         op(B) is [K, N]
//   3  c: array<f32>, read_write   [M, N] window
// Grid: (ceil(N / (8·WG_X)), ceil(M / (4·WG_Y))) workgroups of WG_X x WG_Y; invocation (x, y)
//   owns rows 4y..4y+3 and columns 8x..8x+7 of C. Loads clamp out-of-range rows/columns to the
//   last valid one (their products are never stored), stores are guarded.

override WG_X: u32 = 8;
override WG_Y: u32 = 8;
override ACCUMULATE: bool = false;

const TM: u32 = 4u;
const TN: u32 = 8u;

struct Params {
  M: u32, N: u32, K: u32,
  offA: u32, sAi: u32, sAk: u32,
  offB: u32, sBk: u32, sBj: u32,
  offC: u32, ldC: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i0 = gid.y * TM;
  let j0 = gid.x * TN;
  if (i0 >= p.M || j0 >= p.N) {
    return;
  }
  // start of each of the 4 rows of op(A) and 8 columns of op(B) (clamped at the edges)
  let lastI = p.M - 1u;
  let lastJ = p.N - 1u;
  var ia = vec4u(min(i0, lastI), min(i0 + 1u, lastI), min(i0 + 2u, lastI), min(i0 + 3u, lastI)) * p.sAi + p.offA;
  var ib0 = vec4u(j0, min(j0 + 1u, lastJ), min(j0 + 2u, lastJ), min(j0 + 3u, lastJ)) * p.sBj + p.offB;
  var ib1 = vec4u(min(j0 + 4u, lastJ), min(j0 + 5u, lastJ), min(j0 + 6u, lastJ), min(j0 + 7u, lastJ)) * p.sBj + p.offB;

  var acc0 = vec4f(0.0); var acc1 = vec4f(0.0); // row 0, columns 0..3 and 4..7
  var acc2 = vec4f(0.0); var acc3 = vec4f(0.0);
  var acc4 = vec4f(0.0); var acc5 = vec4f(0.0);
  var acc6 = vec4f(0.0); var acc7 = vec4f(0.0);
  for (var k = 0u; k < p.K; k++) {
    let b0 = vec4f(b[ib0.x], b[ib0.y], b[ib0.z], b[ib0.w]);
    let b1 = vec4f(b[ib1.x], b[ib1.y], b[ib1.z], b[ib1.w]);
    let a0 = a[ia.x]; let a1 = a[ia.y]; let a2 = a[ia.z]; let a3 = a[ia.w];
    acc0 = fma(vec4f(a0), b0, acc0); acc1 = fma(vec4f(a0), b1, acc1);
    acc2 = fma(vec4f(a1), b0, acc2); acc3 = fma(vec4f(a1), b1, acc3);
    acc4 = fma(vec4f(a2), b0, acc4); acc5 = fma(vec4f(a2), b1, acc5);
    acc6 = fma(vec4f(a3), b0, acc6); acc7 = fma(vec4f(a3), b1, acc7);
    ia += p.sAk;
    ib0 += p.sBk;
    ib1 += p.sBk;
  }
  store(i0, j0, acc0, acc1);
  store(i0 + 1u, j0, acc2, acc3);
  store(i0 + 2u, j0, acc4, acc5);
  store(i0 + 3u, j0, acc6, acc7);
}

// C[i, j0..j0+7] = alpha·acc (+ C), for the columns < N
fn store(i: u32, j0: u32, lo: vec4f, hi: vec4f) {
  if (i >= p.M) {
    return;
  }
  let row = p.offC + i * p.ldC;
  for (var t = 0u; t < TN; t++) {
    let j = j0 + t;
    if (j < p.N) {
      var v = p.alpha * select(hi[t - 4u], lo[t], t < 4u);
      if (ACCUMULATE) {
        v += c[row + j];
      }
      c[row + j] = v;
    }
  }
}
