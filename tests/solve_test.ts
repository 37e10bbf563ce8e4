/**
 * gatheredSolve against the float64 reference (tests/reference/factor.ts) and mathjs.lusolve:
 * varying and uniform counts (0 … maxQ), maxQ up to 256, a row split over several dispatches, λ
 * written compactly or at its columns (Thanos's Λ),
 * a shared matrix that is a window of a larger tensor, non-SPD rows and bad input.
 *
 * The shared matrix is Thanos's: the inverse of a damped Hessian block (condition ~1e3). Tolerance
 * (normwise per call, max norm): measured ≤ 3e-6 for maxQ ≤ 256, tested at 3e-5.
 */

import { lusolve } from "mathjs";
import { assertEquals, assertRejects } from "./assert.ts";
import { type Gpu, upload, zeros } from "../thanos/gpu/mod.ts";
import { gatheredSolve, plan } from "../thanos/linalg/solve.ts";
import { FactorStatus } from "../thanos/linalg/status.ts";
import { mat, sub } from "../thanos/linalg/view.ts";
import * as ref from "./reference/factor.ts";
import * as refOps from "./reference/prune_ops.ts";
import { assertRelErr, dampedHessian, removalSets } from "./factor_util.ts";
import { gpuTest, rng } from "./util.ts";
import { launch } from "../thanos/gpu/launch.ts";

const TOL = 3e-5;

/** Hinv of a damped m x m Hessian (f64) and its f32 copy on the GPU. */
function sharedMatrix(gpu: Gpu, m: number, seed: number) {
  const { h } = dampedHessian(m, seed, { outliers: 2 });
  const a = Float32Array.from(ref.spdInverse(h, m));
  return { a, t: upload(gpu, a, [m, m], "Hinv") };
}

const CASES: [rows: number, m: number, maxQ: number][] = [
  [1, 1, 1],
  [7, 7, 7],
  [129, 128, 64],
  [513, 128, 128],
  [100, 300, 256],
  [1000, 64, 13],
  [9, 600, 512], // the paper's Thanos block: a row's work spreads over several dispatches
];

for (const [rows, m, maxQ] of CASES) {
  gpuTest(`gatheredSolve matches the reference for ${rows} rows, m=${m}, maxQ=${maxQ}`, async (gpu) => {
    const { a, t } = sharedMatrix(gpu, m, rows + m);
    const { idx, counts, rhs } = removalSets(rows, m, maxQ, rows * maxQ);
    const want = ref.gatheredSolve(a, m, idx, counts, rhs, rows, maxQ);
    using ti = upload(gpu, idx), tc = upload(gpu, counts), tr = upload(gpu, rhs);
    using out = upload(gpu, new Float32Array(rows * maxQ).fill(NaN)); // padding must be written
    await gatheredSolve(mat(t), ti, tc, tr, out, maxQ);
    assertRelErr(await out.read(), want, TOL, "λ");
    t.release();
  });
}

gpuTest("a row's work split over several dispatches (a small loop budget) gives the same λ", async (gpu) => {
  const rows = 65, m = 128, maxQ = 96;
  const { a, t } = sharedMatrix(gpu, m, 5);
  const { idx, counts, rhs } = removalSets(rows, m, maxQ, 11);
  const want = ref.gatheredSolve(a, m, idx, counts, rhs, rows, maxQ);
  using ti = upload(gpu, idx), tc = upload(gpu, counts), tr = upload(gpu, rhs), out = zeros(gpu, [rows * maxQ]);
  assertEquals(plan(maxQ, 800).length, 3);
  await gatheredSolve(mat(t), ti, tc, tr, out, maxQ, { loopBudget: 800 });
  assertRelErr(await out.read(), want, TOL, "λ");
  t.release();
});

