/**
 * BlockTrace and blockStepErrors: per-block counts and budgets against the final mask, snapshots
 * against the pruned weight and a CPU check of the per-row solves, the errors of one block's step
 * against a float64 evaluation of tr(ΔW·H·ΔWᵀ), and bad use.
 */
import { type Gpu, upload } from "../thanos/gpu/mod.ts";
import { CalibrationStats, pruneLayer, type PruneOptionsInput, type PruneResult } from "../thanos/prune/mod.ts";
import { blockStepErrors, BlockTrace } from "../thanos/block_trace.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { assertClose, gpuTest, randn } from "./util.ts";

const ROWS = 24, COLS = 40, N = 96, B = 16; //                      blocks [0,16) [16,32) [32,40)

async function layerCase(gpu: Gpu, seed: number) {
  const w = randn(ROWS * COLS, seed);
  const x = randn(N * COLS, seed + 1);
  for (let t = 0; t < N; t++) {
    for (let j = 1; j < COLS; j++) x[t * COLS + j] += 0.8 * x[t * COLS + j - 1]; //   correlated neighbours
    for (let j = 0; j < COLS; j += 7) x[t * COLS + j] *= 6; //                        outlier features
  }
  const stats = new CalibrationStats(gpu, COLS, "trace");
  await stats.addBatch(upload(gpu, x, [N, COLS]));
  return { w, weight: upload(gpu, w, [ROWS, COLS], "trace.W"), stats };
}

async function prune(gpu: Gpu, options: PruneOptionsInput, trace: BlockTrace, seed = 3) {
  const c = await layerCase(gpu, seed);
  const r = await pruneLayer({ name: "trace", weight: c.weight }, c.stats, { blocksize: B, ...options }, trace);
  return { ...c, r, mask: await r.mask.read() as Uint32Array, pruned: await r.weight.read() as Float32Array };
}

function release(r: PruneResult): void {
  r.weight.release();
  r.mask.release();
}

function onesInColumns(mask: ArrayLike<number>, cols: number, c0: number, c1: number): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] && i % cols >= c0 && i % cols < c1) n++;
  return n;
}

gpuTest("BlockTrace records Thanos's blocks: pruned counts, cumulative zeros and the moving budget", async (gpu) => {
  const trace = new BlockTrace({ masks: true });
  const { r, mask, stats, weight } = await prune(gpu, { method: "thanos", sparsity: 0.5 }, trace);
  const target = Math.floor(0.5 * ROWS * COLS);
  assertEquals(trace.blocks.map((b) => [b.index, b.i1, b.i2]), [[0, 0, 16], [1, 16, 32], [2, 32, 40]]);
  let before = 0;
  for (const b of trace.blocks) {
    assertEquals(b.method, "thanos");
    assertEquals(b.pruned, onesInColumns(mask, COLS, b.i1, b.i2), `block ${b.index} count`);
    assertEquals(b.prunedBefore, before);
    assertEquals(b.budget, target - before, `block ${b.index} budget`);
    // the selection takes exactly the budget from the columns not yet processed; earlier columns are final
    const selected = b.selectedMask!;
    assertEquals(selected.length, ROWS * COLS);
    assertEquals(onesInColumns(selected, COLS, b.i1, COLS), b.budget);
    for (let i = 0; i < selected.length; i++) {
      if (i % COLS < b.i1) assertEquals(selected[i], mask[i], `block ${b.index}: final column ${i % COLS}`);
    }
    before += b.pruned;
  }
  assertEquals(before, target);
  assert(trace.blocks.some((b) => b.pruned !== Math.floor(0.5 * ROWS * (b.i2 - b.i1))), "the budget moved");
  release(r);
  stats.release();
  weight.release();
});

/** Thanos on the trace layer without an observer (its pruned weights are zeroed once, after the blocks). */
async function pruneUnobserved(gpu: Gpu, options: PruneOptionsInput) {
  const c = await layerCase(gpu, 3);
  const r = await pruneLayer({ name: "trace", weight: c.weight }, c.stats, { blocksize: B, ...options });
  const out = { mask: await r.mask.read(), pruned: await r.weight.read() };
  release(r);
  c.stats.release();
  c.weight.release();
  return out;
}

