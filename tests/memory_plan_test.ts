/**
 * The memory plan (thanos/memory_plan.ts) against what a run allocates: on the fixture models, the
 * plan's GPU peak and largest buffer are within 15% of the buffer pool's measured peak live bytes
 * and largest buffer over load + evaluation + prune, and the pool's spares add at most 15% to the live
 * peak; a run that cannot fit is refused by the CLI
 * with the numbers and a fix, exit code 2, before any GPU work and without writing anything.
 */

import { assert, assertEquals } from "./assert.ts";
import { perplexity } from "../thanos/eval.ts";
import { type MemoryPlan, memoryPlan, planProblem, pruneScratch } from "../thanos/memory_plan.ts";
import { openCheckpoint } from "../thanos/model/checkpoint.ts";
import { loadModel } from "../thanos/model/load.ts";
import { pruneModel } from "../thanos/pipeline.ts";
import { resolvePruneOptions } from "../thanos/prune/options.ts";
import { cliTest, lastJson, runCli } from "./cli_util.ts";
import { gpuTest, randomIds } from "./util.ts";

/** Relative tolerance of the plan against the measured peak (the bound). */
const TOLERANCE = 0.15;

const CASES = [
  { model: "models/tiny-llama", method: "sparsegpt", pattern: "2:4", streaming: false },
  { model: "models/tiny-opt", method: "thanos", pattern: "unstructured", streaming: true },
  { model: "models/tiny-gpt2", method: "thanos", pattern: "structured", streaming: false },
  { model: "models/tiny-gpt2", method: "wanda", pattern: "unstructured", streaming: true },
] as const;

for (const c of CASES) {
  gpuTest(
    `memory plan is within 15% of the measured GPU peak: ${c.model} ${c.method} ${c.pattern}${
      c.streaming ? " streaming" : ""
    }`,
    async (gpu) => {
      const nsamples = 5, seqlen = 48, evalWindows = 2;
      const checkpoint = await openCheckpoint(c.model);
      const prune = resolvePruneOptions({
        method: c.method,
        pattern: c.pattern,
        sparsity: c.pattern === "structured" ? 0.3 : 0.5,
      });
      const plan = memoryPlan(
        checkpoint.config,
        checkpoint.layout,
        { nsamples, seqlen, evalWindows, streaming: c.streaming, prune },
        gpu.limits.maxStorageBufferBindingSize,
      );
      const vocab = checkpoint.config.vocabSize;
      const calibration = { tokens: randomIds(nsamples * seqlen, vocab, 1), count: nsamples, seqlen };
      const evaluation = { tokens: randomIds(evalWindows * seqlen, vocab, 2), count: evalWindows, seqlen };

      await gpu.releaseSpares();
      const before = gpu.pool.liveBytes; //                           what other tests left alive
      gpu.pool.resetPeak();
      const model = await loadModel(checkpoint, { streaming: c.streaming });
      try {
        await perplexity(model, evaluation);
        await pruneModel(model, calibration, { prune });
        await perplexity(model, evaluation);
      } finally {
        model.release();
      }
      const measured = gpu.pool.peakLiveBytes - before;
      const largest = gpu.pool.largestBufferBytes;
      report(c.model, plan, measured, largest);
      // what the adapter held, the pool's spares included: the pipeline frees them where shapes change,
      // so a stage does not run beside the scratch of the ones before it (on llvmpipe that is RSS)
      const allocated = gpu.pool.peakBytes - before;
      console.log(`allocated peak (live + spares) ${allocated}`);
      assertWithin("GPU peak with the pool's spares", measured, allocated);
      assertWithin("GPU peak", plan.gpu.peakBytes, measured);
      assertWithin("largest buffer", plan.gpu.largestBuffer.bytes, largest);
    },
  );
}

function report(model: string, plan: MemoryPlan, measured: number, largest: number): void {
  console.log(
    `${model}: plan peak ${plan.gpu.peakBytes} (${plan.gpu.peakStage}) vs measured ${measured} ` +
      `(${(plan.gpu.peakBytes / measured - 1) * 100 > 0 ? "+" : ""}${
        ((plan.gpu.peakBytes / measured - 1) * 100).toFixed(1)
      }%); ` +
      `largest ${plan.gpu.largestBuffer.bytes} (${plan.gpu.largestBuffer.what}) vs ${largest}`,
  );
}

