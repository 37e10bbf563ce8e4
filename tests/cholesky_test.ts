/**
 * Damping, Cholesky, SPD inverse and SparseGPT's upper factor of the inverse against the float64
 * reference (tests/reference/factor.ts) and mathjs, on odd sizes, views, ill-conditioned,
 * rank-deficient and dead-input Hessians, and non-positive-definite input.
 *
 * Tolerances (normwise, max norm: max|got − ref| / max|ref|): the test Hessians are damped
 * (2/s)·XᵀX with s = d samples (condition ~1e3–1e4, like Thanos's). Measured errors up to d = 1000:
 * Cholesky factor ≤ 6e-7, inverse ≤ 4e-6, upper factor of the inverse ≤ 2e-6; tested with ~8x
 * margin: Cholesky 5e-6, inverse and upper factor 3e-5.
 * Ill-conditioned (κ = 1e6): Cholesky is backward stable, ‖L·Lᵀ − A‖/‖A‖ ≤ 1e-5 whatever κ; the
 * inverse's error is bounded by ~κ·u = 0.06, tested ≤ 0.1 (measured 1.1e-2).
 */

import { inv, multiply, transpose } from "mathjs";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { empty, type Gpu, upload, zeros } from "../thanos/gpu/mod.ts";
import { cholesky, spdInverse, spdInverseInPlace, upperCholeskyOfInverse } from "../thanos/linalg/cholesky.ts";
import { dampHessian } from "../thanos/linalg/damp.ts";
import { matmul, matmulNew } from "../thanos/linalg/matmul.ts";
import { FactorStatus } from "../thanos/linalg/status.ts";
import { mat, type MatrixView, sub } from "../thanos/linalg/view.ts";
import * as ref from "./reference/factor.ts";
import { assertRelErr, dampedHessian, relErr, spdWithCondition, window } from "./factor_util.ts";
import { assertClose, gpuTest, ODD_SIZES, randn } from "./util.ts";

const TOL_CHOL = 5e-6;
const TOL_INVERSE = 3e-5;

/** Uploads a host matrix as the whole of a new f32 tensor. */
function put(gpu: Gpu, a: ArrayLike<number>, n: number, label = "H") {
  return upload(gpu, Float32Array.from(a), [n, n], label);
}

/** Lower triangle of a row-major matrix with zeros above (the GPU Cholesky's layout). */
function lower(l: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) out[i * n + j] = l[i * n + j];
  return out;
}

const toRows = (a: ArrayLike<number>, n: number) =>
  Array.from({ length: n }, (_, i) => Array.from(a).slice(i * n, (i + 1) * n));

// ---------------------------------------------------------------------------------------------
// damping

for (const d of ODD_SIZES) {
  gpuTest(`dampHessian matches the reference for d=${d} (dead inputs, λ)`, async (gpu) => {
    const x = randn(3 * d, d);
    const h0 = ref.hessian(x, 3, d);
    for (let j = 0; j < d; j += 5) for (let i = 0; i < d; i++) h0[i * d + j] = h0[j * d + i] = 0; // dead inputs
    using h = put(gpu, h0, d);
    using lambda = zeros(gpu, [1]);
    const { dead } = await dampHessian(h, 0.01, { lambda });
    const want = ref.damp(h0, d, 0.01);
    assertEquals(await dead.read(), want.dead);
    assertClose(await h.read(), want.h, { rtol: 2e-6, atol: 0 }, "damped H");
    assertClose(await lambda.read(), [want.lambda], { rtol: 2e-6, atol: 0 }, "lambda");
    dead.release();
  });
}

gpuTest("dampHessian works on a view and leaves the rest of the tensor alone", async (gpu) => {
  const n = 9, d = 5;
  const data = randn(n * n, 3).map(Math.abs);
  using t = upload(gpu, data, [n, n]);
  const { dead } = await dampHessian(sub(mat(t), 2, 3, d, d), 0.5);
  const got = await t.read();
  let mean = 0;
  for (let j = 0; j < d; j++) mean += data[(2 + j) * n + 3 + j] / d;
  const want = Float32Array.from(data);
  for (let j = 0; j < d; j++) want[(2 + j) * n + 3 + j] += 0.5 * mean;
  assertClose(got, want, { rtol: 1e-6, atol: 0 });
  assertEquals(await dead.read(), new Uint32Array(d));
  dead.release();
});

gpuTest("dampHessian rejects a bad percdamp or a non-square H", async (gpu) => {
  using h = zeros(gpu, [3, 3]);
  await assertRejects(
    () => dampHessian(h, -0.1),
    RangeError,
    "dampHessian: percdamp is -0.1; expected a finite number >= 0",
  );
  await assertRejects(() => dampHessian(h, NaN), RangeError, "percdamp is NaN");
  await assertRejects(() => dampHessian(sub(mat(h), 0, 0, 2, 3), 0.01), RangeError, "is 2x3; expected a square matrix");
});

