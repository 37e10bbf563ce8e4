/**
 * matmul against the f64 reference, for both kernels, every transpose, odd shapes, views,
 * alpha/accumulate, grids split over several dispatches, and bad input.
 *
 * Tolerance: |C − C_ref| ≤ 1e-5·(|alpha|·Σ_k |op(A)_ik·op(B)_kj| + |C_old|) per element. A length-K
 * f32 dot product of random-sign terms has rounding error ~√K·2⁻²⁴ times that scale (about 2e-6 at
 * K = 1000), so 1e-5 leaves a margin while still catching any wrong or missing term.
 */

import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { empty, type Gpu, type Tensor, upload } from "../thanos/gpu/mod.ts";
import { fill } from "../thanos/linalg/elementwise.ts";
import { launch } from "../thanos/gpu/launch.ts";
import {
  gridChunks,
  matmul,
  MATMUL_VARIANT_ENV,
  MATMUL_VARIANTS,
  matmulNew,
  type MatmulOptions,
  matmulRowStack,
  matmulShader,
  matmulVariant,
  textureFits,
  textureProductShader,
} from "../thanos/linalg/matmul.ts";
import { mat, type MatrixView, sub } from "../thanos/linalg/view.ts";
import * as ref from "./reference/matmul.ts";
import { assertCloseScaled, randomMatrix } from "./linalg_util.ts";
import { gpuTest, packedTexels } from "./util.ts";

const RTOL = 1e-5;

/** A dense result tensor `c` (its shape) against the reference product of `a` and `b` with `options`. */
async function assertProduct(
  c: Tensor,
  a: { host: ref.HostView },
  b: { host: ref.HostView },
  options: Parameters<typeof ref.matmul>[3],
  what: string,
): Promise<void> {
  const [rows, cols] = c.shape;
  const expected = ref.matmul(a.host, b.host, ref.hostMat(new Float32Array(rows * cols), rows, cols), options);
  assertCloseScaled(await c.read(), expected.data, expected.scale, ref.hostMat(expected.data, rows, cols), RTOL, what);
}
const TRANSPOSES = [[false, false], [false, true], [true, false], [true, true]] as const;
const opName = (tA: boolean, tB: boolean) => `${tA ? "Aᵀ" : "A"}·${tB ? "Bᵀ" : "B"}`;

/** Runs one product on the GPU and checks it against the reference (C initialised randomly). */
async function check(
  gpu: Gpu,
  M: number,
  N: number,
  K: number,
  options: MatmulOptions,
  { margin = 0, align = 1, seed = 1, alignC = 1 } = {},
): Promise<void> {
  const { transA = false, transB = false, variant = "register" } = options;
  const [ra, ca] = transA ? [K, M] : [M, K];
  const [rb, cb] = transB ? [N, K] : [K, N];
  const a = randomMatrix(gpu, ra, ca, seed, { margin, align, label: "A" });
  const b = randomMatrix(gpu, rb, cb, seed + 1, { margin, align, label: "B" });
  const c = randomMatrix(gpu, M, N, seed + 2, { margin, align: alignC, label: "C" });
  const shader = variant === "texture" && matmulShader(variant, a.view, b.view, M, N) === "matmul_texture"
    ? textureProductShader(c.view, false)
    : matmulShader(variant, a.view, b.view);
  if (align === 4 && variant === "register") assertEquals(shader, "matmul_register_vec4");
  if (alignC === 4 && variant === "texture" && gpu.info.readsStorageTextures) {
    assertEquals(shader, "matmul_texture_vec4");
  }
  if (!options.accumulate) {
    // C is write-only without accumulate: poison the window so reading it would show
    for (let i = 0; i < M; i++) c.host.data.fill(NaN, c.host.offset + i * c.host.ld, c.host.offset + i * c.host.ld + N);
    c.tensor.write(c.host.data);
  }
  try {
    await matmul(a.view, b.view, c.view, options);
    const expected = ref.matmul(a.host, b.host, c.host, options);
    const what = `${shader} ${opName(transA, transB)} M=${M} N=${N} K=${K}` +
      `${options.accumulate ? " accumulate" : ""}${margin ? " (views)" : ""}`;
    assertCloseScaled(await c.tensor.read(), expected.data, expected.scale, c.host, RTOL, what);
  } finally {
    a.tensor.release();
    b.tensor.release();
    c.tensor.release();
  }
}

