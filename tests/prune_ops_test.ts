import { empty, upload, zeros } from "../thanos/gpu/mod.ts";
import { mat, sub } from "../thanos/linalg/view.ts";
import {
  broadcastRow,
  compactFlags,
  gather2d,
  nmRemovalSets,
  removalSets,
  rowDots,
  sparsegptBlock,
  sparsegptScores,
  zeroCols,
  zeroRows,
} from "../thanos/prune/ops.ts";
import { assertEquals, assertRejects } from "./assert.ts";
import * as ref from "./reference/prune_ops.ts";
import * as selectRef from "./reference/select.ts";
import { wandaScores } from "../thanos/linalg/mask.ts";
import { nmMask } from "../thanos/linalg/select.ts";
import { assertClose, gpuTest, randn, randomMask } from "./util.ts";

// the block a window [*, 2:2+count] of a wider matrix (scalar kernel), or [*, 4:4+count] with count
// and ld multiples of 4 (removal_sets_vec4)
for (
  const [rows, count, c0] of [[1, 1, 2], [7, 5, 2], [129, 64, 2], [513, 17, 2], [1, 4, 4], [33, 12, 4], [129, 64, 4]]
) {
  gpuTest(
    `removalSets matches the reference on ${rows}x${count} at column ${c0} of a wider view`,
    async (gpu) => {
      const ld = count + (c0 === 4 ? 8 : 3);
      const maskFull = randomMask(rows * ld, 0.4, rows), wFull = randn(rows * ld, count);
      // rows that fill the packed vec4s exactly, never, or at the row's end: all removed, none, the
      // first four, every other one, the last three
      const patterns = [
        () => 1,
        () => 0,
        (j: number) => +(j < 4),
        (j: number) => j % 2,
        (j: number) => +(j >= count - 3),
      ];
      for (let r = 0; r < Math.min(rows, patterns.length); r++) {
        for (let j = 0; j < count; j++) maskFull[r * ld + c0 + j] = patterns[r](j);
      }
      const maskBlock = new Uint32Array(rows * count), wBlock = new Float32Array(rows * count);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < count; j++) {
          maskBlock[r * count + j] = maskFull[r * ld + c0 + j];
          wBlock[r * count + j] = wFull[r * ld + c0 + j];
        }
      }
      const mask = upload(gpu, maskFull, [rows, ld]), w = upload(gpu, wFull, [rows, ld]);
      const sets = {
        idx: empty(gpu, [rows, count], "u32"),
        counts: empty(gpu, [rows], "u32"),
        rhs: empty(gpu, [rows, count], "f32"),
      };
      await removalSets(sub(mat(mask), 0, c0, rows, count), sub(mat(w), 0, c0, rows, count), sets);
      const expected = ref.removalSets(maskBlock, wBlock, rows, count);
      assertEquals(await sets.counts.read(), expected.counts);
      assertEquals(await sets.idx.read(), expected.idx);
      assertEquals(await sets.rhs.read(), expected.rhs);
    },
  );
}

