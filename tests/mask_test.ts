/**
 * Mask helpers against the plain-TS reference: score kernels, applyMask, the GPU-side count and
 * budget, the weighted row/column sums, and the dynamic-mask loop they add up to.
 */
import { assertEquals, assertRejects } from "./assert.ts";
import { empty, type Gpu, type Tensor, upload, zeros } from "../thanos/gpu/mod.ts";
import { mat, type MatrixView, sub } from "../thanos/linalg/view.ts";
import {
  absScores,
  applyMask,
  colSumsWeighted,
  countMask,
  kFromBudget,
  rowSumsWeighted,
  wandaScores,
} from "../thanos/linalg/mask.ts";
import { kSmallestMask } from "../thanos/linalg/select.ts";
import * as ref from "./reference/mask.ts";
import * as selectRef from "./reference/select.ts";
import { assertClose, gpuTest, ODD_SIZES, randn, randomMask } from "./util.ts";

const SENTINEL = 12345;

/**
 * `data` (rows x cols) as a whole tensor, or (windowed) as the window [2:2+rows, 3:3+cols] of a
 * tensor with 4 more rows and 7 more columns filled with SENTINEL.
 */
function place<A extends Float32Array | Uint32Array>(
  gpu: Gpu,
  data: A,
  rows: number,
  cols: number,
  windowed: boolean,
  label: string,
): { view: MatrixView; tensor: Tensor; extract(all: ArrayLike<number>): number[] } {
  const [R, C, r0, c0] = windowed ? [rows + 4, cols + 7, 2, 3] : [rows, cols, 0, 0];
  const full = new (data.constructor as { new (n: number): A })(Math.max(1, R * C)).fill(SENTINEL);
  for (let i = 0; i < rows; i++) full.set(data.subarray(i * cols, (i + 1) * cols), (r0 + i) * C + c0);
  const tensor = upload(gpu, full, [Math.max(1, R * C)], label);
  return {
    tensor,
    view: { tensor, offset: r0 * C + c0, rows, cols, ld: C },
    /** The window, row-major; throws if anything outside it changed. */
    extract(all) {
      const out: number[] = [];
      for (let i = 0; i < R; i++) {
        for (let j = 0; j < C; j++) {
          if (i >= r0 && i < r0 + rows && j >= c0 && j < c0 + cols) out.push(all[i * C + j]);
          else if (all[i * C + j] !== SENTINEL) {
            throw new Error(`${label}: element (${i}, ${j}) outside the window changed`);
          }
        }
      }
      return out;
    },
  };
}

/** Non-negative squared column norms. */
function norms(n: number, seed: number): Float32Array {
  return Float32Array.from(randn(n, seed), (x) => x * x * 3);
}

/** A random 0/1 mask. */
const SHAPES: [number, number][] = ODD_SIZES.map((n, i) => [n, [1, 7, 129, 513, 7][i]]);

// ---------------------------------------------------------------------------------------------
// scores and applyMask

for (const [rows, cols] of SHAPES) {
  for (const windowed of [false, true]) {
    gpuTest(
      `wandaScores and absScores match the reference on ${rows}x${cols}${windowed ? " windows" : ""}`,
      async (gpu) => {
        const w = randn(rows * cols, rows + cols);
        const colOffset = windowed ? 5 : 0;
        const n = norms(cols + colOffset + 2, cols);
        const W = place(gpu, w, rows, cols, windowed, "W");
        const S = place(gpu, new Float32Array(rows * cols), rows, cols, windowed, "S");
        const normsT = upload(gpu, n, [n.length], "colSqNorms");
        await wandaScores(W.view, normsT, colOffset, S.view);
        // f32 |w|·sqrt(n) rounds twice on the GPU, once in the reference: within 2 ulp
        assertClose(S.extract(await S.tensor.read()), ref.wandaScores(w, rows, cols, n, colOffset), {
          rtol: 3e-7,
          atol: 0,
        }, "wanda");
        await absScores(W.view, S.view);
        assertEquals(S.extract(await S.tensor.read()), Array.from(ref.absScores(w)));
        assertEquals(W.extract(await W.tensor.read()), Array.from(w), "W is unchanged");
        for (const t of [W.tensor, S.tensor, normsT]) t.release();
      },
    );
  }
}

gpuTest("wandaScores on the window W[:, i1:] uses colSqNorms[i1 + j]", async (gpu) => {
  const [rows, cols, i1] = [9, 20, 13];
  const w = randn(rows * cols, 1);
  const n = norms(cols, 2);
  const W = upload(gpu, w, [rows, cols], "W");
  const S = zeros(gpu, [rows, cols - i1], "f32", "S");
  const normsT = upload(gpu, n, [cols], "colSqNorms");
  await wandaScores(sub(mat(W), 0, i1), normsT, i1, mat(S));
  const expected = ref.wandaScores(w, rows, cols, n, 0).filter((_, f) => f % cols >= i1);
  assertClose(await S.read(), expected, { rtol: 3e-7, atol: 0 }, "wanda tail");
  for (const t of [W, S, normsT]) t.release();
});

