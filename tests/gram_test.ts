/**
 * gramAccumulate (H += scale·XᵀX, symmetric tiles) and columnSquaredNormsAccumulate against the
 * f64 reference, for every matmul kernel, odd shapes, views, several batches, and bad input.
 *
 * Tolerances: Gram elements as in matmul_test.ts, |H − H_ref| ≤ 1e-5·(|scale|·Σ_k |X_ki·X_kj| + |H_old|).
 * Column norms: the terms are all positive, so the same bound is a plain relative one, 1e-5.
 * The Gram result must also be exactly symmetric (each off-diagonal tile is stored twice).
 */

import { assert, assertEquals, assertRejects } from "./assert.ts";
import { empty, type Gpu, upload, zeros } from "../thanos/gpu/mod.ts";
import { columnSquaredNormsAccumulate, gramAccumulate } from "../thanos/linalg/gram.ts";
import { matmulShader, REGISTER_K_PER_DISPATCH } from "../thanos/linalg/matmul.ts";
import { mat, sub } from "../thanos/linalg/view.ts";
import * as ref from "./reference/matmul.ts";
import { assertCloseScaled, randomMatrix, type TestMatrix } from "./linalg_util.ts";
import { assertClose, gpuTest, randn } from "./util.ts";

const RTOL = 1e-5;

const KERNELS = [
  { variant: "register", align: 1, name: "matmul_register" },
  { variant: "register", align: 4, name: "matmul_register_vec4" },
  { variant: "tiled", align: 1, name: "matmul_tiled" },
  { variant: "texture", align: 1, name: "matmul_texture" },
  // leading dimensions of 64: X is copied into the textures where n is a multiple of 4 (n = 1000, 100)
  { variant: "texture", align: 64, name: "matmul_texture (X copied)" },
] as const;

/** A random symmetric d x d matrix, as the window at (2, 3) of a larger tensor when `margin`. */
function symmetricH(gpu: Gpu, d: number, seed: number, margin: boolean): TestMatrix {
  const h = randomMatrix(gpu, d, d, seed, { margin: margin ? 2 : 0, label: "H" });
  const { data, offset, ld } = h.host;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) data[offset + i * ld + j] = data[offset + j * ld + i];
  }
  h.tensor.write(data);
  return h;
}

/** Asserts H[i, j] === H[j, i] bitwise inside the window. */
function assertSymmetric(data: Float32Array, h: ref.HostView, what: string): void {
  for (let i = 0; i < h.rows; i++) {
    for (let j = 0; j < i; j++) {
      const lower = data[h.offset + i * h.ld + j], upper = data[h.offset + j * h.ld + i];
      if (!Object.is(lower, upper)) throw new Error(`${what}: H[${i}, ${j}] = ${lower} but H[${j}, ${i}] = ${upper}`);
    }
  }
}

async function checkGram(
  gpu: Gpu,
  n: number,
  d: number,
  { variant, align }: (typeof KERNELS)[number],
  { margin = false, seed = 1, scale = 0.75 } = {},
): Promise<void> {
  const x = randomMatrix(gpu, n, d, seed, { margin: margin ? 3 : 0, align, label: "X" });
  const h = symmetricH(gpu, d, seed + 1, margin);
  if (align === 4 && variant === "register") {
    assertEquals(matmulShader(variant, x.view, x.view), "matmul_register_vec4");
  }
  try {
    await gramAccumulate(x.view, h.view, scale, { variant });
    const expected = ref.gramAccumulate(x.host, h.host, scale);
    const got = await h.tensor.read();
    const what = `${matmulShader(variant, x.view, x.view)} gram n=${n} d=${d}${margin ? " (views)" : ""}`;
    assertCloseScaled(got, expected.data, expected.scale, h.host, RTOL, what);
    assertSymmetric(got as Float32Array, h.host, what);
  } finally {
    x.tensor.release();
    h.tensor.release();
  }
}