gpuTest(
  "Thanos writes only each block's columns of its layer-wide choice unless asked, with the same result",
  async (gpu) => {
    const withMasks = await prune(gpu, { method: "thanos", sparsity: 0.5 }, new BlockTrace({ masks: true }));
    const plain = await prune(gpu, { method: "thanos", sparsity: 0.5 }, new BlockTrace());
    const none = await pruneUnobserved(gpu, { method: "thanos" });
    for (const other of [plain, none]) {
      assertEquals(Array.from(other.mask), Array.from(withMasks.mask));
      assertEquals(Array.from(other.pruned), Array.from(withMasks.pruned));
    }
    for (const c of [withMasks, plain]) {
      release(c.r);
      c.stats.release();
      c.weight.release();
    }
  },
);

gpuTest(
  "Thanos n:m with and without an observer: the same masks and weights, pruned weights exactly 0",
  async (gpu) => {
    const observed = await prune(gpu, { method: "thanos", pattern: "2:4" }, new BlockTrace());
    const none = await pruneUnobserved(gpu, { method: "thanos", pattern: "2:4" });
    assertEquals(Array.from(none.mask), Array.from(observed.mask));
    assertEquals(Array.from(none.pruned), Array.from(observed.pruned));
    assert(Array.from(none.mask).every((m, i) => m === 0 || Object.is(none.pruned[i], 0)), "pruned weights are +0");
    release(observed.r);
    observed.stats.release();
    observed.weight.release();
  },
);

gpuTest("a Thanos snapshot holds the block's weights, mask, removal sets and multipliers", async (gpu) => {
  const trace = new BlockTrace({ snapshots: [1] });
  const { r, mask, pruned, stats, weight } = await prune(gpu, { method: "thanos", sparsity: 0.5 }, trace);
  assertThrows(() => trace.snapshot(0), RangeError, "block 0 has no snapshot; the layer had 3 blocks (0..2)");
  const s = trace.snapshot(1);
  const width = s.i2 - s.i1;
  assertEquals([s.rows, s.cols, s.i1, s.i2, width], [ROWS, COLS, 16, 32, 16]);
  assertEquals(s.hinv.length, width * width);
  for (let row = 0; row < ROWS; row++) {
    for (let j = 0; j < width; j++) {
      const c = s.i1 + j;
      // later blocks leave columns before their i1 alone: the block is final after its step
      assertEquals(s.weightAfter[row * COLS + c], pruned[row * COLS + c]);
      assertEquals(s.mask[row * width + j], mask[row * COLS + c]);
      if (s.mask[row * width + j]) assertEquals(s.weightAfter[row * COLS + c], 0);
    }
    for (let c = 0; c < s.i1; c++) assertEquals(s.weightAfter[row * COLS + c], s.weightBefore[row * COLS + c]);
  }
  // q_r, b_r = W[r, q_r] and Hinv[q_r, q_r]·λ_r = b_r, checked on the CPU in float64
  const rm = s.removal!;
  assertEquals([rm.r0, rm.rows, rm.width], [0, ROWS, width]);
  let solved = 0;
  for (let row = 0; row < ROWS; row++) {
    const q = Array.from(rm.idx.subarray(row * width, row * width + rm.counts[row]));
    assertEquals(q, [...Array(width).keys()].filter((j) => s.mask[row * width + j] === 1), `row ${row}: q_r`);
    const b = q.map((j) => s.weightBefore[row * COLS + s.i1 + j]);
    assertClose(rm.rhs.subarray(row * width, row * width + q.length), b, { rtol: 0, atol: 0 }, `row ${row}: rhs`);
    const lambda = rm.lambda.subarray(row * width, row * width + q.length);
    const residual = q.map((i, a) => q.reduce((acc, j, k) => acc + s.hinv[i * width + j] * lambda[k], 0) - b[a]);
    assertClose(residual, residual.map(() => 0), { atol: 1e-4 * Math.max(1, ...b.map(Math.abs)) }, `row ${row}: solve`);
    solved += q.length;
  }
  assertEquals(solved, trace.blocks[1].pruned);
  release(r);
  stats.release();
  weight.release();
});

