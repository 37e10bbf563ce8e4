/**
 * The four pruning methods on the GPU against the plain-TS reference (tests/reference/prune.ts),
 * their sparsity patterns, the error ordering of the paper on layers with outlier features,
 * identity cases, and bad input.
 */
import { type Gpu, type Tensor, upload } from "../thanos/gpu/mod.ts";
import {
  CalibrationStats,
  METHOD_NAMES,
  type MethodName,
  METHODS,
  parsePattern,
  pruneLayer,
  type PruneResult,
  resolvePruneOptions,
} from "../thanos/prune/mod.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import * as ref from "./reference/prune.ts";
import { assertClose, gpuTest, randn, withPoisonedEmpty } from "./util.ts";

/** Calibration activations with a few outlier features (as in LLMs) and a correlated pair. */
function activations(n: number, cols: number, seed: number): Float32Array {
  const X = randn(n * cols, seed);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < cols; j += 11) X[t * cols + j] *= 8; //      outlier features
    if (cols > 3) X[t * cols + 2] = 0.8 * X[t * cols + 3] + 0.2 * X[t * cols + 2];
  }
  return X;
}

interface Case {
  rows: number;
  cols: number;
  n: number;
  W: Float32Array;
  X: Float32Array;
  stats: ref.RefStats;
}

function makeCase(rows: number, cols: number, n: number, seed: number): Case {
  const W = randn(rows * cols, seed);
  const X = activations(n, cols, seed + 1);
  return { rows, cols, n, W, X, stats: ref.refStats(X, n, cols) };
}

async function gpuStats(gpu: Gpu, c: Case, batches = 3): Promise<CalibrationStats> {
  const stats = new CalibrationStats(gpu, c.cols, "test");
  // uneven batches exercise the running mean
  const cuts = [0, Math.floor(c.n / 5), Math.floor(c.n / 2), c.n].slice(0, batches + 1);
  cuts[cuts.length - 1] = c.n;
  for (let i = 0; i + 1 < cuts.length; i++) {
    const rows = cuts[i + 1] - cuts[i];
    await stats.addBatch(upload(gpu, c.X.slice(cuts[i] * c.cols, cuts[i + 1] * c.cols), [rows, c.cols]));
  }
  return stats;
}

function reference(method: MethodName, c: Case, o: ref.RefOptions): ref.RefResult {
  switch (method) {
    case "magnitude":
      return ref.refMagnitude(c.W, c.rows, c.cols, o);
    case "wanda":
      return ref.refWanda(c.W, c.rows, c.cols, c.stats, o);
    case "sparsegpt":
      return ref.refSparseGPT(c.W, c.rows, c.cols, c.stats, o);
    case "thanos":
      return ref.refThanos(c.W, c.rows, c.cols, c.stats, o);
  }
}

async function run(gpu: Gpu, c: Case, options: Parameters<typeof pruneLayer>[2]): Promise<
  { result: PruneResult; W: Float32Array; mask: Uint32Array }
> {
  using stats = await gpuStats(gpu, c);
  using weight = upload(gpu, c.W, [c.rows, c.cols], "W");
  const result = await pruneLayer({ name: "layer", weight: weight as Tensor }, stats, options);
  const W = await result.weight.read(), mask = await result.mask.read();
  result.weight.release();
  result.mask.release();
  return { result, W, mask };
}

function count(mask: ArrayLike<number>, from = 0, to = mask.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += mask[i] ? 1 : 0;
  return s;
}

// ------------------------------------------------------------------------------------------------
// GPU == reference, for every method and pattern

const CASES = [
  { rows: 37, cols: 72, n: 150, blocksize: 16 },
  { rows: 7, cols: 40, n: 61, blocksize: 128 }, // one block wider than the layer
];
const PATTERNS = ["unstructured", "2:4", "4:8", "structured"] as const;

