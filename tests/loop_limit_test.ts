/**
 * llvmpipe's loop limit (thanos/gpu/loop_budget.ts). The kernels whose loops grow with their input
 * are run here at sizes past 65535 iterations per invocation and compared with the plain-TS
 * references: column norms, attention, NLL, the per-row select and the tiled matmul each came out
 * wrong, silently, until their wrappers split the work (checked by disabling each split). Where the
 * adapter has the limit, the loop probe (tests/loop_probe.ts) also measures that every dispatch
 * stays within LOOP_BUDGET, which checks the wrappers' cost models against the real counter — also
 * for the splits planned before this suite (gathered solve, SparseGPT sweep, compactFlags, rowDots)
 * and the bounded factorization kernels. Sizes that no split makes sense for are rejected with a
 * RangeError. Other dimensions are kept small: the file runs in ~10 s on llvmpipe.
 */
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { type Gpu, upload, zeros } from "../thanos/gpu/mod.ts";
import { budgetRanges, checkLoopBudget, LOOP_BUDGET, LOOP_LIMIT, loopCost } from "../thanos/gpu/loop_budget.ts";
import { columnSquaredNormsAccumulate, gramAccumulate } from "../thanos/linalg/gram.ts";
import { matmul } from "../thanos/linalg/matmul.ts";
import { colSumsWeighted } from "../thanos/linalg/mask.ts";
import { chunkItems, maxWorkgroups, nmMask, rowKSmallestMask, rowSelectWorkgroups } from "../thanos/linalg/select.ts";
import { cholesky, MAX_CHOLESKY_BLOCK, spdInverse } from "../thanos/linalg/cholesky.ts";
import { gatheredSolve } from "../thanos/linalg/solve.ts";
import { mat, sub } from "../thanos/linalg/view.ts";
import { attentionKeyRanges, causalAttention, layerNorm, nllUpdate, rmsNorm } from "../thanos/model/ops.ts";
import { compactFlags, removalSets, rowDots, sparsegptBlock, sweepChunks } from "../thanos/prune/ops.ts";
import { resolvePruneOptions } from "../thanos/prune/options.ts";
import * as fwd from "./reference/forward.ts";
import * as refSelect from "./reference/select.ts";
import { hasLoopLimit, measureLoops } from "./loop_probe.ts";
import { assertClose, gpuTest, randn } from "./util.ts";

/**
 * Runs `fn` under the loop probe (where the adapter has the limit) and asserts that every dispatch
 * of each named shader stayed within LOOP_BUDGET; returns the measured use.
 */
async function assertWithinBudget(
  gpu: Gpu,
  shaders: string[],
  fn: () => Promise<unknown>,
): Promise<Map<string, number>> {
  if (!(await hasLoopLimit(gpu))) {
    await fn();
    return new Map();
  }
  const used = await measureLoops(gpu, fn, shaders);
  for (const shader of shaders) {
    const n = used.get(shader);
    assert(n !== undefined, `${shader}: no invocation was measured`);
    assert(n <= LOOP_BUDGET, `${shader}: an invocation used ${n} loop iterations; expected at most ${LOOP_BUDGET}`);
  }
  return used;
}

/** Exact equality of two masks, reporting the first difference (a deep-equality diff of 10⁵ elements is unreadable). */
function assertSameMask(got: Uint32Array, want: Uint32Array): void {
  assertEquals(got.length, want.length);
  const bad = got.findIndex((v, i) => v !== want[i]);
  const wrong = got.reduce((n, v, i) => n + (v !== want[i] ? 1 : 0), 0);
  assert(
    bad < 0,
    `mask: ${wrong} of ${got.length} elements differ, the first at ${bad} (got ${got[bad]}, expected ${want[bad]})`,
  );
}

// ---------------------------------------------------------------------------------------------
// the limit itself and the shared helpers

gpuTest("the loop probe measures a kernel's iterations (a loop of t trips costs t + 1)", async (gpu) => {
  if (!(await hasLoopLimit(gpu))) return; // nothing to measure on an adapter without the limit
  const x = zeros(gpu, [1000, 2]), out = zeros(gpu, [2]);
  const used = await measureLoops(gpu, () => columnSquaredNormsAccumulate(mat(x), out, 1));
  assertEquals(used.get("column_sq_norms"), loopCost(1000));
  x.release();
  out.release();
});