for (const kernel of KERNELS) {
  gpuTest(`gramAccumulate ${kernel.name}: n in {1, 7, 129, 513}, d in {1, 7, 65, 129, 513}`, async (gpu) => {
    let seed = 100;
    for (const n of [1, 7, 129, 513]) {
      for (const d of [1, 7, 65, 129]) await checkGram(gpu, n, d, kernel, { seed: seed += 2 });
    }
    for (const n of [7, 129]) await checkGram(gpu, n, 513, kernel, { seed: seed += 2, scale: -2 });
  });

  gpuTest(`gramAccumulate ${kernel.name}: X and H windows of larger tensors`, async (gpu) => {
    await checkGram(gpu, 130, 67, kernel, { margin: true, seed: 7 });
    await checkGram(gpu, 5, 200, kernel, { margin: true, seed: 8 });
  });
}

gpuTest(
  "gramAccumulate: 1000-ish shapes (n=1000 d=257, n=2085 d=65, n=1100 d=68, n=100 d=1000), every kernel",
  async (gpu) => {
    for (const kernel of KERNELS) {
      await checkGram(gpu, 1000, 257, kernel, { seed: 3 });
      // more rows than one register dispatch takes (k = rows of X): several accumulated slices
      await checkGram(gpu, 4 * REGISTER_K_PER_DISPATCH + 37, 65, kernel, { seed: 5 });
      // H's rows whole vec4s over several slices: the texture product's earlier slices update the upper
      // tiles by vec4s, the last mirrors them
      await checkGram(gpu, 2 * REGISTER_K_PER_DISPATCH + 76, 68, kernel, { seed: 6 });
      await checkGram(gpu, 100, 1000, kernel, { seed: 4, scale: 2 / 100 });
    }
  },
);

gpuTest("gramAccumulate over several batches equals the Gram matrix of all rows", async (gpu) => {
  const [n, d] = [300, 70];
  const all = randn(n * d, 21);
  const h = zeros(gpu, [d, d], "f32", "H");
  const x = upload(gpu, all, [n, d], "X");
  for (const [r0, rows] of [[0, 100], [100, 1], [101, 199]]) {
    await gramAccumulate(sub(mat(x), r0, 0, rows, d), mat(h), 0.5);
  }
  const expected = ref.gramAccumulate(ref.hostMat(all, n, d), ref.hostMat(new Float32Array(d * d), d, d), 0.5);
  assertCloseScaled(await h.read(), expected.data, expected.scale, ref.hostMat(expected.data, d, d), RTOL, "3 batches");
  x.release();
  h.release();
});

gpuTest("gramAccumulate with no rows leaves H unchanged", async (gpu) => {
  const x = empty(gpu, [0, 5], "f32", "X");
  const h = upload(gpu, randn(25, 1), [5, 5], "H");
  const before = await h.read();
  await gramAccumulate(mat(x), mat(h), 1);
  assertEquals(await h.read(), before);
  x.release();
  h.release();
});

gpuTest("gramAccumulate rejects bad input with messages naming the shapes", async (gpu) => {
  const x = empty(gpu, [4, 3], "f32", "X");
  const h = empty(gpu, [4, 4], "f32", "H");
  const big = empty(gpu, [8, 8], "f32", "big");
  await assertRejects(
    () => gramAccumulate(mat(x), mat(h), 1),
    RangeError,
    "gramAccumulate: X is 4x3 but H is 4x4; expected H to be 3x3",
  );
  await assertRejects(
    () => gramAccumulate(sub(mat(big), 0, 0, 4, 3), sub(mat(big), 4, 4, 3, 3), 1),
    RangeError,
    `gramAccumulate: H aliases X (both live in the buffer of "big"); expected H in a separate tensor`,
  );
  await assertRejects(
    () => gramAccumulate(mat(x), sub(mat(big), 0, 0, 3, 3), Infinity),
    RangeError,
    "gramAccumulate: scale is Infinity; expected a finite number",
  );
  for (const t of [x, h, big]) t.release();
});