/** Each kernel: the variant and the operand alignment that selects it. */
const KERNELS = [
  { variant: "texture", align: 1, name: "matmul_texture" },
  { variant: "texture", align: 4, name: "matmul_texture (aligned views: vec4 packing)" },
  { variant: "register", align: 1, name: "matmul_register" },
  { variant: "register", align: 4, name: "matmul_register_vec4" },
  { variant: "tiled", align: 1, name: "matmul_tiled" },
] as const;

/**
 * The shapes of the sweep: every M, N, K in {1, 7, 129}, and each of them once at 513 with the
 * other two in {1, 7, 129} (513 in two dimensions at once costs seconds of reference time while
 * testing nothing new; the 1000-ish product below covers a large case).
 */
function* sweepShapes(): Generator<[number, number, number]> {
  const small = [1, 7, 129];
  for (const M of small) for (const N of small) for (const K of small) yield [M, N, K];
  for (const x of small) {
    for (const y of small) {
      yield [513, x, y];
      yield [x, 513, y];
      yield [x, y, 513];
    }
  }
}

for (const { variant, align, name } of KERNELS) {
  for (const [transA, transB] of TRANSPOSES) {
    gpuTest(`${name} ${opName(transA, transB)}: odd shapes from {1, 7, 129, 513}`, async (gpu) => {
      let seed = 10;
      for (const [M, N, K] of sweepShapes()) {
        await check(gpu, M, N, K, { variant, transA, transB }, { seed: seed += 3, align });
      }
    });
  }

  gpuTest(`${name}: alpha and accumulate on windows of larger tensors, every transpose`, async (gpu) => {
    for (const [transA, transB] of TRANSPOSES) {
      const options = { variant, transA, transB };
      await check(gpu, 129, 7, 513, { ...options, alpha: -0.75, accumulate: true }, { margin: 5, align });
      await check(gpu, 7, 130, 33, { ...options, alpha: 2.5 }, { margin: 1, align });
      await check(gpu, 66, 67, 130, { ...options, accumulate: true }, { margin: 3, align });
    }
  });
}

gpuTest(
  "matmul_texture_vec4 (C's rows whole vec4s): odd shapes, views, alpha and accumulate, every transpose",
  async (gpu) => {
    let seed = 500;
    for (const [transA, transB] of TRANSPOSES) {
      for (const [M, N, K] of [[1, 4, 7], [7, 132, 1], [129, 20, 129], [33, 516, 9]]) {
        const placement = { seed: seed += 3, alignC: 4, align: seed % 2 ? 1 : 4 };
        await check(gpu, M, N, K, { variant: "texture", transA, transB }, placement);
        await check(gpu, M, N, K, { variant: "texture", transA, transB, alpha: -0.75, accumulate: true }, {
          ...placement,
          margin: 2,
        });
      }
    }
    const view = (offset: number, ld: number, cols: number, size = 64) =>
      ({ tensor: { buffer: { size: size * 4 } }, offset, rows: 2, cols, ld }) as unknown as MatrixView;
    assertEquals(textureProductShader(view(4, 8, 8), false), "matmul_texture_vec4");
    assertEquals(textureProductShader(view(4, 8, 8), true), "matmul_texture"); // mirrored stores (XᵀX's last slice)
    assertEquals(textureProductShader(view(2, 8, 8), false), "matmul_texture");
    assertEquals(textureProductShader(view(4, 6, 4), false), "matmul_texture");
    assertEquals(textureProductShader(view(4, 8, 6), false), "matmul_texture");
    assertEquals(textureProductShader(view(4, 8, 8, 63), false), "matmul_texture");
  },
);

for (const variant of MATMUL_VARIANTS) {
  gpuTest(`matmul ${variant}: K = 0 gives C = 0, or leaves C unchanged when accumulating`, async (gpu) => {
    await check(gpu, 7, 9, 0, { variant });
    await check(gpu, 7, 9, 0, { variant, accumulate: true });
  });
}