Deno.test("budgetRanges covers [0, n) in ranges within the budget; checkLoopBudget names the operation", () => {
  assertEquals(budgetRanges("op", 0, 5), []);
  assertEquals(budgetRanges("op", 3, 1), [[0, 3]]);
  const ranges = budgetRanges("op", 130_000, 2, 100);
  assertEquals(ranges[0], [0, 29_950]);
  assertEquals(ranges.at(-1)![1], 130_000);
  for (const [a, b] of ranges) assert(100 + 2 * (b - a) <= LOOP_BUDGET);
  assert(LOOP_BUDGET < LOOP_LIMIT);
  checkLoopBudget("op", LOOP_BUDGET, "fits");
  assertThrows(
    () => checkLoopBudget("rmsNorm", 70_000, "rows of 560000 columns"),
    RangeError,
    "rmsNorm: rows of 560000 columns need ~70000 loop iterations per GPU invocation; expected at most 60000 " +
      "(Mesa's llvmpipe silently stops an invocation after 65535)",
  );
  assertThrows(() => budgetRanges("op", 10, 70_000), RangeError, "op: items of 70000 iterations");
});

// ---------------------------------------------------------------------------------------------
// calibration statistics

gpuTest(
  "columnSquaredNormsAccumulate folds a batch of 70001 rows (one invocation per column walks them all)",
  async (gpu) => {
    const rows = 70_001, cols = 3;
    const x = randn(rows * cols, 11);
    const want = new Float64Array(cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) want[j] += 0.5 * x[i * cols + j] ** 2;
    using xt = upload(gpu, x, [rows, cols]), out = zeros(gpu, [cols]);
    await columnSquaredNormsAccumulate(mat(xt), out, 0.5);
    assertClose(await out.read(), want, { rtol: 1e-4 }); // f32 sums of 70k terms
    using again = zeros(gpu, [cols]);
    await assertWithinBudget(gpu, ["column_sq_norms"], () => columnSquaredNormsAccumulate(mat(xt), again, 0.5));
  },
);

// ---------------------------------------------------------------------------------------------
// forward pass

for (const [seqLen, headDim] of [[1300, 64], [1000, 128]]) {
  for (const variant of ["storage", "texture"] as const) {
    gpuTest(
      `causalAttention over a window of ${seqLen} tokens, heads of ${headDim} (keys in several dispatches, ${variant})`,
      async (gpu) => {
        const batch = 1, heads = 2, kvHeads = 1, scale = 1 / Math.sqrt(headDim);
        assert(attentionKeyRanges(seqLen, headDim).length > 1, "the case spans several dispatches");
        const rows = batch * seqLen;
        const q = randn(rows * heads * headDim, 1).map((v) => 2 * v),
          k = randn(rows * kvHeads * headDim, 2).map((v) => 2 * v);
        const v = randn(rows * kvHeads * headDim, 3);
        using qt = upload(gpu, q, [rows, heads * headDim]), kt = upload(gpu, k, [rows, kvHeads * headDim]);
        using vt = upload(gpu, v, [rows, kvHeads * headDim]), out = zeros(gpu, [rows, heads * headDim]);
        const shape = { batch, seqLen, heads, kvHeads, headDim, scale };
        await causalAttention(mat(qt), mat(kt), mat(vt), out, shape, variant);
        const want = fwd.attention(q, k, v, batch, seqLen, heads, kvHeads, headDim, scale);
        assertClose(await out.read(), want, { rtol: 1e-4, atol: 1e-5 });
        const shader = variant === "texture" ? "attention_texture" : "attention";
        await assertWithinBudget(gpu, [shader], () => causalAttention(mat(qt), mat(kt), mat(vt), out, shape, variant));
      },
    );
  }
}

gpuTest("nllUpdate reduces a chunk of 600000 vocabulary columns (several dispatches per chunk)", async (gpu) => {
  const rows = 2, vocab = 600_000;
  const logits = randn(rows * vocab, 5).map((v) => 3 * v);
  const targets = new Uint32Array([599_999, 12_345]);
  using lt = upload(gpu, logits, [rows, vocab]), tt = upload(gpu, targets, [rows]);
  using state = zeros(gpu, [rows, 3]), out = zeros(gpu, [rows]);
  const run = () => nllUpdate(mat(lt), tt, state, out, { lo: 0, first: true, last: true });
  await run();
  assertClose(await out.read(), fwd.nll(logits, rows, vocab, targets), { rtol: 1e-5, atol: 1e-4 });
  await assertWithinBudget(gpu, ["nll"], run);
});

gpuTest("rmsNorm and layerNorm reject rows too long for one invocation's loop budget", async (gpu) => {
  const cols = 2_000_000; // ~1e6 iterations per invocation even with 128 invocations per row
  using x = zeros(gpu, [1, cols]), w = zeros(gpu, [cols]), b = zeros(gpu, [cols]);
  await assertRejects(() => rmsNorm(x, w, 1e-5), RangeError, "rmsNorm: rows of 2000000 columns need ~");
  await assertRejects(() => layerNorm(x, w, b, 1e-5), RangeError, "layerNorm: rows of 2000000 columns need ~");
});