gpuTest("maxCount below the row stride (n:m on a wide block): same λ, smaller factors", async (gpu) => {
  // the 2:4 case of a 512-column block: sets of at most 256 (0 on outlier rows) in rows of stride 512
  const rows = 21, m = 520, maxQ = 512, cap = 256;
  const { a, t } = sharedMatrix(gpu, m, 17);
  const { idx, counts, rhs } = removalSets(rows, m, maxQ, 23);
  for (let r = 0; r < rows; r++) counts[r] = r % 5 === 3 ? 0 : Math.min(counts[r], cap);
  counts[0] = cap;
  const want = ref.gatheredSolve(a, m, idx, counts, rhs, rows, maxQ);
  using ti = upload(gpu, idx), tc = upload(gpu, counts), tr = upload(gpu, rhs);
  using out = upload(gpu, new Float32Array(rows * maxQ).fill(NaN)); // the padding up to 512 must be written
  await gatheredSolve(mat(t), ti, tc, tr, out, maxQ, { maxCount: cap });
  assertRelErr(await out.read(), want, TOL, "λ with maxCount 256 at stride 512");
  assertEquals(plan(cap, undefined, maxQ).length, 1);
  assertEquals(plan(maxQ).length > 1, true);
  t.release();
});

gpuTest("rows solved in order of decreasing count give each row's λ bit for bit as alone", async (gpu) => {
  // varying counts: the batch solves its rows in count order (count_order.wgsl), one row alone is its
  // own order; a row's arithmetic does not depend on its slot, so the bits must agree
  const rows = 70, m = 96, maxQ = 64;
  const { t } = sharedMatrix(gpu, m, 41);
  const { idx, counts, rhs } = removalSets(rows, m, maxQ, 43);
  counts[5] = 0;
  using ti = upload(gpu, idx), tc = upload(gpu, counts), tr = upload(gpu, rhs), out = zeros(gpu, [rows, maxQ]);
  await gatheredSolve(mat(t), ti, tc, tr, out, maxQ);
  const batch = await out.read();
  for (const r of [0, 5, 6, 33, rows - 1, counts.indexOf(Math.max(...counts))]) {
    using ri = upload(gpu, idx.slice(r * maxQ, (r + 1) * maxQ)), rc = upload(gpu, counts.slice(r, r + 1));
    using rr = upload(gpu, rhs.slice(r * maxQ, (r + 1) * maxQ)), one = zeros(gpu, [1, maxQ]);
    await gatheredSolve(mat(t), ri, rc, rr, one, maxQ);
    assertEquals(Array.from(await one.read()), Array.from(batch.subarray(r * maxQ, (r + 1) * maxQ)), `row ${r}`);
  }
  t.release();
});

gpuTest("ordered rows dealt over workgroups and row chunks give the unordered solve's bits", async (gpu) => {
  // 300 rows at maxQ 512: the scratch holds 96 rows, so the rows run in 4 chunks of the dealt order
  const rows = 300, m = 600, maxQ = 512;
  const { t } = sharedMatrix(gpu, m, 47);
  const { idx, counts, rhs } = removalSets(rows, m, maxQ, 53);
  for (let r = 0; r < rows; r++) counts[r] %= 41; // a prefix of a row's distinct set stays distinct
  using ti = upload(gpu, idx), tc = upload(gpu, counts), tr = upload(gpu, rhs);
  using ordered = zeros(gpu, [rows, maxQ]), plain = zeros(gpu, [rows, maxQ]);
  await gatheredSolve(mat(t), ti, tc, tr, ordered, maxQ);
  await gatheredSolve(mat(t), ti, tc, tr, plain, maxQ, { orderRows: false });
  const [a, b] = [await ordered.read(), await plain.read()];
  assertEquals(Array.from(new Uint32Array(a.buffer)), Array.from(new Uint32Array(b.buffer)));
  t.release();
});