gpuTest(`matmul: a 1000-ish product, every kernel (checked on every 7th row and the last)`, async (gpu) => {
  const [M, N, K] = [1000, 1001, 999];
  const a = randomMatrix(gpu, M, K, 1, { label: "A" }), b = randomMatrix(gpu, K, N, 2, { label: "B" });
  // the same matrices again with leading dimensions padded to multiples of 4 (vec4 kernel)
  const a4 = padded(gpu, a.host, 4), b4 = padded(gpu, b.host, 4);
  const c = empty(gpu, [M, N], "f32", "C");
  // the reference on a sample of A's rows keeps this test to seconds (the full one is 1e9 MACs)
  const rows = [...Array.from({ length: Math.ceil(M / 7) }, (_, t) => 7 * t), M - 1];
  const aRows = new Float32Array(rows.length * K);
  rows.forEach((i, t) => aRows.set(a.host.data.subarray(i * K, (i + 1) * K), t * K));
  const sample = ref.hostMat(new Float32Array(rows.length * N), rows.length, N);
  const expected = ref.matmul(ref.hostMat(aRows, rows.length, K), b.host, sample, { alpha: 0.5 });
  const runs = [["texture", a, b], ["register", a, b], ["register", a4, b4], ["tiled", a, b]] as const;
  for (const [variant, x, y] of runs) {
    await matmul(x.view, y.view, mat(c), { variant, alpha: 0.5 });
    const all = await c.read();
    const got = new Float32Array(rows.length * N);
    rows.forEach((i, t) => got.set(all.subarray(i * N, (i + 1) * N), t * N));
    const what = `${matmulShader(variant, x.view, y.view)} 1000x1001x999`;
    assertCloseScaled(got, expected.data, expected.scale, sample, RTOL, what);
  }
  for (const t of [a.tensor, b.tensor, a4.tensor, b4.tensor, c]) t.release();
});

/** A tight host matrix re-uploaded with its leading dimension rounded up to a multiple of `align`. */
function padded(gpu: Gpu, m: ref.HostView, align: number): { tensor: Tensor; view: MatrixView } {
  const ld = Math.ceil(m.cols / align) * align;
  const data = new Float32Array(m.rows * ld);
  for (let i = 0; i < m.rows; i++) data.set(m.data.subarray(m.offset + i * m.ld, m.offset + i * m.ld + m.cols), i * ld);
  const tensor = upload(gpu, data, [m.rows, ld], "padded");
  return { tensor, view: { tensor, offset: 0, rows: m.rows, cols: m.cols, ld } };
}

gpuTest("matmul register: grids past the workgroup limit are split over several dispatches", async (gpu) => {
  // tall: M needs more than 65535 row tiles; wide: likewise for N (K = 2 keeps it cheap). The
  // split is the same code for both kernels (gridChunks, tested below); only the register kernel
  // runs it for real, because 65536 barrier-synchronised workgroups take minutes on llvmpipe.
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  await check(gpu, max * 32 + 77, 3, 2, { variant: "register", accumulate: true, alpha: -1 }); // 4-row x 8 tiles
  await check(gpu, 2, max * 64 + 77, 2, { variant: "register", transB: true }); // 8 columns x 8 tiles
});

gpuTest("matmul texture: products too tall or too wide for a texture run the register kernel", async (gpu) => {
  const max = gpu.limits.maxTextureDimension2D;
  const tall = max + 17, wide = 4 * max + 33;
  const fake = (rows: number, cols: number) => ({ tensor: { gpu }, offset: 0, rows, cols, ld: cols }) as MatrixView;
  assertEquals(matmulShader("texture", fake(7, 9), fake(9, 7), 7, 7), "matmul_texture");
  assertEquals(matmulShader("texture", fake(tall, 2), fake(2, 3), tall, 3), "matmul_register");
  assertEquals(matmulShader("texture", fake(2, 2), fake(2, wide), 2, wide), "matmul_register");
  assertEquals(textureFits(gpu, max, 4 * max), true);
  await check(gpu, tall, 3, 2, { variant: "texture", accumulate: true, alpha: -1 });
  await check(gpu, 2, wide, 3, { variant: "texture", transB: true });
});

