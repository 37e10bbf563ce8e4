/**
 * `deno task bench:prune [--model models/tiny-llama] [--methods thanos,sparsegpt,wanda,magnitude]
 *   [--nsamples 128] [--max-windows 64]`
 *
 * Wall time of the default `deno task prune` (50% unstructured, the default data settings), split
 * into calibration forward passes, pruning, propagation through the pruned blocks and evaluation,
 * per method, with the peak GPU memory the project allocated (buffer pool high-water mark:
 * weights, activations, statistics and scratch; the driver's own overhead is not included).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { getGpu } from "../thanos/gpu/mod.ts";
import { DATA_DEFAULTS, prepareData } from "../thanos/experiment.ts";
import { perplexity } from "../thanos/eval.ts";
import { openCheckpoint } from "../thanos/model/checkpoint.ts";
import { loadModel } from "../thanos/model/load.ts";
import { pruneModel } from "../thanos/pipeline.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string", default: "models/tiny-llama" },
    methods: { type: "string", default: "thanos,sparsegpt,wanda,magnitude" },
    nsamples: { type: "string", default: String(DATA_DEFAULTS.nsamples) },
    "max-windows": { type: "string", default: String(DATA_DEFAULTS.maxWindows) },
  },
});

const gpu = await getGpu();
const checkpoint = await openCheckpoint(values.model!);
const data = await prepareData(checkpoint, {
  nsamples: Number(values.nsamples),
  maxWindows: Number(values["max-windows"]),
});
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
console.log(`# bench:prune on ${gpu.info.description}`);
console.log(
  `${values.model}: calibration ${data.spec.nsamples} x ${data.spec.seqlen} tokens, ` +
    `eval ${data.evaluation.count} windows of ${data.spec.seqlen}, 50% unstructured\n`,
);
console.log("| method | load | calibration forward | pruning | propagation | evaluation | total | peak GPU MiB |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const method of values.methods!.split(",")) {
  gpu.pool.trim();
  gpu.pool.resetPeak();
  const t0 = performance.now();
  const model = await loadModel(checkpoint);
  const load = (performance.now() - t0) / 1000;
  try {
    const r = await pruneModel(model, data.calibration, { prune: { method, sparsity: 0.5 } });
    const ev = await perplexity(model, data.evaluation);
    const total = (performance.now() - t0) / 1000;
    const t = r.timings;
    console.log(
      `| ${method} | ${load.toFixed(2)} | ${t.calibrate.toFixed(2)} | ${t.prune.toFixed(2)} | ` +
        `${t.propagate.toFixed(2)} | ${ev.seconds.toFixed(2)} | ${total.toFixed(2)} | ${mib(gpu.pool.peakBytes)} |`,
    );
  } finally {
    model.release();
  }
}