gpuTest("count_order: vectors of rows by decreasing count, dealt out over the workgroups", async (gpu) => {
  // lanes 8: llvmpipe's dealing; lanes = group: a GPU's plain sorted order
  for (const [rows, cap, lanes] of [[1, 1, 8], [300, 64, 8], [1000, 512, 8], [768, 128, 8], [700, 128, 64]]) {
    const u = rng(rows + cap);
    const counts = Uint32Array.from({ length: rows }, () => Math.floor(u() * (cap + 9)));
    using tc = upload(gpu, counts), order = zeros(gpu, [rows], "u32"), total = upload(gpu, new Uint32Array([7]));
    const group = 64;
    await launch(gpu, "count_order", { counts: tc, order, total }, {
      grid: [1],
      params: { rows, cap, lanes, group, add_total: 1 },
      constants: { WG: 256 },
    });
    const got = Array.from(await order.read());
    const sum = counts.reduce((s, c) => s + Math.min(c, cap), 7);
    assertEquals((await total.read())[0], sum, `${rows} rows: 7 + the clamped counts`);
    assertEquals([...got].sort((a, b) => a - b), [...Array(rows).keys()], `${rows} rows: a permutation`);
    // undo the dealing: rank of each slot, then the counts must not increase with rank
    const full = Math.floor(rows / group) * group, wgs = full / group;
    const byRank = new Array<number>(rows);
    for (let rank = 0; rank < rows; rank++) {
      const v = Math.floor(rank / lanes);
      const slot = rank < full ? ((v % wgs) * (group / lanes) + Math.floor(v / wgs)) * lanes + rank % lanes : rank;
      byRank[rank] = Math.min(counts[got[slot]], cap);
    }
    for (let i = 1; i < rows; i++) {
      if (byRank[i - 1] < byRank[i]) {
        throw new Error(`${rows} rows, cap ${cap}: count ${byRank[i]} after ${byRank[i - 1]}`);
      }
    }
  }
});

const SCATTER_CASES: [rows: number, m: number, maxQ: number, loopBudget?: number][] = [
  [70, 64, 64],
  [33, 96, 100],
  [65, 128, 128, 800],
];
for (const [rows, m, maxQ, budget] of SCATTER_CASES) {
  gpuTest(`scatter: λ_r at its columns, the compact solve's bits (${rows} rows, m=${m}, maxQ=${maxQ})`, async (gpu) => {
    // Thanos's dense Λ: out[r, q_i] = λ_i, zeros elsewhere (garbage in out must be cleared), ordered
    // rows and a row split over dispatches alike
    const { t } = sharedMatrix(gpu, m, rows + 61);
    const { idx, counts, rhs } = removalSets(rows, m, maxQ, rows + 67);
    counts[3] = 0;
    using ti = upload(gpu, idx), tc = upload(gpu, counts), tr = upload(gpu, rhs);
    using compact = zeros(gpu, [rows, maxQ]), dense = upload(gpu, new Float32Array(rows * maxQ).fill(NaN));
    await gatheredSolve(mat(t), ti, tc, tr, compact, maxQ, { loopBudget: budget });
    await gatheredSolve(mat(t), ti, tc, tr, dense, maxQ, { loopBudget: budget, scatter: true });
    const want = refOps.scatterRows(await compact.read(), idx, counts, rows, maxQ, maxQ);
    assertEquals(Array.from(new Uint32Array((await dense.read()).buffer)), Array.from(new Uint32Array(want.buffer)));
    t.release();
  });
}

gpuTest("countInto adds the clamped counts, rows ordered or not, and leaves λ as it was", async (gpu) => {
  const rows = 90, m = 64, maxQ = 64, cap = 40;
  const { t } = sharedMatrix(gpu, m, 71);
  const { idx, counts, rhs } = removalSets(rows, m, maxQ, 73);
  using ti = upload(gpu, idx), tc = upload(gpu, counts), tr = upload(gpu, rhs);
  using plain = zeros(gpu, [rows, maxQ]), counted = zeros(gpu, [rows, maxQ]);
  using total = upload(gpu, new Uint32Array([5]));
  const sum = counts.reduce((s, c) => s + Math.min(c, cap), 0);
  await gatheredSolve(mat(t), ti, tc, tr, plain, maxQ, { maxCount: cap });
  for (const orderRows of [true, false]) {
    await gatheredSolve(mat(t), ti, tc, tr, counted, maxQ, { maxCount: cap, orderRows, countInto: total });
    const [a, b] = [await plain.read(), await counted.read()];
    assertEquals(
      Array.from(new Uint32Array(b.buffer)),
      Array.from(new Uint32Array(a.buffer)),
      `orderRows ${orderRows}`,
    );
  }
  assertEquals((await total.read())[0], 5 + 2 * sum);
  await assertRejects(
    () => gatheredSolve(mat(t), ti, 3, tr, counted, maxQ, { countInto: total }),
    RangeError,
    "gatheredSolve: countInto needs a counts tensor, not one count",
  );
  await assertRejects(
    () => gatheredSolve(mat(t), ti, tc, tr, counted, maxQ, { countInto: tc as never }),
    RangeError,
    "gatheredSolve: countInto",
  );
  t.release();
});