for (const [shader, align] of [["pack_texture", 1], ["pack_texture_vec4", 4]] as const) {
  gpuTest(`${shader} equals the reference on odd windows, transposed or not, zero-padded`, async (gpu) => {
    const cases = [[5, 7, 2, false, 3, 16], [9, 13, 1, true, 4, 10], [6, 3, 0, true, 2, 9], [13, 6, 3, false, 2, 15]];
    for (
      const [rows, cols, margin, trans, width, height] of cases as [number, number, number, boolean, number, number][]
    ) {
      const x = randomMatrix(gpu, rows, cols, rows, { margin, align, label: "X" });
      const [r, c] = trans ? [cols, rows] : [rows, cols];
      const params = { rows: r, cols: c, off: x.view.offset, ld: x.view.ld, width, height };
      const grid: [number, number, number] = [Math.ceil(width / 8), Math.ceil(height / (align === 4 ? 32 : 8)), 1];
      const got = await packedTexels(gpu, width, height, (t) =>
        launch(gpu, shader, { x: x.tensor, t }, {
          grid,
          params,
          constants: { TRANS: Number(trans) },
        }));
      assertEquals(got, ref.packTexture(x.host, trans, width, height), `${shader} ${rows}x${cols} trans=${trans}`);
      x.tensor.release();
    }
  });
}

for (const copied of [false, true]) {
  gpuTest(
    `matmul texture equals the register kernel bit for bit (same fma order), every transpose${
      copied ? ", rows copied into textures" : ""
    }`,
    async (gpu) => {
      for (const [transA, transB] of TRANSPOSES) {
        // three k-slices, the last partial; copies need K a multiple of 4 and leading dimensions of 64
        const [M, N, K] = [131, 75, copied ? 1028 : 1029];
        const a = randomMatrix(gpu, transA ? K : M, transA ? M : K, 5, { margin: 2, align: copied ? 64 : 4 });
        const b = randomMatrix(gpu, transB ? N : K, transB ? K : N, 6, { margin: 1, align: copied ? 64 : 1 });
        const out: Float32Array[] = [];
        for (const variant of ["texture", "register"] as const) {
          using c = empty(gpu, [M, N], "f32", "C");
          await matmul(a.view, b.view, mat(c), { variant, transA, transB, alpha: 0.75 });
          out.push(await c.read());
        }
        assertEquals(out[0], out[1], opName(transA, transB));
        a.tensor.release();
        b.tensor.release();
      }
    },
  );
}

gpuTest(
  "matmul texture: copied operands leave no stale texels in the result (NaN left by a larger product)",
  async (gpu) => {
    // a larger product with NaN operands fills the scratch textures past the next product's rows and columns
    const big = 300;
    using nan = upload(gpu, new Float32Array(big * big).fill(NaN), [big, big], "NaN");
    using junk = empty(gpu, [big, big], "f32", "junk");
    await matmul(mat(nan), mat(nan), mat(junk), { variant: "texture" });
    await matmul(mat(nan), mat(nan), mat(junk), { variant: "texture", transB: true });
    await matmul(mat(nan), mat(nan), mat(junk), { variant: "texture", transA: true });
    for (const [transA, transB] of TRANSPOSES) {
      const [M, N, K] = [37, 21, 64]; // rows of op(A) and of op(B)ᵀ past 37 / 21 in the textures are NaN
      const a = randomMatrix(gpu, transA ? K : M, transA ? M : K, 7, { margin: 1, align: 64 });
      const b = randomMatrix(gpu, transB ? N : K, transB ? K : N, 8, { margin: 1, align: 64 });
      using c = empty(gpu, [M, N], "f32", "C");
      await matmul(a.view, b.view, mat(c), { variant: "texture", transA, transB });
      const host = ref.hostMat(new Float32Array(M * N), M, N);
      const expected = ref.matmul(a.host, b.host, host, { transA, transB });
      assertCloseScaled(await c.read(), expected.data, expected.scale, host, RTOL, `copied, ${opName(transA, transB)}`);
      a.tensor.release();
      b.tensor.release();
    }
  },
);