// ---- column norms ----

for (const n of [1, 7, 129, 513, 1000]) {
  gpuTest(`columnSquaredNormsAccumulate: n=${n}, d in {1, 7, 129, 513, 1000}`, async (gpu) => {
    for (const d of [1, 7, 129, 513, 1000]) {
      const x = randomMatrix(gpu, n, d, n + d, { label: "X" });
      const start = randn(d, d).map(Math.abs);
      const out = upload(gpu, start, [d], "norms");
      await columnSquaredNormsAccumulate(x.view, out, 0.25);
      const expected = ref.columnSquaredNormsAccumulate(x.host, start, 0.25);
      assertClose(await out.read(), expected, { rtol: RTOL, atol: 0 }, `column norms n=${n} d=${d}`);
      x.tensor.release();
      out.release();
    }
  });
}

gpuTest("columnSquaredNormsAccumulate on windows, over two batches", async (gpu) => {
  for (const d of [1, 33, 130]) {
    const x = randomMatrix(gpu, 40, d, 5 + d, { margin: 4, label: "X" });
    const out = zeros(gpu, [d], "f32", "norms");
    await columnSquaredNormsAccumulate({ ...x.view, rows: 25 }, out, 0.5);
    await columnSquaredNormsAccumulate({ ...x.view, offset: x.view.offset + 25 * x.view.ld, rows: 15 }, out, 0.5);
    const expected = ref.columnSquaredNormsAccumulate(x.host, new Float32Array(d), 0.5);
    assertClose(await out.read(), expected, { rtol: RTOL, atol: 0 }, `two batches, d=${d}`);
    x.tensor.release();
    out.release();
  }
});

gpuTest("columnSquaredNormsAccumulate folds more than 65535 workgroups of columns", async (gpu) => {
  const d = gpu.limits.maxComputeWorkgroupsPerDimension * 64 + 5;
  const row = new Float32Array(d).map((_, j) => (j % 7) - 3);
  const x = upload(gpu, row, [1, d], "X");
  const out = zeros(gpu, [d], "f32", "norms");
  await columnSquaredNormsAccumulate(mat(x), out, 2);
  const got = await out.read();
  assert(got.every((v, j) => v === 2 * row[j] ** 2), "every column");
  x.release();
  out.release();
});

gpuTest("columnSquaredNormsAccumulate rejects bad input", async (gpu) => {
  const x = empty(gpu, [4, 3], "f32", "X");
  const out = empty(gpu, [4], "f32", "norms");
  const ints = empty(gpu, [3], "u32", "counts");
  await assertRejects(
    () => columnSquaredNormsAccumulate(mat(x), out, 1),
    RangeError,
    "columnSquaredNormsAccumulate: X is 4x3 but out has shape [4]; expected 3 elements",
  );
  await assertRejects(
    () => columnSquaredNormsAccumulate(sub(mat(x), 0, 0, 1, 3), x, 1),
    RangeError,
    "columnSquaredNormsAccumulate: X is 1x3 but out has shape [4,3]; expected 3 elements",
  );
  await assertRejects(
    () => columnSquaredNormsAccumulate(mat(x), ints, 1),
    TypeError,
    `columnSquaredNormsAccumulate: out "counts"[0:1, 0:3] (1x3) is u32; expected f32`,
  );
  const row = empty(gpu, [3], "f32", "row");
  await assertRejects(
    () => columnSquaredNormsAccumulate(mat(row), row, 1),
    RangeError,
    `columnSquaredNormsAccumulate: out aliases X (both live in the buffer of "row"); expected out in a separate tensor`,
  );
  await assertRejects(
    () => columnSquaredNormsAccumulate(mat(x), row, NaN),
    RangeError,
    "columnSquaredNormsAccumulate: scale is NaN; expected a finite number",
  );
  for (const t of [x, out, ints, row]) t.release();
});