for (const [rows, cols] of SHAPES) {
  gpuTest(`applyMask zeroes exactly the masked elements on ${rows}x${cols} windows`, async (gpu) => {
    const w = randn(rows * cols, rows * cols);
    const m = randomMask(rows * cols, 0.5, rows);
    m[0] = 5; // any non-zero value prunes
    const W = place(gpu, w, rows, cols, true, "W");
    const M = place(gpu, m, rows, cols, true, "M");
    await applyMask(W.view, M.view);
    assertEquals(W.extract(await W.tensor.read()), Array.from(ref.applyMask(w, m)));
    W.tensor.release();
    M.tensor.release();
  });
}

gpuTest(
  "wandaScores and applyMask on rows of whole vec4s (the vec4 kernels) give the scalar kernels' bits",
  async (gpu) => {
    // the same data placed at column 4 of a 4-multiple-wide tensor (vec4 kernels) and at column 3
    // (scalar kernels); −0, ±Infinity and NaN among the weights must come through as the scalar
    // kernels leave them
    const at = (data: Float32Array | Uint32Array, rows: number, cols: number, c0: number, label: string) => {
      const C = cols + 8, full = new (data.constructor as Float32ArrayConstructor)((rows + 2) * C).fill(SENTINEL);
      for (let i = 0; i < rows; i++) full.set(data.subarray(i * cols, (i + 1) * cols), (1 + i) * C + c0);
      const tensor = upload(gpu, full, [full.length], label);
      return { tensor, view: { tensor, offset: C + c0, rows, cols, ld: C } as MatrixView };
    };
    for (const [rows, cols] of [[1, 4], [7, 12], [33, 132], [129, 516]]) {
      const w = randn(rows * cols, rows * cols + 1);
      w[0] = -0, w[1] = Infinity, w[2] = NaN, w[3] = -Infinity;
      const m = randomMask(rows * cols, 0.5, cols);
      m[1] = 3;
      const n = norms(cols + 8, rows);
      using normsT = upload(gpu, n, [n.length], "colSqNorms");
      const got: Uint32Array[] = [];
      for (const c0 of [4, 3]) {
        const W = at(w, rows, cols, c0, "W"), S = at(new Float32Array(rows * cols), rows, cols, c0, "S");
        const M = at(m, rows, cols, c0, "M");
        await wandaScores(W.view, normsT, 4, S.view);
        await applyMask(W.view, M.view);
        const [sAll, wAll] = [await S.tensor.read(), await W.tensor.read()];
        const bits = (all: Float32Array) => {
          const u = new Uint32Array(all.buffer, all.byteOffset, all.length), out: number[] = [];
          for (let r = 0; r < rows; r++) {
            out.push(...u.subarray((1 + r) * (cols + 8) + c0, (1 + r) * (cols + 8) + c0 + cols));
          }
          return out;
        };
        got.push(new Uint32Array([...bits(sAll as Float32Array), ...bits(wAll as Float32Array)]));
        for (const t of [W.tensor, S.tensor, M.tensor]) t.release();
      }
      assertEquals(Array.from(got[0]), Array.from(got[1]), `${rows}x${cols}: vec4 against scalar bits`);
    }
  },
);

// ---------------------------------------------------------------------------------------------
// countMask and kFromBudget

gpuTest("countMask on rows of whole vec4s (the vec4 kernel) counts like the reference", async (gpu) => {
  using counter = empty(gpu, [1], "u32", "counter");
  for (const [rows, cols] of [[1, 4], [37, 44], [300, 512], [1, (1 << 20) + 4]]) {
    const m = randomMask(rows * cols, 0.3, rows + cols);
    m[0] = 7; // any non-zero value counts
    // whole tensor, and the window [1:1+rows, 4:4+cols] of a tensor 8 columns wider (offset, ld multiples of 4)
    using whole = upload(gpu, m, [rows, cols], "M");
    await countMask(mat(whole), counter);
    assertEquals((await counter.read())[0], ref.countMask(m), `whole ${rows}x${cols}`);
    const C = cols + 8, full = new Uint32Array((rows + 2) * C).fill(1);
    for (let i = 0; i < rows; i++) full.set(m.subarray(i * cols, (i + 1) * cols), (1 + i) * C + 4);
    using big = upload(gpu, full, [rows + 2, C], "big");
    await countMask(sub(mat(big), 1, 4, rows, cols), counter);
    assertEquals((await counter.read())[0], ref.countMask(m), `window ${rows}x${cols}`);
  }
});