for (const { rows, cols, n, blocksize } of CASES) {
  for (const method of METHOD_NAMES) {
    for (const patternText of PATTERNS) {
      if (patternText === "structured" && method !== "thanos") continue;
      const alphas = method === "thanos" && patternText !== "unstructured" ? [0, 0.15] : [0];
      for (const alpha of alphas) {
        const sparsity = patternText === "structured" ? 0.3 : 0.5;
        const name = `${method} ${patternText}${alpha ? ` alpha ${alpha}` : ""} on ${rows}x${cols} (B=${blocksize}) ` +
          `matches the reference`;
        gpuTest(name, async (gpu) => {
          const c = makeCase(rows, cols, n, rows * 1000 + cols);
          const pattern = parsePattern(patternText);
          const { result, W, mask } = await run(gpu, c, { method, sparsity, pattern, blocksize, alpha });
          const want = reference(method, c, { sparsity, pattern, blocksize, alpha, percdamp: 0.01 });
          let differ = 0;
          for (let i = 0; i < mask.length; i++) if (mask[i] !== want.mask[i]) differ++;
          assertEquals(differ, 0, `${differ} mask entries differ from the reference`);
          assertClose(W, want.W, { rtol: 2e-3, atol: 2e-4 }, "pruned weights");
          for (let i = 0; i < W.length; i++) if (mask[i]) assertEquals(W[i], 0, `weight ${i} is masked but not zero`);
          // the pattern itself
          const outlierRows = patternText === "unstructured" ? 0 : Math.floor(alpha * rows);
          if (pattern.kind === "unstructured" && method !== "wanda" && method !== "sparsegpt") {
            assertEquals(count(mask), Math.floor(sparsity * rows * cols), "global count");
          }
          if (method === "wanda" && pattern.kind === "unstructured") {
            for (let r = 0; r < rows; r++) {
              assertEquals(count(mask, r * cols, (r + 1) * cols), Math.floor(sparsity * cols), `row ${r}`);
            }
          }
          if (pattern.kind === "nm") {
            let dense = 0;
            for (let r = 0; r < rows; r++) {
              const inRow = count(mask, r * cols, (r + 1) * cols);
              if (inRow === 0) {
                dense++;
                continue;
              }
              for (let g = 0; g < cols; g += pattern.m) {
                assertEquals(count(mask, r * cols + g, r * cols + g + pattern.m), pattern.n, `row ${r} group ${g}`);
              }
            }
            assertEquals(dense, outlierRows, "dense outlier rows");
          }
          if (pattern.kind === "structured") {
            const colsRemoved = Math.ceil(sparsity * cols / (1 - alpha));
            let dense = 0;
            for (let r = 0; r < rows; r++) {
              const inRow = count(mask, r * cols, (r + 1) * cols);
              if (inRow === 0) dense++;
              else assertEquals(inRow, colsRemoved, `row ${r}`);
            }
            assertEquals(dense, outlierRows, "dense outlier rows");
            for (let j = 0; j < cols; j++) {
              let s = 0;
              for (let r = 0; r < rows; r++) s += mask[r * cols + j];
              assert(s === 0 || s === rows - outlierRows, `column ${j} is partly pruned (${s} rows)`);
            }
          }
          assertClose([result.sparsity], [count(mask) / (rows * cols)], { rtol: 0, atol: 0 }, "reported sparsity");
          const err = ref.refRelativeError(c.W, W, rows, cols, c.X, n);
          assertClose([result.relativeError], [err], { rtol: 2e-3, atol: 1e-6 }, "relative error from H vs from X");
        });
      }
    }
  }
}

/** Thanos at half sparsity with a wide `blocksize`: the reference's mask exactly, its weights within 2e-3. */
async function thanosMatchesReference(gpu: Gpu, patternText: string, c: Case, blocksize: number): Promise<void> {
  const sparsity = 0.5, pattern = parsePattern(patternText);
  const { W, mask } = await run(gpu, c, { method: "thanos", sparsity, pattern, blocksize });
  const want = reference("thanos", c, { sparsity, pattern, blocksize, alpha: 0, percdamp: 0.01 });
  let differ = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== want.mask[i]) differ++;
  assertEquals(differ, 0, `${differ} mask entries differ from the reference`);
  assertClose(W, want.W, { rtol: 2e-3, atol: 2e-4 }, "pruned weights");
}

// Thanos with a block wider than one Cholesky panel (128): the factor of H⁻¹ is computed in several
// panels, and every column block reads rows of it that span panels
for (const patternText of ["unstructured", "4:8"] as const) {
  gpuTest(
    `thanos ${patternText} with blocksize 200 on 6x416 matches the reference (poisoned pool)`,
    (gpu) => withPoisonedEmpty(gpu, () => thanosMatchesReference(gpu, patternText, makeCase(6, 416, 500, 4242), 200)),
  );
}

// the paper's Thanos block (512, construct_tables.py): unstructured rows remove up to 512 weights at
// once (the per-row solve spread over several dispatches), 2:4 exactly 256 in rows of stride 512
for (const patternText of ["unstructured", "2:4"] as const) {
  gpuTest(
    `thanos ${patternText} with blocksize 512 on 5x1100 matches the reference`,
    (gpu) => thanosMatchesReference(gpu, patternText, makeCase(5, 1100, 1200, 512), 512),
  );
}

// ------------------------------------------------------------------------------------------------
// behaviour

