/**
 * `deno task bench:layer [--shapes 768x768,3072x768,768x3072] [--n 4096] [--reps 2] [--methods …]
 *   [--patterns unstructured,2:4,4:8,structured] [--profile]`
 *
 * Single-layer pruning speed and quality: for each layer shape (rows x cols = out x in features) with
 * n calibration rows, every method x pattern — the best wall time of the method itself over `reps`
 * runs, the methods taking turns run by run (statistics already accumulated, shaders already
 * compiled by a warm-up run of each), and the relative reconstruction error — then the Thanos /
 * SparseGPT time ratio per pattern (the paper reports Thanos faster than SparseGPT for small models).
 *
 * Activations are synthetic: Gaussian with a few outlier features (x20), as in LLM layers.
 *
 * `--profile`: after each method's timed runs, one more run with every kernel launched alone and
 * waited for (`Gpu.profile`), printed as each shader's wall and process CPU seconds and its share of
 * the run's CPU time — where the method spends its time. Sorted by CPU time: each launch's wall
 * time also holds a wait's fixed cost (~10 ms of Deno's mapAsync polling), which swamps the short
 * kernels, while the CPU time on a software adapter is the kernel's own work.
 *
 * @module
 */

import process from "node:process";
import { getGpu, type Tensor, upload } from "../thanos/gpu/mod.ts";
import { CalibrationStats, METHOD_NAMES, pruneLayer } from "../thanos/prune/mod.ts";
import { stringFlags } from "./flags.ts";

// --profile is a switch; the other flags take values
const values = stringFlags(Deno.args.map((a) => a === "--profile" ? "--profile=true" : a), {
  shapes: "768x768,3072x768,768x3072",
  n: "4096",
  reps: "2",
  methods: METHOD_NAMES.join(","),
  patterns: "unstructured,2:4,4:8,structured",
  profile: "false",
});
if (values.profile !== "true" && values.profile !== "false") {
  console.error(`bench:layer: --profile=${values.profile}; expected no value, true or false`);
  Deno.exit(2);
}
const profile = values.profile === "true";

function gaussian(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

const gpu = await getGpu();
const n = Number(values.n), reps = Number(values.reps);
const methods = values.methods.split(",");
const patterns = values.patterns.split(",");
console.log(`# bench:layer on ${gpu.info.description}; n = ${n} calibration rows, best of ${reps}\n`);
console.log("| shape (out x in) | method | pattern | seconds | relative error |");
console.log("|---|---|---|---:|---:|");
const ratios: string[] = [];
const profiles: string[] = [];

/** One run of the method with every launch alone (Gpu.profile): a table of each shader's share. */
async function profiled(
  what: string,
  weight: Tensor,
  stats: CalibrationStats,
  options: Parameters<typeof pruneLayer>[2],
): Promise<string> {
  gpu.profile = new Map();
  const started = performance.now(), cpu = process.cpuUsage();
  try {
    const result = await pruneLayer({ name: what, weight }, stats, options);
    result.weight.release();
    result.mask.release();
  } finally {
    await gpu.sync();
  }
  const total = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu), cpuTotal = (used.user + used.system) / 1e6;
  const rows = [...gpu.profile.entries()].sort((a, b) => b[1].cpuSeconds - a[1].cpuSeconds);
  gpu.profile = null;
  const kernels = rows.reduce((s, [, e]) => s + e.cpuSeconds, 0);
  const lines = rows.map(([name, e]) =>
    `| ${name} | ${e.launches} | ${e.seconds.toFixed(3)} | ${e.cpuSeconds.toFixed(3)} | ` +
    `${(100 * e.cpuSeconds / cpuTotal).toFixed(1)}% |`
  );
  const head = `${what}, every kernel alone: ${total.toFixed(2)} s wall, ${cpuTotal.toFixed(2)} s CPU, of which ` +
    `kernels ${kernels.toFixed(2)} s CPU`;
  return `\n${head}\n| shader | launches | wall s | CPU s | CPU share |\n|---|---:|---:|---:|---:|\n${
    lines.join("\n")
  }`;
}
const records: Record<string, unknown>[] = []; // the JSON line at the end (bench:gpu reads it)

for (const shape of values.shapes.split(",")) {
  const [rows, cols] = shape.split("x").map(Number);
  const x = gaussian(n * cols, cols);
  for (let t = 0; t < n; t++) for (let j = 0; j < cols; j += 97) x[t * cols + j] *= 20;
  using stats = new CalibrationStats(gpu, cols, "bench");
  for (let t0 = 0; t0 < n; t0 += 1024) {
    using batch = upload(gpu, x.subarray(t0 * cols, Math.min(n, t0 + 1024) * cols), [Math.min(1024, n - t0), cols]);
    await stats.addBatch(batch);
  }
  using weight = upload(gpu, gaussian(rows * cols, rows + 7), [rows, cols], "W");
  const seconds: Record<string, number> = {};
  for (const pattern of patterns) {
    // the methods take turns, rep by rep (run 0 compiles shaders and fills the pool), so that a drift
    // of the machine's speed reaches every method of the pair alike
    const runs = methods.filter((m) => pattern !== "structured" || m === "thanos").map((method) => ({
      method,
      options: { method, pattern, sparsity: pattern === "structured" ? 0.3 : undefined },
      best: Infinity,
      error: NaN,
    }));
    for (let r = 0; r <= reps; r++) {
      for (const run of runs) {
        const result = await pruneLayer({ name: shape, weight }, stats, run.options);
        result.weight.release();
        result.mask.release();
        if (r > 0) run.best = Math.min(run.best, result.timings.method);
        run.error = result.relativeError;
      }
    }
    for (const { method, options, best, error } of runs) {
      seconds[`${method} ${pattern}`] = best;
      console.log(`| ${rows}x${cols} | ${method} | ${pattern} | ${best.toFixed(3)} | ${error.toExponential(3)} |`);
      records.push({ shape, method, pattern, seconds: best, relativeError: error });
      if (profile) profiles.push(await profiled(`${rows}x${cols} ${method} ${pattern}`, weight, stats, options));
    }
    const t = seconds[`thanos ${pattern}`], s = seconds[`sparsegpt ${pattern}`];
    if (t !== undefined && s !== undefined) ratios.push(`| ${rows}x${cols} | ${pattern} | ${(t / s).toFixed(2)} |`);
  }
}
if (ratios.length > 0) {
  console.log("\n| shape | pattern | Thanos / SparseGPT time |\n|---|---|---:|");
  for (const r of ratios) console.log(r);
}
for (const p of profiles) console.log(p);
console.log(JSON.stringify({ adapter: gpu.info.description, n, reps, rows: records }));