gpuTest("countMask counts non-zero entries of windows, overwriting or accumulating", async (gpu) => {
  const counter = empty(gpu, [1], "u32", "counter");
  for (const [rows, cols] of [...SHAPES, [1, (1 << 20) + 3], [1000, 1000]] as [number, number][]) {
    const m = randomMask(rows * cols, 0.3, rows + cols);
    const M = place(gpu, m, rows, cols, true, "M");
    await countMask(M.view, counter);
    assertEquals((await counter.read())[0], ref.countMask(m), `count ${rows}x${cols}`);
    M.tensor.release();
  }
  // accumulate: start from a known value, add two masks without a readback in between
  counter.write(new Uint32Array([1000]));
  const a = upload(gpu, randomMask(513 * 7, 0.5, 1), [513, 7], "a");
  const b = upload(gpu, new Uint32Array(129).fill(1), [129], "b");
  await countMask(mat(a), counter, { accumulate: true });
  await countMask(mat(b), counter, { accumulate: true });
  assertEquals((await counter.read())[0], 1000 + ref.countMask(await a.read()) + 129);
  for (const t of [counter, a, b]) t.release();
});

gpuTest("kFromBudget computes max(0, target − counter) on the GPU", async (gpu) => {
  const counter = empty(gpu, [1], "u32", "counter");
  const k = empty(gpu, [1], "u32", "k");
  for (const [target, c] of [[10, 3], [3, 10], [7, 7], [0, 0], [0xffffffff, 1], [5, 0xffffffff]]) {
    counter.write(new Uint32Array([c]));
    await kFromBudget(target, counter, k);
    assertEquals((await k.read())[0], ref.kFromBudget(target, c), `target ${target}, counter ${c}`);
  }
  counter.release();
  k.release();
});

for (const budget of [false, true]) {
  gpuTest(
    `the dynamic mask (${
      budget ? "a budget" : "kFromBudget"
    } → kSmallestMask → countMask per block) matches a CPU replay`,
    (gpu) => dynamicMask(gpu, budget),
  );
}

async function dynamicMask(gpu: Gpu, budget: boolean): Promise<void> {
  // Thanos, unstructured: at block [i1, i1+B) select the (target − zeros so far) smallest scores of
  // S[:, i1:], keep the block's part; no readback until the end. k from kFromBudget, or from
  // kSmallestMask's budget (select_init computes it)
  const [rows, cols, B] = [37, 50, 8];
  const s = Float32Array.from(randn(rows * cols, 4), (x, f) => (f % 5 === 0 ? 0.5 : x)); // with ties
  const target = Math.floor(0.6 * rows * cols);
  const S = upload(gpu, s, [rows, cols], "S");
  const M = zeros(gpu, [rows, cols], "u32", "M");
  const pruned = zeros(gpu, [1], "u32", "pruned");
  const k = empty(gpu, [1], "u32", "k");
  for (let i1 = 0; i1 < cols; i1 += B) {
    const width = Math.min(B, cols - i1);
    if (!budget) await kFromBudget(target, pruned, k);
    await kSmallestMask(sub(mat(S), 0, i1), budget ? { target, spent: pruned } : k, sub(mat(M), 0, i1));
    await countMask(sub(mat(M), 0, i1, rows, width), pruned, { accumulate: true });
  }

  const want = new Uint32Array(rows * cols);
  let zerosSoFar = 0;
  for (let i1 = 0; i1 < cols; i1 += B) {
    const m = cols - i1, width = Math.min(B, m);
    const tail = Float32Array.from({ length: rows * m }, (_, f) => s[Math.floor(f / m) * cols + i1 + (f % m)]);
    const sel = selectRef.kSmallestMask(tail, ref.kFromBudget(target, zerosSoFar));
    for (let f = 0; f < rows * m; f++) want[Math.floor(f / m) * cols + i1 + (f % m)] = sel[f];
    for (let i = 0; i < rows; i++) for (let j = 0; j < width; j++) zerosSoFar += want[i * cols + i1 + j];
  }
  assertEquals(Array.from(await M.read()), Array.from(want));
  assertEquals((await pruned.read())[0], zerosSoFar);
  assertEquals(zerosSoFar, target);
  for (const t of [S, M, pruned, k]) t.release();
}

// ---------------------------------------------------------------------------------------------
// weighted row and column sums