for (const [pattern, alpha] of [["unstructured", 0], ["2:4", 0.1]] as const) {
  gpuTest(`thanos ${pattern} in row batches of 7 gives the one-batch result bit for bit`, async (gpu) => {
    // rowBatch < rows: the removal sets per batch (n:m without the one-pass nm_removal_sets), the
    // zeros so far summed over the batches' solves, and working buffers that start NaN-filled
    const c = makeCase(45, 48, 150, 61);
    const o = { method: "thanos", pattern, sparsity: 0.5, blocksize: 16, alpha } as const;
    const whole = await withPoisonedEmpty(gpu, () => run(gpu, c, o));
    const batched = await withPoisonedEmpty(gpu, () => run(gpu, c, { ...o, rowBatch: 7 }));
    assertEquals(batched.mask, whole.mask);
    assertEquals(batched.W, whole.W);
    assertEquals(batched.result.sparsity, whole.result.sparsity);
    if (pattern === "unstructured") assertEquals(count(whole.mask), Math.floor(0.5 * 45 * 48));
  });
}

gpuTest("on a layer with outlier features: thanos, sparsegpt <= wanda < magnitude at 50%", async (gpu) => {
  const c = makeCase(64, 96, 400, 7);
  const err: Record<string, number> = {};
  for (const method of METHOD_NAMES) {
    err[method] = (await run(gpu, c, { method, sparsity: 0.5, blocksize: 32 })).result.relativeError;
  }
  assert(err.thanos <= err.wanda, `thanos ${err.thanos} > wanda ${err.wanda}`);
  assert(err.sparsegpt <= err.wanda, `sparsegpt ${err.sparsegpt} > wanda ${err.wanda}`);
  assert(err.wanda < err.magnitude, `wanda ${err.wanda} >= magnitude ${err.magnitude}`);
});

for (const method of METHOD_NAMES) {
  gpuTest(`${method} at sparsity 0 leaves W unchanged`, async (gpu) => {
    const c = makeCase(9, 24, 50, 3);
    const { result, W, mask } = await run(gpu, c, { method, sparsity: 0, blocksize: 8 });
    assertEquals(count(mask), 0);
    assertClose(W, c.W, { rtol: 1e-5, atol: 1e-6 }, "weights");
    assertEquals(result.sparsity, 0);
    assert(result.relativeError < 1e-10, `relative error ${result.relativeError}`);
  });
}

for (const method of ["thanos", "sparsegpt"] as const) {
  gpuTest(`${method} compensates a pruned column that is a combination of kept ones`, async (gpu) => {
    // column 0 of X equals 0.5·x1 − 2·x2: removing W[:, 0] is fully compensable through columns 1, 2
    const rows = 5, cols = 8, n = 200;
    const X = randn(n * cols, 11);
    for (let t = 0; t < n; t++) X[t * cols] = 0.5 * X[t * cols + 1] - 2 * X[t * cols + 2];
    // every other weight has |w| >= 0.5, so the column-0 weights have the smallest scores
    const W = randn(rows * cols, 12).map((w) => Math.sign(w) * (0.5 + Math.abs(w)));
    for (let r = 0; r < rows; r++) W[r * cols] = 0.01 * (r + 1);
    const c: Case = { rows, cols, n, W, X, stats: ref.refStats(X, n, cols) };
    const sparsity = 1 / cols; // exactly one weight per row on average: the column-0 weights
    const { result, mask } = await run(gpu, c, { method, sparsity, blocksize: 8, percdamp: 1e-6 });
    if (method === "thanos") { for (let r = 0; r < rows; r++) assertEquals(mask[r * cols], 1, `row ${r}`); }
    assert(result.relativeError < 1e-5, `relative error ${result.relativeError}`);
  });
}

gpuTest("magnitude without statistics: the same weight and mask as with them, no error; others refuse", async (gpu) => {
  const c = makeCase(24, 40, 64, 9);
  using stats = await gpuStats(gpu, c);
  using weight = upload(gpu, c.W, [24, 40], "W");
  const layer = { name: "fc", weight: weight as Tensor };
  for (const pattern of ["unstructured", "2:4"]) {
    const withStats = await pruneLayer(layer, stats, { method: "magnitude", pattern });
    const without = await pruneLayer(layer, null, { method: "magnitude", pattern });
    assertEquals(await without.weight.read(), await withStats.weight.read(), pattern);
    assertEquals(await without.mask.read(), await withStats.mask.read(), pattern);
    assertEquals(without.sparsity, withStats.sparsity);
    assert(Number.isNaN(without.relativeError) && withStats.relativeError > 0, `${pattern} errors`);
    for (const r of [withStats, without]) r.weight.release(), r.mask.release();
  }
  await assertRejects(
    () => pruneLayer(layer, null, { method: "wanda" }),
    RangeError,
    'Layer "fc": wanda needs calibration statistics, but none were given',
  );
  const bad = Float32Array.from(c.W);
  bad[45] = Infinity;
  using badWeight = upload(gpu, bad, [24, 40], "W");
  await assertRejects(
    () => pruneLayer({ name: "fc", weight: badWeight as Tensor }, null, { method: "magnitude" }),
    RangeError,
    'Layer "fc": the weight contains 1 NaN/Inf value(s), the first in row 1',
  );
});