gpuTest("one count for all rows (n:m case) and a shared matrix inside a larger tensor", async (gpu) => {
  const rows = 300, m = 64, maxQ = 40, count = 32;
  const { a } = sharedMatrix(gpu, m, 3);
  const big = new Float32Array(100 * 100).fill(1e30); // anything read outside the window shows
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) big[(20 + i) * 100 + 30 + j] = a[i * m + j];
  using t = upload(gpu, big, [100, 100]);
  const { idx, rhs } = removalSets(rows, m, maxQ, 9, count);
  const want = ref.gatheredSolve(a, m, idx, new Uint32Array(rows).fill(count), rhs, rows, maxQ);
  using ti = upload(gpu, idx), tr = upload(gpu, rhs), out = zeros(gpu, [rows, maxQ]);
  await gatheredSolve(sub(mat(t), 20, 30, m, m), ti, count, tr, out, maxQ);
  assertRelErr(await out.read(), want, TOL, "λ with a uniform count");
});

gpuTest("rows beyond options.rows are left alone; count 0 gives zeros", async (gpu) => {
  const m = 16, maxQ = 8;
  const { a, t } = sharedMatrix(gpu, m, 4);
  const { idx, counts, rhs } = removalSets(10, m, maxQ, 5);
  counts[1] = 0;
  using ti = upload(gpu, idx), tc = upload(gpu, counts), tr = upload(gpu, rhs);
  using out = upload(gpu, new Float32Array(10 * maxQ).fill(7));
  await gatheredSolve(mat(t), ti, tc, tr, out, maxQ, { rows: 4 });
  const got = await out.read();
  assertEquals(Array.from(got.subarray(maxQ, 2 * maxQ)), new Array(maxQ).fill(0));
  assertEquals(Array.from(got.subarray(4 * maxQ)), new Array(6 * maxQ).fill(7));
  assertRelErr(got.subarray(0, 4 * maxQ), ref.gatheredSolve(a, m, idx, counts, rhs, 4, maxQ), TOL, "first 4 rows");
  t.release();
});

for (const q of [3, 12]) {
  gpuTest(`gatheredSolve agrees with mathjs.lusolve (q=${q})`, async (gpu) => {
    const m = 20, rows = 5;
    const { a, t } = sharedMatrix(gpu, m, 30 + q);
    const { idx, rhs } = removalSets(rows, m, q, 31, q);
    using ti = upload(gpu, idx), tr = upload(gpu, rhs), out = zeros(gpu, [rows, q]);
    await gatheredSolve(mat(t), ti, q, tr, out, q);
    const got = await out.read();
    for (let r = 0; r < rows; r++) {
      const sel = Array.from(idx.subarray(r * q, (r + 1) * q));
      const g = sel.map((i) => sel.map((j) => a[i * m + j]));
      const want = (lusolve(g, Array.from(rhs.subarray(r * q, (r + 1) * q))) as number[][]).flat();
      assertRelErr(got.subarray(r * q, (r + 1) * q), want, TOL, `row ${r} vs mathjs.lusolve`);
    }
    t.release();
  });
}

