/**
 * The sparse decode products (thanos/decode/sparse_ops.ts) against tests/reference/sparse.ts on odd
 * shapes — 2:4 weights (groups with 0..2 non-zeros) and unstructured ~50% ones — with offsets, bias and
 * accumulate, and against the dense matvec of the decompressed weight. Tolerance atol 1e-4 + rtol 1e-5
 * (f32 sums of up to 500 products of O(1) values, as for the dense matvec).
 */

import { assertEquals, assertThrows } from "./assert.ts";
import { readAll, upload, zeros } from "../thanos/gpu/mod.ts";
import { compress24, compressBitmask } from "../thanos/model/compressed.ts";
import { bitmaskMatvec, pack24Index, sparse24Matvec, upload24, uploadBitmask } from "../thanos/decode/sparse_ops.ts";
import * as ref from "./reference/sparse.ts";
import * as dense from "./reference/decode.ts";
import { assertClose, gpuTest, randn } from "./util.ts";
import { sparseWeights } from "./sparse_weights.ts";

const TOL = { rtol: 1e-5, atol: 1e-4 };

gpuTest("sparse24Matvec equals the reference on odd shapes, with offsets, bias and accumulate", async (gpu) => {
  for (const rows of [1, 7, 65, 130]) {
    for (const [cols, xo] of [[4, 3], [12, 3], [36, 3], [260, 3], [1000, 3], [8, 4], [40, 4], [1000, 4]]) {
      // xOffset 4 with cols % 8 == 0 runs the vec4 kernel, the others the scalar one
      const w = sparseWeights(rows, cols, rows * 31 + cols, "2:4");
      const c = compress24(w, rows, cols);
      const x = randn(cols + xo, cols), b = randn(rows, 7), y0 = randn(rows + 2, 9);
      using W = upload24(gpu, c.compressed, c.bitmask, rows, cols, "w24");
      using xT = upload(gpu, x, [x.length], "x");
      using bT = upload(gpu, b, [rows], "b");
      using yPlain = zeros(gpu, [rows], "f32", "y");
      using yAcc = upload(gpu, y0, [y0.length], "y0");
      await sparse24Matvec(W, xT, yPlain, { xOffset: xo });
      await sparse24Matvec(W, xT, yAcc, { xOffset: xo, bias: bT, accumulate: true, yOffset: 2 });
      const [plain, acc] = await readAll(yPlain, yAcc);
      const xs = x.subarray(xo);
      assertClose(plain, ref.sparse24Matvec(c.compressed, c.bitmask, rows, cols, xs), TOL, `2:4 ${rows}x${cols}`);
      assertClose(plain, dense.matvec(w, rows, cols, xs), TOL, `2:4 vs dense ${rows}x${cols}`);
      assertClose(
        acc.subarray(2),
        ref.sparse24Matvec(c.compressed, c.bitmask, rows, cols, xs, b, y0.subarray(2)),
        TOL,
        `2:4+b+acc ${rows}x${cols}`,
      );
      assertEquals([...acc.subarray(0, 2)], [...y0.subarray(0, 2)], "wrote outside its window");
    }
  }
});

gpuTest("bitmaskMatvec equals the reference on odd shapes, with offsets, bias and accumulate", async (gpu) => {
  for (const rows of [1, 7, 65, 130]) {
    for (const cols of [1, 5, 33, 100, 1000]) {
      const w = sparseWeights(rows, cols, rows * 17 + cols, "unstructured");
      if (rows === 7) w.fill(0, 2 * cols, 3 * cols); //                 an empty row
      const c = compressBitmask(w, rows, cols);
      const x = randn(cols + 3, cols), b = randn(rows, 7), y0 = randn(rows + 2, 9);
      using W = uploadBitmask(gpu, c.compressed, c.bitmask, c.rowOffsets!, rows, cols, "wb");
      using xT = upload(gpu, x, [x.length], "x");
      using bT = upload(gpu, b, [rows], "b");
      using yPlain = zeros(gpu, [rows], "f32", "y");
      using yAcc = upload(gpu, y0, [y0.length], "y0");
      await bitmaskMatvec(W, xT, yPlain, { xOffset: 3 });
      await bitmaskMatvec(W, xT, yAcc, { xOffset: 3, bias: bT, accumulate: true, yOffset: 2 });
      const [plain, acc] = await readAll(yPlain, yAcc);
      const xs = x.subarray(3);
      assertClose(
        plain,
        ref.bitmaskMatvec(c.compressed, c.bitmask, c.rowOffsets!, rows, cols, xs),
        TOL,
        `bitmask ${rows}x${cols}`,
      );
      assertClose(plain, dense.matvec(w, rows, cols, xs), TOL, `bitmask vs dense ${rows}x${cols}`);
      assertClose(
        acc.subarray(2),
        ref.bitmaskMatvec(c.compressed, c.bitmask, c.rowOffsets!, rows, cols, xs, b, y0.subarray(2)),
        TOL,
        `bitmask+b+acc ${rows}x${cols}`,
      );
      assertEquals([...acc.subarray(0, 2)], [...y0.subarray(0, 2)], "wrote outside its window");
    }
  }
});

Deno.test("pack24Index packs each group's two kept columns in 4 bits and refuses a group that is not 2 of 4", () => {
  // row of 12 columns: groups keep {0,1}, {1,3}, {0,2}
  const mask = new Uint8Array([0b1010_0011, 0b0101]);
  assertEquals([...pack24Index(mask, 1, 12)], [(0 | 1 << 2) | (1 | 3 << 2) << 4 | (0 | 2 << 2) << 8]);
  assertThrows(() => pack24Index(new Uint8Array([0b0111]), 1, 4), RangeError, "have 3 bits set; expected 2");
});
