/**
 * schurDowndate against the float64 reference (S22 − S21·S11⁻¹·S12), in place, out of place and
 * into a given view; the drift of a whole Thanos pass of repeated downdates against fresh
 * inversions; and bad input.
 *
 * Tolerance: one downdate is a product of well-scaled f32 terms: measured ≤ 4e-7 (normwise, max
 * norm) on the test matrices, tested at 5e-6. Drift: see the test below.
 */

import { assert, assertRejects } from "./assert.ts";
import { type Gpu, upload, zeros } from "../thanos/gpu/mod.ts";
import { spdInverse } from "../thanos/linalg/cholesky.ts";
import { dampHessian } from "../thanos/linalg/damp.ts";
import { schurDowndate } from "../thanos/linalg/downdate.ts";
import { matmulNew } from "../thanos/linalg/matmul.ts";
import { FactorStatus } from "../thanos/linalg/status.ts";
import { mat, sub } from "../thanos/linalg/view.ts";
import * as ref from "./reference/factor.ts";
import { assertRelErr, dampedHessian, relErr, window } from "./factor_util.ts";
import { gpuTest, randn, withPoisonedEmpty } from "./util.ts";

const TOL = 5e-6;

/** S = H⁻¹ (f64) of a damped Hessian, and its f32 copy on the GPU inside a larger tensor. */
function inverseOf(gpu: Gpu, m: number, seed: number) {
  const { h } = dampedHessian(m, seed, { outliers: 2 });
  const s = ref.spdInverse(h, m);
  return { s, t: upload(gpu, Float32Array.from(s), [m, m], "S") };
}

for (const [m, b] of [[2, 1], [8, 7], [130, 1], [129, 64], [513, 128], [700, 300]]) {
  gpuTest(`schurDowndate matches the reference for m=${m}, b=${b} (new, out, in place)`, async (gpu) => {
    const { s, t } = inverseOf(gpu, m, m + b);
    const want = ref.schurDowndate(s, m, b);
    const r = m - b;
    const fresh = await schurDowndate(mat(t), b);
    assertRelErr(await fresh.tensor.read(), want, TOL, "new tensor");
    fresh.tensor.release();
    using out = zeros(gpu, [r + 2, r + 3]);
    const into = await schurDowndate(mat(t), b, { out: sub(mat(out), 1, 2, r, r) });
    const got = await out.read();
    assertRelErr(window(got, r + 3, 1, 2, r, r), want, TOL, "into a view");
    assert(got[0] === 0 && got[(r + 1) * (r + 3) + r + 2] === 0, "writes outside the out view");
    assert(into.offset === r + 3 + 2, "returns the out view");
    const before = await t.read();
    const trailing = await schurDowndate(mat(t), b, { inPlace: true });
    const after = await t.read();
    assertRelErr(window(after, m, b, b, r, r), want, TOL, "in place");
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        if (i < b || j < b) assert(after[i * m + j] === before[i * m + j], `S[${i}, ${j}] outside S22 changed`);
      }
    }
    assert(trailing.offset === b * m + b && trailing.rows === r, "returns sub(S, b, b)");
    t.release();
  });
}

// Regression: with b > 128, S11 is factored in several blocks and L11⁻¹'s scratch was read whole
// while only its lower triangle was written — right on fresh (zero) buffers, NaN on reused ones.
gpuTest(
  "schurDowndate with a multi-block S11 reads no scratch it did not write (poisoned pool)",
  (gpu) =>
    withPoisonedEmpty(gpu, async () => {
      const m = 260, b = 200;
      const { s, t } = inverseOf(gpu, m, 9);
      const out = await schurDowndate(mat(t), b);
      assertRelErr(await out.tensor.read(), ref.schurDowndate(s, m, b), TOL, "poisoned scratch");
      out.tensor.release();
      t.release();
    }),
);

gpuTest("the result is exactly symmetric even when S22's upper triangle is stale", async (gpu) => {
  const m = 100, b = 30;
  const { s, t } = inverseOf(gpu, m, 5);
  const data = Float32Array.from(s);
  for (let i = b; i < m; i++) for (let j = i + 1; j < m; j++) data[i * m + j] = 1e6; // S22's upper triangle is not read
  t.write(data);
  await schurDowndate(mat(t), b, { inPlace: true });
  const got = await t.read();
  const r = m - b;
  const s22 = window(got, m, b, b, r, r);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < i; j++) assert(s22[i * r + j] === s22[j * r + i], `(${i}, ${j}) not symmetric`);
  }
  assertRelErr(s22, ref.schurDowndate(s, m, b), TOL, "with stale upper triangle");
  t.release();
});