for (const [rows, cols] of [...SHAPES, [300, 1000]] as [number, number][]) {
  gpuTest(`rowSumsWeighted and colSumsWeighted match the reference on ${rows}x${cols} windows`, async (gpu) => {
    const w = randn(rows * cols, 3 * rows + cols);
    const n = norms(cols, rows);
    const rowMask = randomMask(rows, 0.2, cols);
    const W = place(gpu, w, rows, cols, true, "W");
    const normsT = upload(gpu, n, [cols], "colSqNorms");
    const rowMaskT = upload(gpu, rowMask, [rows], "rowMask");
    const rowOut = empty(gpu, [rows], "f32", "rowOut");
    const colOut = empty(gpu, [cols], "f32", "colOut");
    // all terms are non-negative, so a relative tolerance on each sum is the right yardstick
    const tol = { rtol: 1e-5, atol: 0 };
    await rowSumsWeighted(W.view, normsT, rowOut);
    assertClose(await rowOut.read(), ref.rowSumsWeighted(w, rows, cols, n), tol, "row sums");
    await colSumsWeighted(W.view, normsT, null, colOut);
    assertClose(await colOut.read(), ref.colSumsWeighted(w, rows, cols, n, null), tol, "column sums");
    await colSumsWeighted(W.view, normsT, rowMaskT, colOut);
    assertClose(await colOut.read(), ref.colSumsWeighted(w, rows, cols, n, rowMask), tol, "column sums, rows excluded");
    for (const t of [W.tensor, normsT, rowMaskT, rowOut, colOut]) t.release();
  });
}

// ---------------------------------------------------------------------------------------------
// bad input

gpuTest("mask helpers reject bad arguments with messages that name them", async (gpu) => {
  const W = empty(gpu, [2, 3], "f32", "W");
  const S = empty(gpu, [2, 3], "f32", "S");
  const M = empty(gpu, [2, 3], "u32", "M");
  const n3 = empty(gpu, [3], "f32", "n3");
  const n4 = empty(gpu, [4], "f32", "n4");
  const c = empty(gpu, [1], "u32", "c");
  const out1 = empty(gpu, [1], "f32", "out1");
  const out3 = empty(gpu, [3], "f32", "out3");
  const rm1 = empty(gpu, [1], "u32", "rm1");

  await assertRejects(
    () => wandaScores(mat(W), n3, 1, mat(S)),
    RangeError,
    'wandaScores: columns [1, 4) of colSqNorms "n3" are out of range; expected a non-negative integer colOffset with colOffset + w.cols <= 3',
  );
  await assertRejects(
    () => wandaScores(mat(W), n3, 0, mat(W)),
    RangeError,
    'wandaScores: out aliases w (both live in the buffer of "W"); expected out in a separate tensor',
  );
  await assertRejects(
    () => wandaScores(mat(W), n3, 0, sub(mat(S), 0, 1)),
    RangeError,
    "wandaScores: w is 2x3 but out is 2x2; expected the same shape",
  );
  await assertRejects(
    () => absScores(mat(W), mat(M) as never),
    TypeError,
    'absScores: out "M"[0:2, 0:3] (2x3) is u32; expected f32',
  );
  await assertRejects(
    () => applyMask(mat(W), mat(S)),
    TypeError,
    'applyMask: mask "S"[0:2, 0:3] (2x3) is f32; expected u32',
  );
  await assertRejects(
    () => countMask(mat(M), out1 as never),
    TypeError,
    'countMask: counter "out1" is f32; expected u32',
  );
  await assertRejects(
    () => kFromBudget(-1, c, c),
    RangeError,
    "kFromBudget: target = -1; expected an integer in [0, 4294967295]",
  );
  await assertRejects(
    () => kFromBudget(3, c, c),
    RangeError,
    'kFromBudget: kOut aliases counter (both live in the buffer of "c"); expected kOut in a separate tensor',
  );
  await assertRejects(
    () => rowSumsWeighted(mat(W), n4, out3),
    RangeError,
    'rowSumsWeighted: colSqNorms "n4" has 4 entries but w "W"[0:2, 0:3] (2x3) has 3 columns; expected one per column',
  );
  await assertRejects(
    () => rowSumsWeighted(mat(W), n3, out1),
    RangeError,
    'rowSumsWeighted: out "out1" has 1 elements; expected at least 2',
  );
  await assertRejects(
    () => colSumsWeighted(mat(W), n3, null, out1),
    RangeError,
    'colSumsWeighted: out "out1" has 1 elements; expected at least 3',
  );
  await assertRejects(
    () => colSumsWeighted(mat(W), n3, rm1, out3),
    RangeError,
    'colSumsWeighted: rowMask "rm1" has 1 elements; expected at least 2',
  );
  for (const t of [W, S, M, n3, n4, c, out1, out3, rm1]) t.release();
});