// ---------------------------------------------------------------------------------------------
// selection and masks

gpuTest("rowKSmallestMask on 60000 rows of 8 (more workgroups, not more rows per workgroup)", async (gpu) => {
  const rows = 60_000, cols = 8, k = 3;
  // many ties: the threshold's ties are ranked by column, the costliest path of the kernel
  const scores = randn(rows * cols, 9).map((v) => Math.round(2 * v));
  using st = upload(gpu, scores, [rows, cols]), mt = zeros(gpu, [rows, cols], "u32");
  if (gpu.info.isFallback) assert(rowSelectWorkgroups(rows, cols, maxWorkgroups(gpu)) > maxWorkgroups(gpu));
  await rowKSmallestMask(mat(st), k, mat(mt));
  assertSameMask(await mt.read(), refSelect.rowKSmallestMask(scores, rows, cols, k));
  await assertWithinBudget(gpu, ["row_select"], () => rowKSmallestMask(mat(st), k, mat(mt)));
});

Deno.test("the chunked selections cap the elements per invocation and add workgroups instead", () => {
  assertEquals(chunkItems(1000, 64), 16);
  assertEquals(chunkItems(256 * 64 * 100, 64), 100);
  const huge = 4_000_000_000; // more than 64 workgroups of 256 invocations can take within the budget
  const items = chunkItems(huge, 64);
  assert(2 * loopCost(items) + loopCost(Math.log2(256)) <= LOOP_BUDGET, `${items} items per invocation`);
  assert(Math.ceil(huge / (256 * items)) > 64);
  assertThrows(() => rowSelectWorkgroups(1, 1_000_000, 64), RangeError, "rowKSmallestMask: rows of 1000000 columns");
});

// ---------------------------------------------------------------------------------------------
// dense products

gpuTest("tiled matmul and Gram over k = 40000 (k sliced over dispatches)", async (gpu) => {
  const m = 5, n = 3, k = 40_000;
  const a = randn(m * k, 21), b = randn(k * n, 22);
  using at = upload(gpu, a, [m, k]), bt = upload(gpu, b, [k, n]), c = zeros(gpu, [m, n]);
  const product = () => matmul(mat(at), mat(bt), mat(c), { variant: "tiled" });
  await product();
  const want = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < k; t++) for (let j = 0; j < n; j++) want[i * n + j] += a[i * k + t] * b[t * n + j];
  }
  assertClose(await c.read(), want, { rtol: 1e-3, atol: 2e-3 }); // f32 sums of 40k products of N(0, 1)
  await assertWithinBudget(gpu, ["matmul_tiled"], product);

  // H += XᵀX with X = Bᵀ's rows: [k, n] → [n, n], the symmetric mode
  using h = zeros(gpu, [n, n]);
  await gramAccumulate(mat(bt), mat(h), 1, { variant: "tiled" });
  const gram = new Float64Array(n * n);
  for (let t = 0; t < k; t++) {
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) gram[i * n + j] += b[t * n + i] * b[t * n + j];
  }
  assertClose(await h.read(), gram, { rtol: 1e-4, atol: 1e-2 });
});

// ---------------------------------------------------------------------------------------------
// pruning kernels: their splits were planned before this suite existed (correctness past the limit is
// tested in solve_test.ts and prune_ops_test.ts); here the plans are measured against the counter

gpuTest("gatheredSolve's phases stay within the budget at every maxQ that needs them (measured)", async (gpu) => {
  const rows = 8;
  for (const maxQ of [125, 129, 200, 256, 512]) {
    const a = new Float32Array(maxQ * maxQ);
    for (let i = 0; i < maxQ; i++) a[i * maxQ + i] = 2;
    using at = upload(gpu, a, [maxQ, maxQ]), rhs = upload(gpu, new Float32Array(rows * maxQ).fill(1));
    using idx = upload(gpu, Uint32Array.from({ length: rows * maxQ }, (_, i) => i % maxQ));
    using out = zeros(gpu, [rows * maxQ]);
    // every row removes maxQ columns: the largest work the plan allows for
    const used = await assertWithinBudget(
      gpu,
      ["gathered_solve"],
      () => gatheredSolve(mat(at), idx, maxQ, rhs, out, maxQ),
    );
    if (maxQ === 256 && used.size > 0) {
      // a row fits in one dispatch (~27k iterations); a smaller budget splits it — into dispatches
      // that each stay within that budget and use more than half of it (the plan packs them)
      assert(used.get("gathered_solve")! > 20000, "the cost model is not far above the measured use");
      const small = 12000;
      const split = await measureLoops(
        gpu,
        () => gatheredSolve(mat(at), idx, maxQ, rhs, out, maxQ, { loopBudget: small }),
        ["gathered_solve"],
      );
      const n = split.get("gathered_solve")!;
      assert(n <= small && n > small / 2, `split at a budget of ${small}: ${n} iterations in a dispatch`);
    }
    assertClose(await out.read(), new Float32Array(rows * maxQ).fill(0.5), { rtol: 1e-6 });
  }
});