// ---------------------------------------------------------------------------------------------
// Cholesky and inverse on odd sizes

for (const n of ODD_SIZES) {
  gpuTest(`cholesky and spdInverse match the reference for n=${n}`, async (gpu) => {
    const { h } = dampedHessian(n, n + 1);
    using t = put(gpu, h, n);
    using hinv = await spdInverse(mat(t));
    assertRelErr(await hinv.read(), ref.spdInverse(h, n), TOL_INVERSE, `inverse n=${n}`);
    assertEquals(await t.read(), Float32Array.from(h), "spdInverse must not modify its input");
    await cholesky(mat(t));
    assertRelErr(await t.read(), lower(ref.cholesky(h, n), n), TOL_CHOL, `cholesky n=${n}`);
  });
}

for (const n of [1, 7, 129, 513]) {
  gpuTest(`upperCholeskyOfInverse matches torch's chol(H⁻¹)ᵀ for n=${n}`, async (gpu) => {
    const { h } = dampedHessian(n, 2 * n + 1, { outliers: 2 });
    using t = put(gpu, h, n);
    using u = await upperCholeskyOfInverse(mat(t));
    const got = await u.read();
    assertRelErr(got, ref.upperCholeskyOfInverse(h, n), TOL_INVERSE, `U n=${n}`);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) assert(got[i * n + j] === 0, `U[${i}, ${j}] must be 0`);
  });
}

gpuTest("block sizes 4, 16, 100 and 128 give the same factor and inverse", async (gpu) => {
  const n = 129;
  const { h } = dampedHessian(n, 5);
  const want = ref.spdInverse(h, n), wantL = lower(ref.cholesky(h, n), n);
  for (const blockSize of [4, 16, 100, 128]) {
    using t = put(gpu, h, n);
    using hinv = await spdInverse(mat(t), { blockSize });
    assertRelErr(await hinv.read(), want, TOL_INVERSE, `inverse nb=${blockSize}`);
    await cholesky(mat(t), { blockSize });
    assertRelErr(await t.read(), wantL, TOL_CHOL, `cholesky nb=${blockSize}`);
  }
  using t = put(gpu, h, n);
  await assertRejects(
    () => spdInverse(mat(t), { blockSize: 129 }),
    RangeError,
    "spdInverse: blockSize is 129; expected a multiple of 4 in [4, 128] (vec4-aligned blocks)",
  );
});

for (const n of [70, 300]) {
  // 300 > the panel width (4 blocks of 64): the trailing update (a full matmul) runs on the window
  gpuTest(`factorizations of a ${n} x ${n} window touch only the window`, async (gpu) => {
    await windowCase(gpu, n);
  });
}

async function windowCase(gpu: Gpu, n: number): Promise<void> {
  const big = n + 20;
  const { h } = dampedHessian(n, 8);
  const data = randn(big * big, 9);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) data[(11 + i) * big + 13 + j] = h[i * n + j];
  using t = upload(gpu, data, [big, big]);
  const v: MatrixView = sub(mat(t), 11, 13, n, n);
  using hinv = await spdInverse(v);
  assertRelErr(await hinv.read(), ref.spdInverse(h, n), TOL_INVERSE, "inverse of a window");
  await spdInverseInPlace(v);
  const got = await t.read();
  const inside = (k: number) => {
    const i = Math.floor(k / big) - 11, j = (k % big) - 13;
    return i >= 0 && i < n && j >= 0 && j < n;
  };
  for (let k = 0; k < got.length; k++) {
    if (!inside(k)) assert(got[k] === data[k], `element ${k} outside the window changed`);
  }
  const win = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) win[i * n + j] = got[(11 + i) * big + 13 + j];
  assertRelErr(win, ref.spdInverse(h, n), TOL_INVERSE, "in-place inverse of a window");
  // cholesky in place on the window: L below, zeros above, nothing outside touched
  using c = upload(gpu, data, [big, big]);
  await cholesky(sub(mat(c), 11, 13, n, n));
  const l = await c.read();
  for (let k = 0; k < l.length; k++) {
    const i = Math.floor(k / big) - 11, j = (k % big) - 13;
    if (!inside(k)) assert(l[k] === data[k], `cholesky: element ${k} outside the window changed`);
    else if (j > i) assert(l[k] === 0, `cholesky: (${i}, ${j}) above the diagonal is ${l[k]}, expected 0`);
  }
}

gpuTest("the inverse is exactly symmetric", async (gpu) => {
  const n = 200;
  const { h } = dampedHessian(n, 12);
  using t = put(gpu, h, n);
  using hinv = await spdInverse(mat(t));
  const x = await hinv.read();
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) assert(x[i * n + j] === x[j * n + i], `X[${i}, ${j}] != X[${j}, ${i}]`);
  }
});

