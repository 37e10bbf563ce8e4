// trmm_lower: C = alpha·A·B with A lower triangular, register-blocked like matmul_register.wgsl
// (no workgroup memory, no barriers).
//
//   C[i, j] = alpha·Σ_{k ≤ i} A[i, k]·B[k, j]
// The sum stops at the diagonal — M²·N/2 multiply-adds, half of a dense product — and entries of
// A above the diagonal are never used (they may hold anything). Used by the blocked triangular
// inversion (cholesky.ts).
//
// Bindings (group 0):
//   0  uniform Params { M, N, offA, ldA, offB, ldB, offC, ldC: u32, alpha: f32 }
//   1  a: array<f32>, read         [M, M] window at offA, leading dimension ldA
//   2  b: array<f32>, read         [M, N] window at offB, leading dimension ldB
//   3  c: array<f32>, read_write   [M, N] window at offC, leading dimension ldC
// Grid: (ceil(N / (8·WG_X)), ceil(M / (4·WG_Y))) workgroups of WG_X x WG_Y; invocation (x, y)
//   owns rows 4y..4y+3 and columns 8x..8x+7 of C. Loads clamp out-of-range rows/columns.

override WG_X: u32 = 8;
override WG_Y: u32 = 8;

const TM: u32 = 4u;
const TN: u32 = 8u;

struct Params {
  M: u32,
  N: u32,
  offA: u32,
  ldA: u32,
  offB: u32,
  ldB: u32,
  offC: u32,
  ldC: u32,
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
  let lastI = p.M - 1u;
  let lastJ = p.N - 1u;
  let ri = vec4u(i0, min(i0 + 1u, lastI), min(i0 + 2u, lastI), min(i0 + 3u, lastI));
  var ia = ri * p.ldA + p.offA;
  var ib0 = vec4u(j0, min(j0 + 1u, lastJ), min(j0 + 2u, lastJ), min(j0 + 3u, lastJ)) + p.offB;
  var ib1 = vec4u(min(j0 + 4u, lastJ), min(j0 + 5u, lastJ), min(j0 + 6u, lastJ), min(j0 + 7u, lastJ)) + p.offB;

  var acc0 = vec4f(0.0); var acc1 = vec4f(0.0); // row 0, columns 0..3 and 4..7
  var acc2 = vec4f(0.0); var acc3 = vec4f(0.0);
  var acc4 = vec4f(0.0); var acc5 = vec4f(0.0);
  var acc6 = vec4f(0.0); var acc7 = vec4f(0.0);
  // k < i0: every row of the tile is at or below the diagonal
  for (var k = 0u; k < i0; k++) {
    let b0 = vec4f(b[ib0.x], b[ib0.y], b[ib0.z], b[ib0.w]);
    let b1 = vec4f(b[ib1.x], b[ib1.y], b[ib1.z], b[ib1.w]);
    let a0 = a[ia.x]; let a1 = a[ia.y]; let a2 = a[ia.z]; let a3 = a[ia.w];
    acc0 = fma(vec4f(a0), b0, acc0); acc1 = fma(vec4f(a0), b1, acc1);
    acc2 = fma(vec4f(a1), b0, acc2); acc3 = fma(vec4f(a1), b1, acc3);
    acc4 = fma(vec4f(a2), b0, acc4); acc5 = fma(vec4f(a2), b1, acc5);
    acc6 = fma(vec4f(a3), b0, acc6); acc7 = fma(vec4f(a3), b1, acc7);
    ia += vec4u(1u);
    ib0 += p.ldB;
    ib1 += p.ldB;
  }
  // i0 ≤ k < i0 + 4: mask A[i, k] for k > i
  for (var k = i0; k < min(i0 + TM, p.M); k++) {
    let b0 = vec4f(b[ib0.x], b[ib0.y], b[ib0.z], b[ib0.w]);
    let b1 = vec4f(b[ib1.x], b[ib1.y], b[ib1.z], b[ib1.w]);
    let av = select(vec4f(0.0), vec4f(a[ia.x], a[ia.y], a[ia.z], a[ia.w]), vec4u(k) <= ri);
    acc0 = fma(vec4f(av.x), b0, acc0); acc1 = fma(vec4f(av.x), b1, acc1);
    acc2 = fma(vec4f(av.y), b0, acc2); acc3 = fma(vec4f(av.y), b1, acc3);
    acc4 = fma(vec4f(av.z), b0, acc4); acc5 = fma(vec4f(av.z), b1, acc5);
    acc6 = fma(vec4f(av.w), b0, acc6); acc7 = fma(vec4f(av.w), b1, acc7);
    ia += vec4u(1u);
    ib0 += p.ldB;
    ib1 += p.ldB;
  }
  store(i0, j0, acc0, acc1);
  store(i0 + 1u, j0, acc2, acc3);
  store(i0 + 2u, j0, acc4, acc5);
  store(i0 + 3u, j0, acc6, acc7);
}

// C[i, j0..j0+7] = alpha·acc for the columns < N
fn store(i: u32, j0: u32, lo: vec4f, hi: vec4f) {
  if (i >= p.M) {
    return;
  }
  let row = p.offC + i * p.ldC;
  for (var t = 0u; t < TN; t++) {
    let j = j0 + t;
    if (j < p.N) {
      c[row + j] = p.alpha * select(hi[t - 4u], lo[t], t < 4u);
    }
  }
}