gpuTest(
  "a Hessian whose factorization meets a non-positive pivot fails the layer, through pruneLayer or the method alone",
  async (gpu) => {
    // H = −I (finite, so the pre-check passes; damping adds 1% of a negative mean): the first pivot of
    // the factorization is negative, which the method's status check reports (one readback a layer)
    const rows = 8, cols = 12;
    using weight = upload(gpu, randn(rows * cols, 3), [rows, cols], "W");
    const minusI = new Float32Array(cols * cols);
    for (let i = 0; i < cols; i++) minusI[i * cols + i] = -1;
    using hessian = upload(gpu, minusI, [cols, cols], "H");
    using colSqNorms = upload(gpu, new Float32Array(cols).fill(1), [cols], "norms");
    const stats = { cols, hessian, colSqNorms, samples: 16 };
    const layer = { name: "fc", weight: weight as Tensor };
    for (
      const [method, pattern] of [["sparsegpt", "unstructured"], ["thanos", "unstructured"], ["thanos", "structured"]]
    ) {
      await assertRejects(
        () => pruneLayer(layer, stats, { method, pattern }),
        Error,
        "is not positive definite",
      );
      const options = resolvePruneOptions({ method, pattern });
      await assertRejects(
        () => METHODS[method as MethodName](layer, stats, options),
        Error,
        "is not positive definite",
      );
    }
  },
);

// ------------------------------------------------------------------------------------------------
// bad input

gpuTest("bad options and mismatched inputs are rejected with clear messages", async (gpu) => {
  const c = makeCase(4, 12, 20, 1);
  using stats = await gpuStats(gpu, c);
  using weight = upload(gpu, c.W, [4, 12], "W");
  const layer = { name: "fc", weight: weight as Tensor };
  await assertRejects(() => pruneLayer(layer, stats, { method: "obs" }), RangeError, 'Unknown method "obs"');
  await assertRejects(
    () => pruneLayer(layer, stats, { method: "thanos", sparsity: 1.5 }),
    RangeError,
    "Expected sparsity in [0, 1) but found 1.5",
  );
  await assertRejects(
    () => pruneLayer(layer, stats, { method: "thanos", pattern: "5:8" }),
    RangeError,
    'Layer "fc" has 12 input columns, which is not divisible by m = 8 of the 5:8 pattern',
  );
  await assertRejects(() => pruneLayer(layer, stats, { method: "wanda", pattern: "4:4" }), RangeError, "1 <= n < m");
  await assertRejects(
    () => pruneLayer(layer, stats, { method: "thanos", alpha: 1 }),
    RangeError,
    "Expected alpha in [0, 1) but found 1",
  );
  await assertRejects(
    () => pruneLayer(layer, stats, { method: "wanda", pattern: "structured" }),
    RangeError,
    "structured pattern is implemented for thanos only",
  );
  using other = new CalibrationStats(gpu, 10, "other");
  await assertRejects(
    () => pruneLayer(layer, other, { method: "thanos" }),
    RangeError,
    'Layer "fc" has 12 input columns but its calibration statistics have 10',
  );
  const bad = Float32Array.from(c.W);
  bad[13] = NaN;
  using nanWeight = upload(gpu, bad, [4, 12], "W");
  await assertRejects(
    () => pruneLayer({ name: "fc", weight: nanWeight as Tensor }, stats, { method: "thanos" }),
    RangeError,
    'Layer "fc": the weight contains 1 NaN/Inf value(s), the first in row 1',
  );
  const badX = Float32Array.from(c.X.slice(0, 24));
  badX[5] = Infinity;
  using nanStats = new CalibrationStats(gpu, 12, "nan");
  await nanStats.addBatch(upload(gpu, badX, [2, 12]));
  await assertRejects(
    () => pruneLayer(layer, nanStats, { method: "sparsegpt" }),
    RangeError,
    "calibration statistics (H) contains",
  );
});