// ---------------------------------------------------------------------------------------------
// mathjs as an independent reference

for (const n of [2, 7, 20]) {
  gpuTest(`inverse, Cholesky and U agree with mathjs for n=${n}`, async (gpu) => {
    const { h } = dampedHessian(n, 40 + n, { samples: n + 3 });
    const rows = toRows(h, n);
    const want = (inv(rows) as number[][]).flat();
    using t = put(gpu, h, n);
    using hinv = await spdInverse(mat(t));
    assertRelErr(await hinv.read(), want, 1e-5, "inverse vs mathjs.inv");
    using u = await upperCholeskyOfInverse(mat(t));
    const U = toRows(await u.read(), n);
    assertRelErr((multiply(transpose(U), U) as number[][]).flat(), want, 1e-5, "UᵀU vs mathjs.inv");
    await cholesky(mat(t));
    const L = toRows(await t.read(), n);
    assertRelErr((multiply(L, transpose(L)) as number[][]).flat(), h, 1e-6, "L·Lᵀ vs H");
  });
}

// ---------------------------------------------------------------------------------------------
// hard inputs

gpuTest("ill-conditioned (κ = 1e6): Cholesky stays backward stable, the inverse within κ·u", async (gpu) => {
  const n = 96;
  const a = spdWithCondition(n, 1e6, 77);
  using t = put(gpu, a, n);
  using hinv = await spdInverse(mat(t));
  const errInv = relErr(await hinv.read(), ref.spdInverse(a, n));
  assert(errInv <= 0.1, `inverse error ${errInv} > 0.1 at κ = 1e6`);
  await cholesky(mat(t));
  const L = toRows(await t.read(), n);
  const aF32 = Array.from(Float32Array.from(a)); // the matrix the GPU actually factored
  assertRelErr((multiply(L, transpose(L)) as number[][]).flat(), aF32, 1e-5, "‖L·Lᵀ − A‖ at κ = 1e6");
});

gpuTest("rank-deficient XᵀX (32 samples of 300 features) is invertible after damping", async (gpu) => {
  const n = 300;
  const { h } = dampedHessian(n, 31, { samples: 32, outliers: 3 });
  using t = put(gpu, h, n);
  using hinv = await spdInverse(mat(t));
  assertRelErr(await hinv.read(), ref.spdInverse(h, n), TOL_INVERSE, "inverse of damped rank-32 Hessian");
});

gpuTest("dead inputs: damping on the GPU then inversion matches the reference", async (gpu) => {
  const n = 150, samples = 200;
  const x = randn(samples * n, 61);
  for (let s = 0; s < samples; s++) for (const j of [0, 17, 149]) x[s * n + j] = 0;
  const h0 = ref.hessian(x, samples, n);
  using t = put(gpu, h0, n);
  const { dead } = await dampHessian(t, 0.01);
  const want = ref.damp(h0, n, 0.01);
  const flags = await dead.read();
  assertEquals([...flags.keys()].filter((j) => flags[j] === 1), [0, 17, 149]);
  using hinv = await spdInverse(mat(t));
  const got = await hinv.read();
  assertRelErr(got, ref.spdInverse(want.h, n), TOL_INVERSE, "inverse with dead inputs");
  assertClose([got[17 * n + 17]], [1 / (1 + want.lambda)], { rtol: 1e-5 }, "Hinv at a dead input");
  dead.release();
});

// ---------------------------------------------------------------------------------------------
// not positive definite

gpuTest("non-positive-definite input throws naming the pivot", async (gpu) => {
  using t = upload(gpu, new Float32Array([1, 2, 2, 1]), [2, 2], "H");
  await assertRejects(
    () => cholesky(mat(t)),
    Error,
    'cholesky: "H"[0:2, 0:2] (2x2) is not positive definite (pivot j = 1 is -3, expected > 0)',
  );
  using t2 = upload(gpu, new Float32Array([1, 2, 2, 1]), [2, 2], "H");
  await assertRejects(
    () => spdInverse(mat(t2)),
    Error,
    'spdInverse: "H"[0:2, 0:2] (2x2) is not positive definite (pivot j = 1',
  );
  await assertRejects(() => upperCholeskyOfInverse(mat(t2)), Error, "upperCholeskyOfInverse:");
});

gpuTest("a failing pivot deep in a blocked factorization is found (n=1000, j=700)", async (gpu) => {
  const n = 1000;
  const a = new Float32Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = 2;
  a[700 * n + 700] = -1;
  using t = upload(gpu, a, [n, n], "H");
  await assertRejects(() => spdInverse(mat(t)), Error, "(pivot j = 700 is -1, expected > 0)");
});

