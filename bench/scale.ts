/**
 * `deno task bench:scale [--preset llama-2-7b|tinyllama-1.1b|small] [--layers 1] [--dtype F16]
 *   [--patterns unstructured,2:4] [--nsamples 8] [--seqlen 256] [--max-windows 2] [--json FILE]
 *   [--f64-check unstructured,2:4|none] [--f64-layer down_proj|up_proj|q_proj]`
 *
 * The paper's model sizes on this machine's adapter: a random-weight LLaMA with a real model's widths
 * (tools/random_model.ts; Llama-2-7B's by default — hidden 4096, intermediate 11008, 32 heads,
 * vocabulary 32000 — with `--layers` of its 32 blocks, stored in `--dtype`) is written to a temporary
 * directory, its memory plan printed (`prune --dry-run`), then pruned end to end with Thanos at each
 * pattern by `deno task prune --streaming` in a child process, exactly as a user would run it. For
 * each stage: wall time, the child's peak resident memory (VmHWM, sampled from /proc every 100 ms),
 * the stage timings of report.json (calibration, pruning, propagation, evaluation) and the memory
 * plan's peak GPU bytes; a run the plan refuses is reported with its one-line reason (e.g. a tensor
 * larger than the adapter's storage-binding limit).
 *
 * Then (unless `--f64-check none`) a float64 check at the same widths: a random layer of the shape of
 * `--f64-layer` (default `mlp.down_proj`, hidden x intermediate: its Hessian is the largest tensor of
 * the model; `up_proj` is intermediate x hidden, `q_proj` hidden x hidden) with random
 * calibration activations (`nsamples·seqlen` rows, a few 6x outlier features), pruned with Thanos by
 * `deno task prune-layer` on the GPU and by `tools/fixtures/thanos_f64.py` (numpy, float64, written
 * independently); the step reports both relative errors, their ratio and the fraction of equal mask entries.
 *
 * A table goes to stdout, then one JSON line with every figure (also written to `--json FILE`).
 *
 * @module
 */

import { join } from "node:path";
import { getGpu } from "../thanos/gpu/device.ts";
import { writeSafetensors } from "../thanos/model/safetensors.ts";
import { randn } from "../thanos/util/random.ts";
import { runDeno } from "./child.ts";
import { stringFlags } from "./flags.ts";
import { type Preset, PRESETS, writeRandomLlama } from "../tools/random_model.ts";

const values = stringFlags(Deno.args, {
  preset: "llama-2-7b",
  layers: "1",
  dtype: "F16",
  patterns: "unstructured,2:4",
  nsamples: "8",
  seqlen: "256",
  "max-windows": "2",
  json: undefined,
  "f64-check": "unstructured,2:4",
  "f64-layer": "down_proj",
});
const F64_LAYERS = ["down_proj", "up_proj", "q_proj"];
if (!F64_LAYERS.includes(values["f64-layer"])) {
  console.error(`bench:scale: --f64-layer ${values["f64-layer"]}; expected one of ${F64_LAYERS.join(", ")}`);
  Deno.exit(2);
}
if (!(values.preset in PRESETS)) {
  console.error(`bench:scale: --preset ${values.preset}; expected one of ${Object.keys(PRESETS).join(", ")}`);
  Deno.exit(2);
}
const dtype = values.dtype.toUpperCase() as "F32" | "F16" | "BF16";
if (!["F32", "F16", "BF16"].includes(dtype)) {
  console.error(`bench:scale: --dtype ${values.dtype}; expected F32, F16 or BF16`);
  Deno.exit(2);
}

/** Runs `deno run -A <args>` (a prune) with its stderr passed through; the last 3 stderr lines kept. */
async function runChild(args: string[]) {
  const run = await runDeno(["run", "-A", ...args], { echoStderr: true });
  return { ...run, stderrTail: run.stderr.trim().split("\n").slice(-3).join("\n") };
}

const gpu = await getGpu();
const adapter = gpu.info.description;
const maxBinding = gpu.limits.maxStorageBufferBindingSize;
console.error(`bench:scale on ${adapter} (maxStorageBufferBindingSize ${maxBinding} bytes)`);

