/**
 * The sparse batch products (thanos/linalg/sparse_matmul.ts) against tests/reference/sparse_matmul.ts
 * on odd shapes — rows and cols not multiples of 4 or 32 (2:4 needs cols % 4 == 0), n = 1, 3, 17
 * tokens (token tiles of 8 partly filled), 2:4 weights with groups of 0..2 non-zeros, unstructured
 * ~50% ones with an empty row — and against the dense product of the
 * decompressed weight. Tolerance atol 1e-4 + rtol 1e-5 (f32 sums of up to 260 products of O(1)
 * values, as for the dense matmul).
 */

import { assertEquals, assertRejects } from "./assert.ts";
import { upload } from "../thanos/gpu/mod.ts";
import { compress24, compressBitmask } from "../thanos/model/compressed.ts";
import { upload24, uploadBitmask } from "../thanos/linalg/sparse_weight.ts";
import { sparseMatmul, sparseMatmulNew } from "../thanos/linalg/sparse_matmul.ts";
import * as ref from "./reference/sparse_matmul.ts";
import { assertClose, gpuTest, randn } from "./util.ts";
import { sparseWeights } from "./sparse_weights.ts";

const TOL = { rtol: 1e-5, atol: 1e-4 };

/** X·Wᵀ in f64 from the dense weight. */
function denseProduct(x: Float32Array, w: Float32Array, n: number, rows: number, cols: number): Float32Array {
  const y = new Float32Array(n * rows);
  for (let t = 0; t < n; t++) {
    for (let r = 0; r < rows; r++) {
      let acc = 0;
      for (let c = 0; c < cols; c++) acc += x[t * cols + c] * w[r * cols + c];
      y[t * rows + r] = acc;
    }
  }
  return y;
}

for (const pattern of ["2:4", "unstructured"] as const) {
  gpuTest(
    `sparseMatmul (${pattern}) equals the reference on odd shapes, n = 1, 3, 17`,
    async (gpu) => {
      const colsList = pattern === "2:4" ? [4, 12, 36, 260] : [1, 5, 33, 100, 260];
      for (const rows of [1, 7, 130]) {
        for (const cols of colsList) {
          const w = sparseWeights(rows, cols, rows * 31 + cols, pattern);
          if (rows === 7) w.fill(0, 2 * cols, 3 * cols); //          an empty row (all groups without non-zeros)
          const c = pattern === "2:4" ? compress24(w, rows, cols) : compressBitmask(w, rows, cols);
          using W = pattern === "2:4"
            ? upload24(gpu, c.compressed, c.bitmask, rows, cols, "w24")
            : uploadBitmask(gpu, c.compressed, c.bitmask, c.rowOffsets!, rows, cols, "wb");
          for (const n of [1, 3, 17]) {
            const x = randn(n * cols, n + cols);
            using xT = upload(gpu, x, [n, cols], "x");
            using y = await sparseMatmulNew(W, xT);
            const yp = (await y.read()) as Float32Array;
            const where = `${pattern} n=${n} ${rows}x${cols}`;
            const rowOffsets = c.rowOffsets ?? null;
            assertClose(yp, ref.sparseMatmul(c.compressed, c.bitmask, rowOffsets, rows, cols, x, n), TOL, where);
            assertClose(yp, denseProduct(x, w, n, rows, cols), TOL, `${where} vs dense`);
          }
        }
      }
    },
  );
}

gpuTest("sparseMatmul rejects mismatched shapes with messages naming the operand", async (gpu) => {
  const w = sparseWeights(8, 12, 1, "2:4");
  const c = compress24(w, 8, 12);
  using W = upload24(gpu, c.compressed, c.bitmask, 8, 12, "w24");
  using x = upload(gpu, randn(3 * 12, 2), [3, 12], "x");
  using yBad = upload(gpu, new Float32Array(3 * 7), [3, 7], "y");
  using xBad = upload(gpu, new Float32Array(3 * 8), [3, 8], "xb");
  const e1 = await assertRejects(() => sparseMatmul(W, x, yBad), RangeError);
  assertEquals(e1.message, 'sparse24Matmul: y "y" is [3, 7]; expected [3, 8]');
  const e2 = await assertRejects(() => sparseMatmul(W, xBad, yBad), RangeError);
  assertEquals(e2.message, 'sparse24Matmul: x "xb" is [3, 8]; expected [n, 12]');
  using xi = upload(gpu, new Float32Array(3 * 12), [3, 12], "xi");
  const e3 = await assertRejects(() => sparseMatmul(W, xi, yBad), RangeError);
  assertEquals(e3.message, 'sparse24Matmul: y "y" is [3, 7]; expected [3, 8]');
});