gpuTest(
  "matmul texture: the two layouts of op(B) keep textures of their own (neither grows to the other's shape)",
  async (gpu) => {
    const [M, N, K] = [16, 2000, 64];
    const a = randomMatrix(gpu, M, K, 1, { align: 64 });
    const w = randomMatrix(gpu, N, K, 2, { align: 64 }); //         W [N, K]: op(B) = Wᵀ copied as W's rows
    const b = randomMatrix(gpu, K, N, 3, { margin: 1 }); //         unaligned: packed as op(B)'s rows of k
    using c = empty(gpu, [M, N], "f32", "C");
    await matmul(a.view, w.view, mat(c), { variant: "texture", transB: true });
    await matmul(a.view, b.view, mat(c), { variant: "texture" });
    await gpu.sync();
    const [rowsW, rowsH] = gpu.textures.size("matmul B rows")!, [packedW, packedH] = gpu.textures.size("matmul B")!;
    assert(rowsH >= N && rowsW < N / 4, `"matmul B rows" is ${rowsW} x ${rowsH} texels`);
    assert(packedW >= N / 4 && packedH < N, `"matmul B" is ${packedW} x ${packedH} texels`);
    for (const t of [a.tensor, w.tensor, b.tensor]) t.release();
  },
);

for (
  const [K, variant] of [
    [64, "texture"],
    [256, "texture"],
    [576, "texture"],
    [250, "texture"],
    [64, "register"],
    [250, "tiled"],
  ] as const
) {
  gpuTest(
    `matmulRowStack: C = A·[W1; W2; W3]ᵀ is each weight's own product bit for bit (K = ${K}, ${variant})`,
    async (gpu) => {
      // K 64 / 256 on the texture variant: one product, the weights copied one below the other;
      // K 250 or another variant: one product per weight into its columns of C
      const M = 37, rows = [21, 16, 5];
      const a = randomMatrix(gpu, M, K, 11, { align: 64 });
      using weights = new DisposableStack();
      const ws = rows.map((n, i) =>
        weights.use(upload(gpu, randomMatrix(gpu, n, K, 20 + i).host.data, [n, K], `W${i}`))
      );
      using c = empty(gpu, [M, 42], "f32", "C");
      const before = gpu.recorder.dispatchCount;
      await matmulRowStack(a.view, ws, mat(c), variant);
      if (variant === "texture" && K % 64 === 0) { // one product: one dispatch per k-slice of 512, nothing packed
        assertEquals(gpu.recorder.dispatchCount - before, Math.ceil(K / 512), "dispatches of the single product");
      }
      const got = await c.read() as Float32Array;
      let j = 0;
      for (const [i, w] of ws.entries()) {
        using alone = empty(gpu, [M, rows[i]], "f32", "alone");
        await matmul(a.view, mat(w), mat(alone), { transB: true, variant });
        const want = await alone.read() as Float32Array;
        for (let r = 0; r < M; r++) {
          assertEquals(got.subarray(r * 42 + j, r * 42 + j + rows[i]), want.subarray(r * rows[i], (r + 1) * rows[i]));
        }
        j += rows[i];
      }
      a.tensor.release();
    },
  );
}

gpuTest("matmulRowStack rejects weights of another width and a C of the wrong shape", async (gpu) => {
  using a = empty(gpu, [4, 8], "f32", "A"), w1 = empty(gpu, [3, 8], "f32", "W1"), w2 = empty(gpu, [2, 7], "f32", "W2");
  using c = empty(gpu, [4, 5], "f32", "C"), c2 = empty(gpu, [4, 6], "f32", "C2");
  await assertRejects(
    () => matmulRowStack(mat(a), [w1, w2], mat(c)),
    RangeError,
    'matmulRowStack: weight 1 "W2" is f32 [2,7]; expected f32 [rows, 8] (A is 4x8)',
  );
  await assertRejects(
    () => matmulRowStack(mat(a), [w1, w1], mat(c)),
    RangeError,
    "matmulRowStack: C is 4x5; expected 4x6 (A's rows, the weights' rows)",
  );
  await matmulRowStack(mat(a), [w1, w1], mat(c2)); // the same weight twice is fine
});