gpuTest(
  "the SparseGPT sweep's column ranges stay within the budget (measured), and huge n:m groups are rejected",
  async (gpu) => {
    const rows = 3;
    for (const [count, nm] of [[4096, null], [1024, { n: 2, m: 4 }], [240, { n: 100, m: 240 }]] as const) {
      const u = new Float32Array(count * count);
      for (let i = 0; i < count; i++) u[i * count + i] = 1;
      using ut = upload(gpu, u, [count, count]), w = upload(gpu, randn(rows * count, count), [rows, count]);
      using mask = zeros(gpu, [rows, count], "u32"), err = zeros(gpu, [rows, count]);
      assert(sweepChunks(count, nm?.m ?? 0).length > 1);
      await assertWithinBudget(gpu, ["sparsegpt_block"], () => sparsegptBlock(mat(w), mat(ut), mat(mask), err, nm));
    }
    assertThrows(
      () => sweepChunks(256, 256),
      RangeError,
      "sparsegptBlock: n:m groups of m = 256 in a block of 256 columns need ~66311 loop iterations per GPU invocation; " +
        "expected at most 60000",
    );
  },
);

gpuTest("compactFlags and rowDots walk 130001 positions in budget-sized ranges (measured)", async (gpu) => {
  const n = 130_001;
  using flags = upload(gpu, Uint32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0)));
  using idx = zeros(gpu, [n], "u32"), count = zeros(gpu, [1], "u32"), a = upload(gpu, randn(2 * n, 4), [2, n]);
  await assertWithinBudget(gpu, ["compact_flags", "row_dot"], async () => {
    await compactFlags(flags, idx, count);
    await rowDots(mat(a), mat(a));
  });
  assertEquals((await count.read())[0], Math.ceil(n / 3));
});

Deno.test("SparseGPT with n:m groups past the loop budget is rejected when the options are resolved", () => {
  resolvePruneOptions({ method: "sparsegpt", pattern: "100:200", blocksize: 200 });
  assertThrows(
    () => resolvePruneOptions({ method: "sparsegpt", pattern: "128:256", blocksize: 256 }),
    RangeError,
    "sparsegptBlock: n:m groups of m = 256 in a block of 256 columns need ~66311 loop iterations",
  );
});

// ---------------------------------------------------------------------------------------------
// factorizations: block sizes are bounded, the products' k loops are short

gpuTest(
  "the Cholesky panel at the largest block size, and a d = 1024 inverse, stay within the budget (measured)",
  async (gpu) => {
    for (const n of [MAX_CHOLESKY_BLOCK, 1024]) {
      const a = new Float32Array(n * n);
      for (let i = 0; i < n; i++) a[i * n + i] = 4;
      using at = upload(gpu, a, [n, n]);
      await assertWithinBudget(
        gpu,
        n > MAX_CHOLESKY_BLOCK ? ["chol_panel", "syrk", "trmm_lower"] : ["chol_panel"],
        async () => {
          await cholesky(mat(at), { blockSize: MAX_CHOLESKY_BLOCK });
          if (n > MAX_CHOLESKY_BLOCK) (await spdInverse(mat(at))).release();
        },
      );
    }
  },
);

gpuTest("guards name the operation and the size that would run past the budget", async (gpu) => {
  using s = zeros(gpu, [1, 60_000]), m = zeros(gpu, [1, 60_000], "u32");
  await assertRejects(
    () => nmMask(mat(s), 1, 60_000, mat(m)),
    RangeError,
    "nmMask: groups of m = 60000 need ~60001 loop iterations per GPU invocation; expected at most 60000",
  );
  using tall = zeros(gpu, [250_000, 1]), norms = zeros(gpu, [1]), out = zeros(gpu, [1]);
  await assertRejects(
    () => colSumsWeighted(mat(tall), norms, null, out),
    RangeError,
    "colSumsWeighted: columns of 250000 rows need ~62504 loop iterations per GPU invocation",
  );
  const sets = { idx: zeros(gpu, [30_000], "u32"), counts: zeros(gpu, [1], "u32"), rhs: zeros(gpu, [30_000]) };
  await assertRejects(
    () => removalSets(sub(mat(m), 0, 0, 1, 30_000), sub(mat(s), 0, 0, 1, 30_000), sets),
    RangeError,
    "removalSets: blocks of 30000 columns need ~60002 loop iterations per GPU invocation",
  );
  for (const t of Object.values(sets)) t.release();
});
