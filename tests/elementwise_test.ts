/**
 * copyView, copyStrided (transposed and reversed), scale and axpy against the plain-TS reference on
 * odd shapes, windows of larger tensors (elements outside the window must not change) and whole
 * tensors, plus bad input.
 *
 * Tolerances: copy and scale are exact (one f32 rounding of an exact product); axpy allows one
 * rounding of the sum, |y − y_ref| ≤ 2⁻²³·(|y| + |alpha·x|), since WGSL may or may not fuse fma.
 */

import { assertEquals, assertRejects } from "./assert.ts";
import { empty, type Gpu, upload } from "../thanos/gpu/mod.ts";
import { axpy, copyStrided, copyView, fill, scale, transposed } from "../thanos/linalg/elementwise.ts";
import { mat, sub } from "../thanos/linalg/view.ts";
import * as ref from "./reference/elementwise.ts";
import { assertCloseScaled, randomMatrix, type TestMatrix } from "./linalg_util.ts";
import { gpuTest, randn } from "./util.ts";

/** The shapes: every rows x cols from {1, 7, 129, 513, 1000} (the largest is 1M elements). */
const SIZES = [1, 7, 129, 513, 1000];

/** A rows x cols matrix: a whole tensor, or a window with margin 2 in a larger one. */
function matrix(gpu: Gpu, rows: number, cols: number, seed: number, window: boolean): TestMatrix {
  return randomMatrix(gpu, rows, cols, seed, { margin: window ? 2 : 0 });
}

function release(...ms: TestMatrix[]): void {
  for (const m of ms) m.tensor.release();
}

const exact = (n: number) => new Float64Array(n); // zero tolerance scale

for (const window of [false, true]) {
  const where = window ? "windows of larger tensors" : "whole tensors";

  gpuTest(`copyView matches the reference on ${where}`, async (gpu) => {
    for (const rows of SIZES) {
      for (const cols of SIZES) {
        const src = matrix(gpu, rows, cols, rows + cols, window);
        // the destination has a different layout from the source when it is a window
        const dst = randomMatrix(gpu, rows, cols, rows * cols, { margin: window ? 1 : 0 });
        await copyView(src.view, dst.view);
        const expected = ref.copyView(src.host, dst.host);
        const what = `copyView ${rows}x${cols}`;
        assertCloseScaled(await dst.tensor.read(), expected, exact(rows * cols), dst.host, 0, what, 0);
        release(src, dst);
      }
    }
  });

  gpuTest(`scale matches the reference on ${where}`, async (gpu) => {
    for (const rows of SIZES) {
      for (const cols of SIZES) {
        const x = matrix(gpu, rows, cols, rows + cols, window);
        await scale(x.view, -0.3);
        const expected = ref.scale(x.host, -0.3);
        const what = `scale ${rows}x${cols}`;
        assertCloseScaled(await x.tensor.read(), expected, exact(rows * cols), x.host, 0, what, 0);
        release(x);
      }
    }
  });

  gpuTest(`axpy matches the reference on ${where}`, async (gpu) => {
    for (const rows of SIZES) {
      for (const cols of SIZES) {
        const y = matrix(gpu, rows, cols, rows + cols, window);
        const x = randomMatrix(gpu, rows, cols, rows * cols + 1, { margin: window ? 1 : 0 });
        await axpy(y.view, x.view, 1.7);
        const expected = ref.axpy(y.host, x.host, 1.7);
        const bound = new Float64Array(rows * cols);
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) {
            bound[i * cols + j] = Math.abs(y.host.data[y.host.offset + i * y.host.ld + j]) +
              Math.abs(1.7 * x.host.data[x.host.offset + i * x.host.ld + j]);
          }
        }
        assertCloseScaled(await y.tensor.read(), expected, bound, y.host, 2 ** -23, `axpy ${rows}x${cols}`, 0);
        release(x, y);
      }
    }
  });
}

gpuTest(
  "scale and axpy take whole tensors of any rank; copyView of contiguous windows is a buffer copy",
  async (gpu) => {
    const data = randn(2 * 3 * 5, 1), other = randn(30, 2);
    const x = upload(gpu, data, [2, 3, 5], "x");
    const y = upload(gpu, other, [2, 3, 5], "y");
    await scale(x, 2);
    assertEquals(await x.read(), data.map((v) => 2 * v));
    await axpy(y, x, -0.5);
    assertEquals(await y.read(), other.map((v, i) => Math.fround(v - Math.fround(2 * data[i]) * 0.5)));
    // rows 1..2 of a [4, 5] tensor into rows 0..1 of a [2, 5] one: contiguous on both sides
    const src = upload(gpu, randn(20, 3), [4, 5], "src");
    const dst = empty(gpu, [2, 5], "f32", "dst");
    const before = gpu.recorder.dispatchCount;
    await copyView(sub(mat(src), 1, 0, 2, 5), mat(dst));
    assertEquals(gpu.recorder.dispatchCount, before); // no kernel
    assertEquals(await dst.read(), (await src.read()).slice(5, 15));
    for (const t of [x, y, src, dst]) t.release();
  },
);