gpuTest("NaN input is reported, not returned", async (gpu) => {
  using t = upload(gpu, new Float32Array([4, NaN, NaN, 4]), [2, 2], "H");
  await assertRejects(() => spdInverse(mat(t)), Error, "(pivot j = 1 is NaN, expected > 0)");
});

gpuTest("with a status the check is deferred and keeps the first failing operation", async (gpu) => {
  const status = new FactorStatus(gpu);
  using good = upload(gpu, new Float32Array([4, 2, 2, 3]), [2, 2], "good");
  using bad1 = upload(gpu, new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, -5]), [3, 3], "bad1");
  using bad2 = upload(gpu, new Float32Array([-1, 0, 0, 1]), [2, 2], "bad2");
  await cholesky(mat(good), { status });
  assertEquals(await status.failure(), null);
  await cholesky(mat(bad1), { status }); // does not throw
  using _inverse = await spdInverse(mat(bad2), { status });
  await assertRejects(
    () => status.check(),
    Error,
    'cholesky: "bad1"[0:3, 0:3] (3x3) is not positive definite (pivot j = 2 is -5, expected > 0)',
  );
  status.reset();
  assertEquals(await status.failure(), null);
  await spdInverseInPlace(mat(bad2), { status });
  await assertRejects(
    () => status.check(),
    Error,
    'spdInverseInPlace: "bad2"[0:2, 0:2] (2x2) is not positive definite (pivot j = 0 is -1',
  );
  status.release();
});

gpuTest("bad arguments are rejected with the operation's name", async (gpu) => {
  using r = zeros(gpu, [3, 4], "f32", "R");
  await assertRejects(
    () => cholesky(mat(r)),
    RangeError,
    'cholesky: A "R"[0:3, 0:4] (3x4) is 3x4; expected a square matrix',
  );
  using u = zeros(gpu, [2, 2], "u32", "U");
  await assertRejects(
    () => spdInverse(mat(u as never)),
    TypeError,
    'spdInverse: A "U"[0:2, 0:2] (2x2) is u32; expected f32',
  );
  const e = empty(gpu, [2, 2]);
  e.release();
  await assertRejects(() => spdInverse(mat(e)), Error, "was used after release()");
});

/**
 * Thanos's trailing inverses (thanos/prune/thanos.ts): with UᵀU = H⁻¹, the rows of (H[i1:, i1:])⁻¹
 * a block needs are U[i1:i2, i1:i2]ᵀ·U[i1:i2, i1:]. On the drift test's Hessian (d = 1000, 2000
 * samples, 4 outlier and 3 dead features, damped 1% on the GPU), against the float64 inverse of
 * each trailing block: measured (normwise, max norm) 2.4e-7 to 7.0e-7 over the 8 blocks, where
 * inverting each block afresh in f32 gives 3.8e-7 to 1.8e-6; tested ≤ 1e-5 and ≤ 4x the fresh error.
 */
gpuTest("trailing inverses from one upper factor of H⁻¹ are as accurate as fresh inversions (d=1000)", async (gpu) => {
  const d = 1000, B = 128, samples = 2000;
  const x = randn(samples * d, 2024);
  for (let s = 0; s < samples; s++) {
    for (const j of [5, 250, 501, 777]) x[s * d + j] *= 30;
    for (const j of [10, 600, 999]) x[s * d + j] = 0;
  }
  using xt = upload(gpu, x, [samples, d], "X");
  using h = await matmulNew(mat(xt), mat(xt), { transA: true, alpha: 2 / samples }, "H");
  (await dampHessian(h, 0.01)).dead.release();
  const hHost = Float64Array.from(await h.read());
  using u = await upperCholeskyOfInverse(mat(h));
  const errors: number[] = [], baseline: number[] = [];
  for (let i1 = 0; i1 < d; i1 += B) {
    const count = Math.min(B, d - i1), m = d - i1;
    using rowsOfS = empty(gpu, [count, m], "f32", "HinvRows");
    await matmul(sub(mat(u), i1, i1, count, count), sub(mat(u), i1, i1, count, m), mat(rowsOfS), { transA: true });
    const fresh = ref.spdInverse(window(hHost, d, i1, i1, m, m), m).subarray(0, count * m);
    errors.push(relErr(await rowsOfS.read(), fresh));
    using direct = await spdInverse(sub(mat(h), i1, i1)); //         the same block inverted afresh in f32
    baseline.push(relErr((await direct.read()).subarray(0, count * m), fresh));
  }
  const show = (xs: number[]) => xs.map((e) => e.toExponential(1)).join(", ");
  assert(
    errors.every((e, k) => e <= 1e-5 && e <= 4 * baseline[k]),
    `rows of the trailing inverses: ${show(errors)} (fresh f32 inversions: ${show(baseline)})`,
  );
});
