/**
 * copyView, scale and axpy against the plain-TS reference on odd shapes, windows of larger
 * tensors (elements outside the window must not change) and whole tensors, plus bad input.
 *
 * Tolerances: copy and scale are exact (one f32 rounding of an exact product); axpy allows one
 * rounding of the sum, |y − y_ref| ≤ 2⁻²³·(|y| + |alpha·x|), since WGSL may or may not fuse fma.
 */

import { assertEquals, assertRejects } from "./assert.ts";
import { empty, type Gpu, upload } from "../thanos/gpu/mod.ts";
import { axpy, copyView, fill, scale } from "../thanos/linalg/elementwise.ts";
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
    "copyView: src is 3x4 but dst is 4x3; expected equal shapes",
  );
  await assertRejects(
    () => copyView(sub(mat(a), 0, 0, 1, 2), sub(mat(a), 2, 2, 1, 2)),
    RangeError,
    `copyView: dst aliases src (both live in the buffer of "a"); expected dst in a separate tensor`,
  );
  await assertRejects(() => axpy(mat(a), mat(b)), RangeError, "axpy: y is 3x4 but x is 4x3; expected equal shapes");
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
  await assertRejects(() => scale(m, 2), TypeError, `scale: x must be an f32 tensor but "mask" is u32`);
  await assertRejects(
    () => scale({ tensor: a, offset: 10, rows: 1, cols: 4, ld: 4 }, 2),
    RangeError,
    `scale: x (offset 10, 1x4, ld 4) ends at element 14 but "a" has only 12`,
  );
  for (const t of [a, b, m]) t.release();
});