gpuTest("copyStrided copies transposed and reversed windows exactly (the kernel behind copyView)", async (gpu) => {
  for (const [rows, cols] of [[1, 1], [7, 129], [129, 7], [513, 1000]]) {
    // transposed: dst [rows, cols] = srcᵀ with src a [cols, rows] window of a larger tensor
    const src = matrix(gpu, cols, rows, rows * 3 + cols, true);
    const dst = randomMatrix(gpu, rows, cols, rows + 7 * cols, { margin: 1 });
    await copyStrided(transposed(src.view), dst.view);
    let want = ref.copyStrided(src.host.data, src.host.offset, 1, src.host.ld, dst.host);
    assertCloseScaled(await dst.tensor.read(), want, exact(rows * cols), dst.host, 0, `transposed ${rows}x${cols}`, 0);
    // reversed: dst[i, j] = src'[rows−1−i, cols−1−j] with src' a [rows, cols] window
    const fwd = matrix(gpu, rows, cols, rows + cols, true);
    const last = fwd.host.offset + (rows - 1) * fwd.host.ld + cols - 1;
    await copyStrided({ tensor: fwd.tensor, offset: last, rowStride: -fwd.host.ld, colStride: -1 }, dst.view);
    want = ref.copyStrided(fwd.host.data, last, -fwd.host.ld, -1, { ...dst.host, data: want });
    assertCloseScaled(await dst.tensor.read(), want, exact(rows * cols), dst.host, 0, `reversed ${rows}x${cols}`, 0);
    release(src, dst, fwd);
  }
});

gpuTest("copyStrided rejects strides that leave the source and aliased or non-f32 operands", async (gpu) => {
  const a = empty(gpu, [3, 4], "f32", "a"), b = empty(gpu, [4, 3], "f32", "b"), m = empty(gpu, [12], "u32", "mask");
  await assertRejects(
    () => copyStrided({ tensor: a, offset: 11, rowStride: -4, colStride: 1 }, mat(b)),
    RangeError,
    `copyStrided: src offset 11 with strides (-4, 1) reaches elements -1 … 13 for a 4x3 copy; expected them within "a" of 12`,
  );
  await assertRejects(
    () => copyStrided(transposed(sub(mat(a), 0, 0, 3, 2)), sub(mat(a), 0, 2, 2, 2)),
    RangeError,
    `copyStrided: dst aliases src (both live in the buffer of "a"); expected dst in a separate tensor`,
  );
  await assertRejects(
    () => copyStrided({ tensor: m, offset: 0, rowStride: 3, colStride: 1 }, mat(b)),
    TypeError,
    `copyStrided: src "mask" is u32; expected f32`,
  );
  await assertRejects(
    () => copyStrided({ tensor: a, offset: 0, rowStride: 0.5, colStride: 1 }, mat(b)),
    RangeError,
    "copyStrided: src offset 0 and strides (0.5, 1) must be integers below 2^31 in magnitude",
  );
  for (const t of [a, b, m]) t.release();
});

gpuTest("elementwise kernels fold 1-D grids past 65535 workgroups", async (gpu) => {
  const n = 65535 * 256 + 9;
  const x = upload(gpu, new Float32Array(n).fill(3), [n], "x");
  const y = empty(gpu, [n], "f32", "y");
  await fill(y, 1);
  await scale(x, 2);
  await axpy(y, x, 0.5); // 1 + 0.5·6 = 4
  const yv = await y.read();
  assertEquals([yv[0], yv[65535 * 256], yv[n - 1]], [4, 4, 4]);
  assertEquals(yv.every((v) => v === 4), true);
  // a strided copy (column window) of a tall matrix: n rows x 1 column out of n x 2
  const tall = upload(gpu, new Float32Array(2 * n).map((_, e) => e % 2), [n, 2], "tall");
  await copyView(sub(mat(tall), 0, 1, n, 1), mat(y.reshape([n, 1])));
  assertEquals((await y.read()).every((v) => v === 1), true);
  for (const t of [x, y, tall]) t.release();
});

gpuTest("elementwise helpers reject bad input with messages naming the shapes", async (gpu) => {
  const a = empty(gpu, [3, 4], "f32", "a");
  const b = empty(gpu, [4, 3], "f32", "b");
  const m = empty(gpu, [3, 4], "u32", "mask");
  await assertRejects(
    () => copyView(mat(a), mat(b)),
    RangeError,
    "copyView: src is 3x4 but dst is 4x3; expected the same shape",
  );
  await assertRejects(
    () => copyView(sub(mat(a), 0, 0, 1, 2), sub(mat(a), 2, 2, 1, 2)),
    RangeError,
    `copyView: dst aliases src (both live in the buffer of "a"); expected dst in a separate tensor`,
  );
  await assertRejects(() => axpy(mat(a), mat(b)), RangeError, "axpy: y is 3x4 but x is 4x3; expected the same shape");
  await assertRejects(
    () => axpy(sub(mat(a), 0, 0, 1, 2), sub(mat(a), 1, 0, 1, 2)),
    RangeError,
    `axpy: y aliases x (both live in the buffer of "a"); expected y in a separate tensor`,
  );
  await assertRejects(
    () => axpy(a, b.reshape([3, 4]), NaN),
    RangeError,
    "axpy: alpha is NaN; expected a finite number",
  );
  await assertRejects(() => scale(a, Infinity), RangeError, "scale: alpha is Infinity; expected a finite number");
  await assertRejects(() => scale(m, 2), TypeError, `scale: x "mask"[0:1, 0:12] (1x12) is u32; expected f32`);
  await assertRejects(
    () => scale({ tensor: a, offset: 10, rows: 1, cols: 4, ld: 4 }, 2),
    RangeError,
    `scale: x (offset 10, 1x4, ld 4) ends at element 14 but "a" has only 12`,
  );
  for (const t of [a, b, m]) t.release();
});