for (const [n, m, outliers] of [[2, 4, false], [4, 8, true], [1, 3, true], [0, 4, false]] as const) {
  gpuTest(
    `nmRemovalSets ${n}:${m}${outliers ? " with outlier rows" : ""}: the mask and sets of the four-kernel path`,
    async (gpu) => {
      // the block W[:, 5:5+count] of a wider layer (colOffset 5 into the norms), the mask a window of
      // another; ties within groups (repeated magnitudes, −0 and +0) are broken by the lower column
      const rows = 37, count = 24, ld = 31, c0 = 5;
      const wFull = randn(rows * ld, n + m);
      for (let f = 0; f < rows * ld; f += 7) wFull[f] = f % 2 ? -wFull[f - 1 >= 0 ? f - 1 : 0] : 0.25;
      wFull[c0] = -0;
      wFull[c0 + 1] = 0;
      const norms = Float32Array.from({ length: ld }, (_, j) => 0.5 + ((j * 13) % 7) / 3);
      const flags = Uint32Array.from({ length: rows }, (_, r) => outliers && r % 6 === 2 ? 1 : 0);
      const w = upload(gpu, wFull, [rows, ld]), normsT = upload(gpu, norms), flagsT = upload(gpu, flags);
      const maskA = zeros(gpu, [rows, count + 8], "u32"), maskB = zeros(gpu, [rows, count + 8], "u32");
      const sets = () => ({
        idx: upload(gpu, new Uint32Array(rows * count).fill(9)), // stale entries must be overwritten
        counts: zeros(gpu, [rows], "u32"),
        rhs: upload(gpu, new Float32Array(rows * count).fill(9)),
      });
      const [a, b] = [sets(), sets()];
      const block = sub(mat(w), 0, c0, rows, count);
      const maskWin = (t: typeof maskA) => sub(mat(t), 0, 3, rows, count);
      await nmRemovalSets(block, normsT, c0, { n, m }, outliers ? flagsT : null, maskWin(maskA), a);
      // the four-kernel path
      const scores = zeros(gpu, [rows, count]);
      await wandaScores(block, normsT, c0, mat(scores));
      await nmMask(mat(scores), n, m, maskWin(maskB));
      if (outliers) await zeroRows(maskWin(maskB), flagsT);
      await removalSets(maskWin(maskB), block, b);
      assertEquals(await maskA.read(), await maskB.read(), "mask");
      assertEquals(await a.counts.read(), await b.counts.read(), "counts");
      assertEquals(await a.idx.read(), await b.idx.read(), "idx");
      assertEquals(await a.rhs.read(), await b.rhs.read(), "rhs");
      // and the plain-TS reference over f32 Wanda scores
      const wBlock = Float32Array.from(
        { length: rows * count },
        (_, f) => wFull[Math.floor(f / count) * ld + c0 + f % count],
      );
      const s32 = wBlock.map((x, f) => Math.fround(Math.abs(x) * Math.fround(Math.sqrt(norms[c0 + f % count]))));
      const want = selectRef.nmMask(s32, rows, count, n, m);
      for (let r = 0; r < rows; r++) if (flags[r]) want.fill(0, r * count, (r + 1) * count);
      const got = await maskA.read();
      assertEquals(
        Array.from({ length: rows * count }, (_, f) => got[Math.floor(f / count) * (count + 8) + 3 + f % count]),
        Array.from(want),
      );
      const expected = ref.removalSets(want, wBlock, rows, count);
      assertEquals(await a.counts.read(), expected.counts);
      assertEquals(await a.idx.read(), expected.idx);
      assertEquals(await a.rhs.read(), expected.rhs);
      for (const t of [w, normsT, flagsT, maskA, maskB, scores, a.idx, a.counts, a.rhs, b.idx, b.counts, b.rhs]) {
        t.release();
      }
    },
  );
}

gpuTest("gather2d picks submatrices by row and column lists, or identity", async (gpu) => {
  const n = 37, src = randn(n * n, 9);
  const rowIdx = Uint32Array.from([36, 0, 5, 5, 20]);
  const colIdx = Uint32Array.from([1, 2, 30, 36]);
  const s = upload(gpu, src, [n, n]);
  const out = empty(gpu, [rowIdx.length, colIdx.length]);
  await gather2d(mat(s), upload(gpu, rowIdx), upload(gpu, colIdx), mat(out));
  assertEquals(await out.read(), ref.gather2d(src, n, rowIdx, colIdx));
  const outRows = empty(gpu, [rowIdx.length, n]);
  await gather2d(mat(s), upload(gpu, rowIdx), null, mat(outRows));
  assertEquals(await outRows.read(), ref.gather2d(src, n, rowIdx, Array.from({ length: n }, (_, i) => i)));
  const outCols = empty(gpu, [n, colIdx.length]);
  await gather2d(mat(s), null, upload(gpu, colIdx), mat(outCols));
  assertEquals(await outCols.read(), ref.gather2d(src, n, Array.from({ length: n }, (_, i) => i), colIdx));
});

for (const n of [1, 7, 1000, 130_001]) {
  gpuTest(`compactFlags lists set positions in order (n=${n})`, async (gpu) => {
    const flags = randomMask(n, 0.3, n);
    const idx = zeros(gpu, [n], "u32"), count = empty(gpu, [1], "u32");
    await compactFlags(upload(gpu, flags), idx, count);
    const want = ref.compactFlags(flags);
    const [c] = await count.read();
    assertEquals(c, want.length);
    assertEquals([...(await idx.read()).slice(0, c)], want);
  });
}

gpuTest("zeroRows and zeroCols clear flagged rows/columns (and the others with invert)", async (gpu) => {
  const rows = 9, cols = 13, data = randn(rows * cols, 3), flags = randomMask(rows, 0.5, 4);
  for (const invert of [false, true]) {
    const x = upload(gpu, data, [rows, cols]);
    await zeroRows(sub(mat(x), 0, 1, rows, cols - 2), upload(gpu, flags), invert);
    const got = await x.read();
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        const cleared = j >= 1 && j < cols - 1 && (flags[r] === 1) !== invert;
        assertEquals(got[r * cols + j], cleared ? 0 : data[r * cols + j], `row ${r} col ${j} invert ${invert}`);
      }
    }
  }
  const colFlags = randomMask(cols - 2, 0.5, 5);
  const y = upload(gpu, data, [rows, cols]);
  await zeroCols(sub(mat(y), 1, 1, rows - 1, cols - 2), upload(gpu, colFlags));
  const gotCols = await y.read();
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const cleared = r >= 1 && j >= 1 && j < cols - 1 && colFlags[j - 1] === 1;
      assertEquals(gotCols[r * cols + j], cleared ? 0 : data[r * cols + j], `zeroCols row ${r} col ${j}`);
    }
  }
});

