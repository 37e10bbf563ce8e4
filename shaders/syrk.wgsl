// syrk: symmetric rank-K update of the lower triangle, C = alpha·op(A)·op(A)ᵀ (+ C when ACCUMULATE),
// register-blocked like matmul_register.wgsl (no workgroup memory, no barriers).
//
//   op(A)[i, k] = A[offA + i·sAi + k·sAk]           op(A) is [N, K]
//   C[i, j] = alpha·Σ_k op(A)[i, k]·op(A)[j, k] (+ C[i, j])    for i ≥ j (lower triangle)
//   MIRROR:  C[j, i] = C[i, j] as well, so C ends exactly symmetric
//   tri = 1: op(A) is "upper in k" (op(A)[i, k] = 0 for k < i, e.g. op(A) = Xᵀ with X lower
//            triangular): the sum runs over k ≥ max(i, j) only and entries with k < i are never
//            read — C = XᵀX in N³/3 multiply-adds (the product of LAPACK's lauum).
// Only tiles that touch the lower triangle compute (N²/2 of the N² outputs), which halves the work
// of a full matrix product.
//
// Bindings (group 0):
//   0  uniform Params { N, K, offA, sAi, sAk, offC, ldC: u32, alpha: f32, tri: u32 }
//   1  a: array<f32>, read         op(A) [N, K] through the strides
//   2  c: array<f32>, read_write   [N, N] window at offC, leading dimension ldC
// Grid: (ceil(N / (8·WG_X)), ceil(N / (4·WG_Y))) workgroups of WG_X x WG_Y; invocation (x, y)
//   owns rows 4y..4y+3 and columns 8x..8x+7 and returns at once when they are all above the
//   diagonal. Loads clamp out-of-range indices (their products are never stored).

override WG_X: u32 = 8;
override WG_Y: u32 = 8;
override ACCUMULATE: bool = false;
override MIRROR: bool = false;

const TM: u32 = 4u;
const TN: u32 = 8u;

struct Params {
  N: u32,
  K: u32,
  offA: u32,
  sAi: u32,
  sAk: u32,
  offC: u32,
  ldC: u32,
  alpha: f32,
  tri: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i0 = gid.y * TM;
  let j0 = gid.x * TN;
  if (i0 >= p.N || j0 >= p.N || i0 + TM - 1u < j0) {
    return;
  }
  let last = p.N - 1u;
  let ri = vec4u(i0, min(i0 + 1u, last), min(i0 + 2u, last), min(i0 + 3u, last));
  let rj0 = vec4u(j0, min(j0 + 1u, last), min(j0 + 2u, last), min(j0 + 3u, last));
  let rj1 = vec4u(min(j0 + 4u, last), min(j0 + 5u, last), min(j0 + 6u, last), min(j0 + 7u, last));

  var acc0 = vec4f(0.0); var acc1 = vec4f(0.0); // row 0, columns 0..3 and 4..7
  var acc2 = vec4f(0.0); var acc3 = vec4f(0.0);
  var acc4 = vec4f(0.0); var acc5 = vec4f(0.0);
  var acc6 = vec4f(0.0); var acc7 = vec4f(0.0);

  var k = 0u;
  if (p.tri != 0u) {
    // terms with k < max(i, j) vanish; below kFull some of the tile's entries still need masking
    k = min(max(i0, j0), p.K);
    let kFull = min(max(i0 + TM, j0 + TN), p.K);
    for (; k < kFull; k++) {
      let kv = vec4u(k);
      let ka = k * p.sAk + p.offA;
      let b0 = select(vec4f(0.0), vec4f(a[ka + rj0.x * p.sAi], a[ka + rj0.y * p.sAi], a[ka + rj0.z * p.sAi], a[ka + rj0.w * p.sAi]), kv >= rj0);
      let b1 = select(vec4f(0.0), vec4f(a[ka + rj1.x * p.sAi], a[ka + rj1.y * p.sAi], a[ka + rj1.z * p.sAi], a[ka + rj1.w * p.sAi]), kv >= rj1);
      let av = select(vec4f(0.0), vec4f(a[ka + ri.x * p.sAi], a[ka + ri.y * p.sAi], a[ka + ri.z * p.sAi], a[ka + ri.w * p.sAi]), kv >= ri);
      acc0 = fma(vec4f(av.x), b0, acc0); acc1 = fma(vec4f(av.x), b1, acc1);
      acc2 = fma(vec4f(av.y), b0, acc2); acc3 = fma(vec4f(av.y), b1, acc3);
      acc4 = fma(vec4f(av.z), b0, acc4); acc5 = fma(vec4f(av.z), b1, acc5);
      acc6 = fma(vec4f(av.w), b0, acc6); acc7 = fma(vec4f(av.w), b1, acc7);
    }
  }
  var ia = ri * p.sAi + (p.offA + k * p.sAk);
  var ib0 = rj0 * p.sAi + (p.offA + k * p.sAk);
  var ib1 = rj1 * p.sAi + (p.offA + k * p.sAk);
  for (; k < p.K; k++) {
    let b0 = vec4f(a[ib0.x], a[ib0.y], a[ib0.z], a[ib0.w]);
    let b1 = vec4f(a[ib1.x], a[ib1.y], a[ib1.z], a[ib1.w]);
    let a0 = a[ia.x]; let a1 = a[ia.y]; let a2 = a[ia.z]; let a3 = a[ia.w];
    acc0 = fma(vec4f(a0), b0, acc0); acc1 = fma(vec4f(a0), b1, acc1);
    acc2 = fma(vec4f(a1), b0, acc2); acc3 = fma(vec4f(a1), b1, acc3);
    acc4 = fma(vec4f(a2), b0, acc4); acc5 = fma(vec4f(a2), b1, acc5);
    acc6 = fma(vec4f(a3), b0, acc6); acc7 = fma(vec4f(a3), b1, acc7);
    ia += p.sAk;
    ib0 += p.sAk;
    ib1 += p.sAk;
  }
  store(i0, j0, acc0, acc1);
  store(i0 + 1u, j0, acc2, acc3);
  store(i0 + 2u, j0, acc4, acc5);
  store(i0 + 3u, j0, acc6, acc7);
}

// C[i, j] = alpha·acc (+ C[i, j]) for the columns j ≤ i of C[i, j0..j0+7] (and C[j, i] if MIRROR)
fn store(i: u32, j0: u32, lo: vec4f, hi: vec4f) {
  if (i >= p.N) {
    return;
  }
  let row = p.offC + i * p.ldC;
  for (var t = 0u; t < TN; t++) {
    let j = j0 + t;
    if (j <= i) {
      var v = p.alpha * select(hi[t - 4u], lo[t], t < 4u);
      if (ACCUMULATE) {
        v += c[row + j];
      }
      c[row + j] = v;
      if (MIRROR && j < i) {
        c[p.offC + j * p.ldC + i] = v;
      }
    }
  }
}