gpuTest("gridChunks covers the output exactly with grids within the limit", () => {
  assertEquals(gridChunks(10, 20, 4, 8, 100), [{ i: 0, m: 10, j: 0, n: 20 }]);
  assertEquals(gridChunks(0, 20, 4, 8, 100), []);
  assertEquals(gridChunks(9, 17, 2, 4, 2), [
    { i: 0, m: 4, j: 0, n: 8 },
    { i: 0, m: 4, j: 8, n: 8 },
    { i: 0, m: 4, j: 16, n: 1 },
    { i: 4, m: 4, j: 0, n: 8 },
    { i: 4, m: 4, j: 8, n: 8 },
    { i: 4, m: 4, j: 16, n: 1 },
    { i: 8, m: 1, j: 0, n: 8 },
    { i: 8, m: 1, j: 8, n: 8 },
    { i: 8, m: 1, j: 16, n: 1 },
  ]);
  return Promise.resolve();
});

gpuTest("matmul: A and B may be the same view (XᵀX), and all views of one tensor work", async (gpu) => {
  const x = randomMatrix(gpu, 65, 33, 5, { margin: 2, label: "X" });
  const c = upload(gpu, new Float32Array(33 * 33), [33, 33], "C");
  const host = ref.hostMat(new Float32Array(33 * 33), 33, 33);
  for (const variant of MATMUL_VARIANTS) {
    await matmul(x.view, x.view, mat(c), { transA: true, variant });
    const expected = ref.matmul(x.host, x.host, host, { transA: true });
    assertCloseScaled(await c.read(), expected.data, expected.scale, host, RTOL, `${variant} XᵀX`);
  }
  x.tensor.release();
  c.release();
});

gpuTest("matmulNew allocates an [M, N] result", async (gpu) => {
  const a = randomMatrix(gpu, 9, 13, 1);
  const b = randomMatrix(gpu, 11, 13, 2);
  const c = await matmulNew(a.view, b.view, { transB: true, alpha: 3 }, "AB");
  assertEquals(c.shape, [9, 11]);
  assertEquals(c.label, "AB");
  await assertProduct(c, a, b, { transB: true, alpha: 3 }, "matmulNew");
  for (const t of [a.tensor, b.tensor, c]) t.release();
});

gpuTest("matmulVariant: texture on fallback adapters, tiled on GPUs; option and environment override", (gpu) => {
  const saved = Deno.env.get(MATMUL_VARIANT_ENV);
  try {
    Deno.env.delete(MATMUL_VARIANT_ENV);
    assertEquals(matmulVariant(gpu), gpu.info.isFallback ? "texture" : "tiled");
    assertEquals(matmulVariant(gpu, "tiled"), "tiled");
    Deno.env.set(MATMUL_VARIANT_ENV, "tiled");
    assertEquals(matmulVariant(gpu), "tiled");
    assertEquals(matmulVariant(gpu, "register"), "register");
    Deno.env.set(MATMUL_VARIANT_ENV, "fast");
    assertThrows(
      () => matmulVariant(gpu),
      RangeError,
      `matmul: $THANOS_MATMUL_VARIANT is "fast"; expected one of "texture", "register", "tiled"`,
    );
    assertThrows(
      () => matmulVariant(gpu, "simd" as never),
      RangeError,
      `matmul: options.variant is "simd"; expected one of "texture", "register", "tiled"`,
    );
  } finally {
    if (saved === undefined) Deno.env.delete(MATMUL_VARIANT_ENV);
    else Deno.env.set(MATMUL_VARIANT_ENV, saved);
  }
  return Promise.resolve();
});

gpuTest("without WGSL that reads storage textures, the texture variant runs the register kernels", async (gpu) => {
  const a = randomMatrix(gpu, 37, 24, 1);
  const b = randomMatrix(gpu, 24, 29, 2);
  const saved = gpu.info.readsStorageTextures;
  try {
    gpu.info.readsStorageTextures = false;
    assert(!textureFits(gpu, 37, 29));
    assert(matmulShader("texture", a.view, b.view, 37, 29).startsWith("matmul_register"));
    const c = await matmulNew(a.view, b.view, { variant: "texture" }, "C");
    await assertProduct(c, a, b, {}, "texture variant without storage-texture reads");
    c.release();
  } finally {
    gpu.info.readsStorageTextures = saved;
  }
  for (const t of [a.tensor, b.tensor]) t.release();
});