gpuTest("broadcastRow copies one row into every row of a view", async (gpu) => {
  const rows = 6, cols = 11, flags = randomMask(cols - 1, 0.5, 12);
  const x = zeros(gpu, [rows, cols], "u32");
  await broadcastRow(upload(gpu, flags), sub(mat(x), 1, 1));
  const got = await x.read();
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) assertEquals(got[r * cols + j], r >= 1 && j >= 1 ? flags[j - 1] : 0);
  }
});

function upperFactorLike(count: number, seed: number): Float32Array {
  // a well-conditioned upper-triangular matrix with positive diagonal, like chol(H⁻¹)ᵀ
  const u = randn(count * count, seed);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < count; j++) {
      if (j < i) u[i * count + j] = 0;
      else if (j === i) u[i * count + j] = 1 + Math.abs(u[i * count + j]);
      else u[i * count + j] *= 0.1;
    }
  }
  return u;
}

for (
  const [rows, count, nm] of [
    [1, 4, null],
    [7, 8, { n: 2, m: 4 }],
    [129, 16, null],
    [33, 24, { n: 4, m: 8 }],
    [5, 9, { n: 1, m: 3 }],
    [3, 520, null], //           a sweep longer than one dispatch's loop budget
    [2, 400, { n: 2, m: 4 }],
  ] as const
) {
  gpuTest(
    `sparsegptBlock matches the reference (${rows}x${count}, ${nm ? `${nm.n}:${nm.m}` : "unstructured"})`,
    async (gpu) => {
      const w0 = randn(rows * count, rows + count), u = upperFactorLike(count, 7);
      const mask0 = nm ? new Uint32Array(rows * count) : randomMask(rows * count, 0.5, 8);
      const w = upload(gpu, w0, [rows, count]), mask = upload(gpu, mask0, [rows, count]);
      const err = empty(gpu, [rows, count]);
      await sparsegptBlock(mat(w), mat(upload(gpu, u, [count, count])), mat(mask), err, nm);
      const want = ref.sparsegptBlock(w0, u, mask0, rows, count, nm);
      assertEquals(await mask.read(), want.mask);
      assertClose(await w.read(), want.w, { rtol: 1e-4, atol: 1e-5 }, "pruned block");
      assertClose(await err.read(), want.err, { rtol: 1e-4, atol: 1e-5 }, "errors");
      const got = await w.read();
      for (let i = 0; i < got.length; i++) if (want.mask[i]) assertEquals(got[i], 0);
    },
  );
}

gpuTest("sparsegptScores is w²/u_jj²", async (gpu) => {
  const rows = 7, count = 5, w0 = randn(rows * count, 1), u = upperFactorLike(count, 2);
  const out = empty(gpu, [rows, count]);
  await sparsegptScores(mat(upload(gpu, w0, [rows, count])), mat(upload(gpu, u, [count, count])), mat(out));
  const want = w0.map((x, f) => (x * x) / u[(f % count) * count + (f % count)] ** 2);
  assertClose(await out.read(), want, { rtol: 1e-6 });
});

gpuTest("rowDots sums products per row and counts non-finite values (rows longer than one dispatch)", async (gpu) => {
  const rows = 5, cols = 130_003, a0 = randn(rows * cols, 1), b0 = randn(rows * cols, 2);
  a0[2 * cols + 3] = NaN;
  a0[4 * cols + 100_000] = -Infinity;
  const { dots, nonFinite } = await rowDots(mat(upload(gpu, a0, [rows, cols])), mat(upload(gpu, b0, [rows, cols])));
  assertEquals([...nonFinite], [0, 0, 1, 0, 1]);
  for (const r of [0, 1, 3]) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += a0[r * cols + j] * b0[r * cols + j];
    assertClose([dots[r]], [s], { rtol: 1e-4, atol: 1e-2 }, `row ${r}`);
  }
});

gpuTest("shape mismatches are reported with both shapes", async (gpu) => {
  const a = empty(gpu, [3, 4]), b = empty(gpu, [3, 5]);
  await assertRejects(
    () => rowDots(mat(a), mat(b)),
    RangeError,
    "rowDots: a is 3x4 but b is 3x5; expected the same shape",
  );
  const m = empty(gpu, [3, 4], "u32");
  await assertRejects(
    () => sparsegptBlock(mat(a), mat(empty(gpu, [3, 3])), mat(m), empty(gpu, [12]), null),
    RangeError,
    "sparsegptBlock: w is 3x4 so u must be 4x4, but it is 3x3",
  );
  await assertRejects(
    () => sparsegptBlock(mat(a), mat(empty(gpu, [4, 4])), mat(m), empty(gpu, [12]), { n: 2, m: 3 }),
    RangeError,
    "sparsegptBlock: block width 4 is not divisible by m = 3",
  );
});