gpuTest("a row whose gathered matrix is not positive definite is reported by row and pivot", async (gpu) => {
  // A = diag(1, 1, -1, 1): rows that gather index 2 fail at the position where it appears
  const a = new Float32Array(16);
  for (let i = 0; i < 4; i++) a[i * 5] = i === 2 ? -1 : 1;
  using t = upload(gpu, a, [4, 4], "A");
  const idx = new Uint32Array([0, 1, 3, /**/ 1, 3, 2, /**/ 2, 0, 0]);
  const counts = new Uint32Array([3, 3, 1]);
  using ti = upload(gpu, idx), tc = upload(gpu, counts), tr = upload(gpu, new Float32Array(9).fill(1));
  using out = zeros(gpu, [3, 3]);
  await assertRejects(
    () => gatheredSolve(mat(t), ti, tc, tr, out, 3),
    Error,
    'gatheredSolve: A[q_r, q_r] of row r = 1 (A = "A"[0:4, 0:4] (4x4)) is not positive definite (pivot 2 of the gathered matrix ≤ 0)',
  );
  const status = new FactorStatus(gpu);
  await gatheredSolve(mat(t), ti, tc, tr, out, 3, { status, rows: 1 }); // row 0 is fine
  assertEquals(await status.failure(), null);
  status.release();
});

gpuTest("gatheredSolve rejects bad arguments", async (gpu) => {
  using a = zeros(gpu, [4, 4], "f32", "A");
  using idx = zeros(gpu, [6], "u32", "idx"), counts = zeros(gpu, [2], "u32", "counts");
  using rhs = zeros(gpu, [6], "f32", "rhs"), out = zeros(gpu, [6], "f32", "out");
  await assertRejects(
    () => gatheredSolve(mat(a), idx, counts, rhs, out, 0),
    RangeError,
    "gatheredSolve: maxQ is 0; expected an integer in [1, 512]",
  );
  await assertRejects(
    () => gatheredSolve(mat(a), idx, counts, rhs, out, 4),
    RangeError,
    'gatheredSolve: idx "idx" has 6 elements; expected at least 8',
  );
  await assertRejects(
    () => gatheredSolve(mat(a), idx, 4, rhs, out, 3),
    RangeError,
    "gatheredSolve: count is 4; expected an integer in [0, maxQ = 3]",
  );
  await assertRejects(
    () => gatheredSolve(mat(a), idx, counts, rhs, out, 3, { maxCount: 4 }),
    RangeError,
    "gatheredSolve: maxCount is 4; expected an integer in [1, maxQ = 3]",
  );
  await assertRejects(
    () => gatheredSolve(mat(a), idx, 2, rhs, out, 3, { maxCount: 1 }),
    RangeError,
    "gatheredSolve: maxCount is 1; expected an integer in [2, maxQ = 3]",
  );
  await assertRejects(
    () => gatheredSolve(mat(a), rhs as never, counts, rhs, out, 3),
    TypeError,
    'gatheredSolve: idx "rhs" is f32; expected u32',
  );
  await assertRejects(
    () => gatheredSolve(mat(a), idx, counts, rhs, rhs, 3),
    RangeError,
    'gatheredSolve: out aliases rhs (both live in the buffer of "rhs"); expected out in a separate tensor',
  );
  await assertRejects(
    () => gatheredSolve(mat(a), idx, counts, rhs, out, 3, { scatter: true }),
    RangeError,
    "gatheredSolve: scatter needs A's size ≤ maxQ = 3 (λ_i lands at column q_i < 4)",
  );
  await assertRejects(
    () => gatheredSolve(sub(mat(a), 0, 0, 3, 4), idx, counts, rhs, out, 3),
    RangeError,
    "is 3x4; expected a square matrix",
  );
});

gpuTest("plan covers every column block once, in order, within the loop budget", () => {
  for (
    const [maxQ, budget] of [1, 7, 64, 65, 128, 200, 256, 512].flatMap((
      q,
    ): [number, number][] => [[q, 60000], [q, 4000]])
  ) {
    const phases = plan(maxQ, budget);
    assertEquals(phases.filter((p) => p.backward).length, 1);
    let next = 0;
    for (const p of phases) {
      if (p.kg1 > p.kg0) {
        assertEquals(p.kg0, next);
        next = p.kg1;
      }
    }
    assertEquals(next, Math.ceil(maxQ / 4));
  }
  assertEquals(plan(256).length, 1); // 64 column blocks of 8 x 4 tiles: ~27k iterations
  assertEquals(plan(256, 8000).length > 1, true);
  assertEquals(plan(512).length, 4); // ~200k iterations at the paper's block of 512
  return Promise.resolve();
});