gpuTest("matmul rejects bad input with messages naming the shapes", async (gpu) => {
  const a = empty(gpu, [3, 4], "f32", "A");
  const b = empty(gpu, [5, 2], "f32", "B");
  const c = empty(gpu, [3, 2], "f32", "C");
  const big = empty(gpu, [10, 10], "f32", "big");
  await assertRejects(
    () => matmul(mat(a), mat(b), mat(c)),
    RangeError,
    "matmul: A is 3x4 but B is 5x2; expected A.cols == B.rows",
  );
  await assertRejects(
    () => matmul(mat(a), mat(b), mat(c), { transA: true, transB: true }),
    RangeError,
    "matmul: Aᵀ is 4x3 but Bᵀ is 2x5; expected Aᵀ.cols == Bᵀ.rows",
  );
  const c22 = empty(gpu, [2, 2], "f32", "C22");
  await assertRejects(
    () => matmul(mat(a), sub(mat(big), 0, 0, 4, 2), mat(c22)),
    RangeError,
    "matmul: C is 2x2 but A·B is 3x2; expected C to be 3x2",
  );
  await assertRejects(
    () => matmul(sub(mat(big), 0, 0, 3, 3), sub(mat(big), 0, 3, 3, 3), sub(mat(big), 5, 5, 3, 3)),
    RangeError,
    `matmul: C aliases A (both live in the buffer of "big"); expected C in a separate tensor`,
  );
  await assertRejects(
    () => matmul(mat(c), sub(mat(big), 0, 0, 2, 3), sub(mat(big), 5, 5, 3, 3)),
    RangeError,
    `matmul: C aliases B (both live in the buffer of "big"); expected C in a separate tensor`,
  );
  await assertRejects(
    () => matmul(mat(a), sub(mat(big), 0, 0, 4, 2), mat(c), { alpha: NaN }),
    RangeError,
    "matmul: alpha is NaN; expected a finite number",
  );
  const u = empty(gpu, [3, 4], "u32", "mask");
  await assertRejects(
    () => matmul(mat(u), sub(mat(big), 0, 0, 4, 2), mat(c)),
    TypeError,
    `matmul: A "mask"[0:3, 0:4] (3x4) is u32; expected f32`,
  );
  await assertRejects(
    () => matmul({ tensor: a, offset: 2, rows: 3, cols: 4, ld: 4 }, sub(mat(big), 0, 0, 4, 2), mat(c)),
    RangeError,
    `matmul: A (offset 2, 3x4, ld 4) ends at element 14 but "A" has only 12`,
  );
  await assertRejects(
    () => matmul({ tensor: a, offset: 0, rows: 2, cols: 4, ld: 3 }, sub(mat(big), 0, 0, 4, 2), mat(c)),
    RangeError,
    "matmul: A is not a valid view (offset 0, 2x4, ld 3); expected non-negative integers with ld >= cols",
  );
  await assertRejects(
    () => matmulNew(mat(a), mat(b)),
    RangeError,
    "matmul: A is 3x4 but B is 5x2; expected A.cols == B.rows",
  );
  for (const t of [a, b, c, c22, big, u]) t.release();
});

gpuTest("matmul results are usable by the next kernel without a read in between", async (gpu) => {
  // C = A·B, then C += A·B again, recorded back to back: ordering comes from the recorder
  const a = randomMatrix(gpu, 17, 19, 3);
  const b = randomMatrix(gpu, 19, 23, 4);
  const c = empty(gpu, [17, 23], "f32", "C");
  await fill(c, 7);
  await matmul(a.view, b.view, mat(c));
  await matmul(a.view, b.view, mat(c), { accumulate: true });
  await assertProduct(c, a, b, { alpha: 2 }, "A·B twice");
  for (const t of [a.tensor, b.tensor, c]) t.release();
});