/**
 * Drift of a block loop of downdates: S = (H + λI)⁻¹ once, then 7 in-place downdates with b = 128
 * on d = 1000, against the float64 inverse of H[i1:, i1:] (the same f32 Hessian) at the middle and
 * the last block. H is (2/n)·XᵀX of 2000 random activations with 4 features 30x larger and 3 dead
 * ones, damped 1% on the GPU. Measured (normwise, max norm): 1.0e-6 after 4 downdates (the same as
 * inverting that block afresh in f32: 1.0e-6) and 6.2e-7 after the last (fresh f32: 4.5e-7), so
 * the downdates add no visible drift; tested ≤ 1e-5 and ≤ 4x the fresh f32 error.
 */
gpuTest("drift: 7 downdates (d=1000, b=128) stay as accurate as fresh inversions", async (gpu) => {
  const d = 1000, B = 128, samples = 2000;
  const x = randn(samples * d, 2024);
  for (let s = 0; s < samples; s++) {
    for (const j of [5, 250, 501, 777]) x[s * d + j] *= 30;
    for (const j of [10, 600, 999]) x[s * d + j] = 0;
  }
  using xt = upload(gpu, x, [samples, d], "X");
  using h = await matmulNew(mat(xt), mat(xt), { transA: true, alpha: 2 / samples }, "H");
  const { dead } = await dampHessian(h, 0.01);
  dead.release();
  const hHost = Float64Array.from(await h.read());
  using sInv = await spdInverse(mat(h));
  const status = new FactorStatus(gpu);
  const errors: number[] = [], baseline: number[] = [];
  for (let i1 = 0; i1 + B < d; i1 += B) {
    await schurDowndate(sub(mat(sInv), i1, i1), B, { inPlace: true, status });
    const i2 = i1 + B, r = d - i2;
    if (i2 === 512 || i2 + B >= d) {
      const fresh = ref.spdInverse(window(hHost, d, i2, i2, r, r), r);
      errors.push(relErr(window(await sInv.read(), d, i2, i2, r, r), fresh));
      using direct = await spdInverse(sub(mat(h), i2, i2)); //       the same block inverted afresh in f32
      baseline.push(relErr(await direct.read(), fresh));
    }
  }
  await status.check();
  status.release();
  const last = errors[errors.length - 1];
  const show = (xs: number[]) => xs.map((e) => e.toExponential(2)).join(", ");
  assert(
    errors.every((e, k) => e <= 1e-5 && e <= 4 * baseline[k]),
    `drift after the middle/last block: ${show(errors)} (fresh f32 inversions: ${show(baseline)})`,
  );
  assert(last > 0, "the comparison must see f32 rounding");
});

gpuTest("schurDowndate rejects bad arguments and reports a non-SPD S11", async (gpu) => {
  using s = upload(gpu, new Float32Array([1, 0, 0, 0, -2, 0, 0, 0, 1]), [3, 3], "S");
  await assertRejects(
    () => schurDowndate(mat(s), 3),
    RangeError,
    'schurDowndate: b is 3 but S "S"[0:3, 0:3] (3x3) is 3x3; expected an integer in [1, 2]',
  );
  await assertRejects(() => schurDowndate(mat(s), 0), RangeError, "expected an integer in [1, 2]");
  await assertRejects(() => schurDowndate(sub(mat(s), 0, 0, 2, 3), 1), RangeError, "is 2x3; expected a square matrix");
  await assertRejects(() => schurDowndate(mat(s), 1, { out: sub(mat(s), 1, 1) }), RangeError, "out aliases S");
  using small = zeros(gpu, [1, 1]);
  await assertRejects(() => schurDowndate(mat(s), 1, { out: mat(small) }), RangeError, "is 1x1; expected 2x2");
  await assertRejects(
    () => schurDowndate(mat(s), 1, { inPlace: true, out: mat(small) }),
    RangeError,
    "got both inPlace and out",
  );
  await assertRejects(
    () => schurDowndate(mat(s), 2, { inPlace: true }),
    Error,
    'schurDowndate: S11 = "S"[0:2, 0:2] (2x2) is not positive definite (pivot j = 1 is -2, expected > 0)',
  );
});