const tmp = await Deno.makeTempDir({ prefix: "thanos-bench-scale-" });
const results: Record<string, unknown>[] = [];
const GIB = 1024 ** 3;
try {
  const model = join(tmp, "model");
  const layers = Number(values.layers);
  let t = performance.now();
  console.error(`writing a random ${values.preset} checkpoint (${layers} block(s), ${dtype})…`);
  const parameters = await writeRandomLlama(model, { preset: values.preset as Preset, layers, dtype });
  const writeSeconds = (performance.now() - t) / 1000;
  results.push({ stage: "write checkpoint", seconds: writeSeconds, parameters });

  const common = [
    "--model",
    model,
    "--method",
    "thanos",
    "--nsamples",
    values.nsamples,
    "--seqlen",
    values.seqlen,
    "--max-windows",
    values["max-windows"],
    "--streaming",
  ];
  t = performance.now();
  const plan = await runChild(["cli/prune.ts", ...common, "--dry-run"]);
  const planned = plan.json?.plan as { gpu: { peakBytes: number }; host: { bytes: number } } | undefined;
  // on a software adapter the GPU's buffers are this process's memory: RSS is held to GPU + host
  const plannedRss = planned ? planned.host.bytes + (gpu.info.isFallback ? planned.gpu.peakBytes : 0) : undefined;
  results.push({
    stage: "memory plan (--dry-run)",
    code: plan.code,
    seconds: plan.seconds,
    peakRssBytes: plan.peakRssBytes,
    plan: plan.json?.plan ?? null,
    plannedRssBytes: plannedRss,
    refused: plan.code === 2 ? plan.stderrTail : undefined,
  });
  for (const pattern of values.patterns.split(",").filter(Boolean)) {
    const out = join(tmp, `pruned-${pattern.replace(":", "-")}`);
    const run = await runChild(["cli/prune.ts", ...common, "--pattern", pattern, "--out", out]);
    let timings: unknown = null;
    try {
      timings = JSON.parse(await Deno.readTextFile(join(out, "report.json"))).timings;
    } catch { /* refused or failed: no report */ }
    results.push({
      stage: `prune thanos ${pattern}`,
      code: run.code,
      seconds: run.seconds,
      peakRssBytes: run.peakRssBytes,
      rssOverPlan: plannedRss && run.peakRssBytes ? run.peakRssBytes / plannedRss : undefined,
      timings,
      perplexity: run.json?.perplexity ?? null,
      sparsity: run.json?.sparsity ?? null,
      refused: run.code !== 0 ? run.stderrTail : undefined,
    });
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
  if (values["f64-check"] !== "none") await f64Check(tmp, values["f64-check"].split(",").filter(Boolean));
} finally {
  await Deno.remove(tmp, { recursive: true });
}

/** The float64 check of one layer of the preset's `--f64-layer` shape (see the module documentation). */
async function f64Check(tmp: string, patterns: string[]): Promise<void> {
  const { hidden_size: hidden, intermediate_size: intermediate } = PRESETS[values.preset as Preset];
  const [rows, cols] = values["f64-layer"] === "down_proj"
    ? [hidden, intermediate]
    : values["f64-layer"] === "up_proj"
    ? [intermediate, hidden]
    : [hidden, hidden];
  const n = Number(values.nsamples) * Number(values.seqlen);
  const input = join(tmp, "layer.safetensors");
  console.error(`writing a random ${rows}x${cols} layer with ${n} calibration rows for the float64 check…`);
  const inputs = randn(n * cols, 12);
  for (let t = 0; t < n; t++) for (let j = 0; j < cols; j += 97) inputs[t * cols + j] *= 6;
  await writeSafetensors(input, {
    weight: { dtype: "F32", shape: [rows, cols], data: randn(rows * cols, 11) },
    inputs: { dtype: "F32", shape: [n, cols], data: inputs },
  });
  for (const pattern of patterns) {
    const out = join(tmp, `layer-${pattern.replace(":", "-")}.safetensors`);
    const gpuRun = await runChild([
      "cli/prune_layer.ts",
      input,
      "--method",
      "thanos",
      "--pattern",
      pattern,
      "--out",
      out,
    ]);
    const result: Record<string, unknown> = {
      stage: `f64 check ${rows}x${cols} thanos ${pattern}`,
      code: gpuRun.code,
      seconds: gpuRun.seconds,
      peakRssBytes: gpuRun.peakRssBytes,
      gpu: gpuRun.json,
      refused: gpuRun.code !== 0 ? gpuRun.stderrTail : undefined,
    };
    if (gpuRun.code === 0) {
      const t = performance.now();
      const py = await new Deno.Command("python3", {
        args: ["tools/fixtures/thanos_f64.py", input, out, "--pattern", pattern],
        cwd: new URL("../", import.meta.url).pathname,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(py.stdout).trim().split("\n").pop() ?? "";
      result.f64 = py.success ? JSON.parse(text) : new TextDecoder().decode(py.stderr).trim().split("\n").pop();
      result.f64Seconds = (performance.now() - t) / 1000;
    }
    results.push(result);
    await Deno.remove(out).catch(() => {});
  }
}

console.log(`# bench:scale on ${adapter}; random ${values.preset}, ${values.layers} block(s), ${dtype}`);
console.log("| stage | exit | seconds | peak RSS GiB | note |\n|---|---:|---:|---:|---|");
for (const r of results) {
  const rss = typeof r.peakRssBytes === "number" ? (r.peakRssBytes / GIB).toFixed(2) : "";
  const f64 = r.f64 as Record<string, number> | string | undefined;
  const check = typeof f64 === "object"
    ? `relative error GPU f32 ${f64.relative_error_gpu.toPrecision(6)} vs numpy f64 ${
      f64.relative_error_f64.toPrecision(6)
    } (ratio ${f64.relative_error_ratio.toFixed(6)}), masks equal ${(100 * f64.mask_agreement).toFixed(4)}%`
    : f64;
  const note = r.refused ?? check ??
    (r.timings
      ? `${typeof r.rssOverPlan === "number" ? `RSS ${r.rssOverPlan.toFixed(2)}x the plan; ` : ""}` +
        JSON.stringify(r.timings)
      : r.parameters
      ? `${r.parameters} parameters`
      : typeof r.plannedRssBytes === "number"
      ? `plan: ${(r.plannedRssBytes / GIB).toFixed(2)} GiB resident (host${gpu.info.isFallback ? " + GPU" : ""})`
      : "");
  console.log(
    `| ${r.stage} | ${r.code ?? 0} | ${(r.seconds as number).toFixed(1)} | ${rss} | ${
      String(note).replaceAll("\n", " ")
    } |`,
  );
}
const summary = {
  adapter,
  maxStorageBufferBindingSize: maxBinding,
  preset: values.preset,
  widths: PRESETS[values.preset as Preset],
  layers: Number(values.layers),
  dtype,
  results,
};
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(summary, null, 2) + "\n");
console.log(JSON.stringify(summary));