function assertWithin(what: string, planned: number, measured: number): void {
  const rel = Math.abs(planned - measured) / measured;
  assert(
    rel <= TOLERANCE,
    `${what}: planned ${planned} bytes, measured ${measured} (${(rel * 100).toFixed(1)}% off; expected ≤ 15%)`,
  );
}

Deno.test("planProblem names the limit, the bytes needed and the bytes available", () => {
  const prune = resolvePruneOptions({ method: "thanos" });
  const plan: MemoryPlan = {
    gpu: {
      peakBytes: 2 ** 30,
      peakStage: "prune",
      largestBuffer: { bytes: 3 * 2 ** 27, what: "H of mlp_hidden" },
      weightBytes: 0,
      stages: [],
    },
    host: { bytes: 2 ** 29, parts: {} },
    batch: { calibration: 1, evaluation: 1 },
  };
  const limits = {
    maxStorageBufferBindingSize: 2 ** 27,
    maxBufferSize: 2 ** 28,
    hostAvailable: 2 ** 33,
    unifiedMemory: false,
  };
  assertEquals(
    planProblem(plan, limits),
    "its largest GPU buffer (H of mlp_hidden) needs 402653184 bytes (384.0 MiB) but the adapter's " +
      "maxBufferSize is 268435456 bytes (256.0 MiB)",
  );
  // larger than one storage binding is fine: it is bound in chunks
  assertEquals(planProblem(plan, { ...limits, maxBufferSize: 2 ** 31 }), null);
  assertEquals(
    planProblem(plan, { ...limits, maxBufferSize: 2 ** 31, hostAvailable: 2 ** 30, unifiedMemory: true }),
    "it needs 1.50 GiB of host memory (512.0 MiB host + 1.00 GiB GPU at prune, in host memory on this software " +
      "adapter) but 1.00 GiB is available",
  );
  // the scratch grows with the layer: a 4096-wide Hessian alone is 64 MiB
  assert(pruneScratch(4096, 4096, prune) > 3 * 4096 * 4096 * 4);
});

cliTest("prune refuses a run that cannot fit with exit 2, the numbers and a fix, before any work", async (dir) => {
  const out = `${dir}/out`;
  const run = await runCli("cli/prune.ts", ["--nsamples", "1000000", "--seqlen", "256", "--out", out]);
  assertEquals(run.code, 2, run.stderr);
  const lines = run.stderr.trim().split("\n");
  assertEquals(lines.length, 1, run.stderr); //                   one line: no progress, no work
  assertMatch(
    lines[0],
    /^error: This prune does not fit: it needs [\d.]+ GiB of host memory \(.* GPU at \w+, in host memory on this software adapter\) but [\d.]+ GiB is available; use --nsamples \d+ or fewer, or --seqlen \d+$/,
  );
  assertEquals(await exists(out), false);
}, { sanitizeOps: false });

cliTest("prune --dry-run prints the plan and does no work", async (dir) => {
  const out = `${dir}/out`;
  const run = await runCli("cli/prune.ts", [
    "--dry-run",
    "--nsamples",
    "16",
    "--seqlen",
    "128",
    "--max-windows",
    "4",
    "--out",
    out,
  ]);
  assertEquals(run.code, 0, run.stderr);
  const result = lastJson(run.stdout);
  assertEquals(result.dry_run, true);
  assertEquals(result.plan.gpu.stages.map((s: { stage: string }) => s.stage), [
    "evaluate",
    "calibrate",
    "prune",
    "propagate",
  ]);
  assertMatch(run.stderr, /GPU peak [\d.]+ MiB \(\d+ bytes\) at \w+; largest buffer/);
  assertEquals(await exists(out), false);
}, { sanitizeOps: false });

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function assertMatch(text: string, pattern: RegExp): void {
  assert(pattern.test(text), `expected ${JSON.stringify(text)} to match ${pattern}`);
}