gpuTest("blockStepErrors: the compensated step beats the mask alone, and matches tr(ΔW·H·ΔWᵀ)", async (gpu) => {
  const trace = new BlockTrace({ snapshots: [0, 2] });
  const { r, stats, weight, w } = await prune(gpu, { method: "thanos", sparsity: 0.6 }, trace, 11);
  const h = Float64Array.from(await stats.hessian.read());
  const quad = (d: ArrayLike<number>) => {
    let s = 0;
    for (let row = 0; row < ROWS; row++) {
      for (let i = 0; i < COLS; i++) {
        const di = d[row * COLS + i];
        if (di === 0) continue;
        for (let j = 0; j < COLS; j++) s += di * h[i * COLS + j] * d[row * COLS + j];
      }
    }
    return s;
  };
  for (const index of [0, 2]) {
    const s = trace.snapshot(index);
    if (index === 0) assertEquals(Array.from(s.weightBefore), Array.from(w)); // block 0 starts from the dense weight
    const e = await blockStepErrors(s, stats);
    const width = s.i2 - s.i1;
    const maskOnly = new Float64Array(ROWS * COLS), step = new Float64Array(ROWS * COLS);
    for (let i = 0; i < ROWS * COLS; i++) step[i] = s.weightAfter[i] - s.weightBefore[i];
    for (let row = 0; row < ROWS; row++) {
      for (let j = 0; j < width; j++) {
        if (s.mask[row * width + j]) maskOnly[row * COLS + s.i1 + j] = -s.weightBefore[row * COLS + s.i1 + j];
      }
    }
    assertClose([e.maskOnly, e.compensated, e.energy], [quad(maskOnly), quad(step), quad(s.weightBefore)], {
      rtol: 1e-3,
      atol: 1e-6,
    }, `block ${index} errors`);
    // with correlated inputs the update removes most of the error (measured ratios 0.38 and 0.41)
    assert(e.compensated < 0.6 * e.maskOnly, `block ${index}: ${e.compensated} vs mask only ${e.maskOnly}`);
  }
  release(r);
  stats.release();
  weight.release();
});

gpuTest("BlockTrace on SparseGPT 2:4: fixed counts per block, no budget, no removal sets", async (gpu) => {
  const trace = new BlockTrace({ snapshots: [2] });
  const { r, mask, stats, weight } = await prune(gpu, { method: "sparsegpt", pattern: "2:4" }, trace);
  assertEquals(trace.blocks.map((b) => [b.method, b.pruned, b.budget]), [
    ["sparsegpt", ROWS * 8, null],
    ["sparsegpt", ROWS * 8, null],
    ["sparsegpt", ROWS * 4, null],
  ]);
  const s = trace.snapshot(2);
  assertEquals(s.removal, null);
  assertEquals(onesInColumns(s.mask, 8, 0, 8), onesInColumns(mask, COLS, 32, 40));
  release(r);
  stats.release();
  weight.release();
});

gpuTest("BlockTrace: bad snapshot numbers, reuse, methods without blocks", async (gpu) => {
  assertThrows(
    () => new BlockTrace({ snapshots: [0, -1] }),
    RangeError,
    "BlockTrace: snapshot block -1 is invalid; expected a non-negative integer",
  );
  const trace = new BlockTrace();
  const first = await prune(gpu, { method: "thanos", sparsity: 0.5 }, trace);
  release(first.r);
  await assertRejects(
    () => prune(gpu, { method: "thanos", sparsity: 0.5 }, trace),
    Error,
    "BlockTrace: this trace already holds a pruned layer; use a new BlockTrace per pruneLayer call",
  );
  const wanda = new BlockTrace();
  const w = await prune(gpu, { method: "wanda", sparsity: 0.5 }, wanda);
  assertEquals(wanda.blocks, []);
  assertThrows(() => wanda.snapshot(0), RangeError, "the layer had 0 blocks");
  release(w.r);
  for (const c of [first, w]) {
    c.stats.release();
    c.weight.release();
  }
});

gpuTest("blockStepErrors rejects statistics of another layer", async (gpu) => {
  const trace = new BlockTrace({ snapshots: [0] });
  const { r, stats, weight } = await prune(gpu, { method: "thanos", sparsity: 0.5 }, trace);
  using other = new CalibrationStats(gpu, COLS + 1, "other");
  await assertRejects(
    () => blockStepErrors(trace.snapshot(0), other),
    RangeError,
    "blockStepErrors: the snapshot's layer has 40 input columns but the statistics have 41",
  );
  release(r);
  stats.release();
  weight.release();
});
