/**
 * `deno task prune [--model <dir|hf:ORG/NAME>] [--method thanos|sparsegpt|wanda|magnitude]
 *   [--pattern unstructured|2:4|4:8|structured] [--sparsity 0.5] [--alpha 0] [--blocksize 128]
 *   [--percdamp 0.01] [--calibration sotu-calib] [--nsamples 128] [--seqlen N] [--seed 0]
 *   [--eval sotu-eval] [--max-windows 64] [--dtype source|F32|F16|BF16] [--streaming] [--half-weights]
 *   [--dry-run] [--save-format dense|compressed] [--out <dir>] [--force]`
 *
 * The project's main job: prune every linear layer of a checkpoint block by block, evaluate dense
 * and pruned perplexity, and write the pruned checkpoint in the Hugging Face layout (config.json,
 * model.safetensors, tokenizer files) plus report.json. With no arguments it prunes the bundled
 * tiny-llama with Thanos to 50% unstructured sparsity. `--save-format compressed` stores the sparse
 * linear weights in the compressed-tensors layout (see thanos/model/compressed.ts); the summary and
 * report.json then give the bytes before and after per kind of tensor.
 *
 * Defaults follow the papers' scripts — 128 calibration windows, window length min(context, 2048) —
 * except that only the first 64 evaluation windows are scored, for speed on a software adapter
 * (`--max-windows 0` evaluates all). `--half-weights` keeps an F16/BF16 checkpoint's block linear weights
 * at 2 bytes a weight on the GPU for the forward passes; each layer is widened to f32 when it is pruned
 * (the pruning math is f32). The memory plan counts weights at f32 (an upper bound with --half-weights).
 *
 * Everything is validated before any work starts (bad input: one line on stderr, exit code 2),
 * including the memory plan (thanos/memory_plan.ts): a run whose peak GPU buffers or memory exceed
 * the adapter's limits or the machine's available memory is refused with the numbers and what would
 * make it fit. `--dry-run` prints the plan (stderr; the JSON line carries it) and stops there.
 * Output goes through cli/output.ts (a lock on --out, a staging directory beside it, an atomic
 * claim at the end): a failed or interrupted run leaves nothing at --out. Progress goes to stderr;
 * the last stdout line is a JSON summary.
 *
 * @module
 */

import { perplexity } from "../thanos/eval.ts";
import { checkDataSizes, DATA_DEFAULTS, defaultSeqlen, prepareData } from "../thanos/experiment.ts";
import { getGpu } from "../thanos/gpu/device.ts";
import {
  describePlan,
  fitSuggestion,
  formatBytes,
  type MemoryPlan,
  memoryPlan,
  planProblem,
} from "../thanos/memory_plan.ts";
import { type Checkpoint, openCheckpoint, storageDtype, writeCheckpoint } from "../thanos/model/checkpoint.ts";
import type { CompressionPlan } from "../thanos/model/compressed.ts";
import { shrinkStructured } from "../thanos/model/shrink.ts";
import { loadModel } from "../thanos/model/load.ts";
import type { TensorInput } from "../thanos/model/safetensors.ts";
import { resolvePruneOptions } from "../thanos/prune/options.ts";
import { checkModelFits, describeOptions, type PipelineProgress, pruneModel } from "../thanos/pipeline.ts";
import {
  asInput,
  DATA_FLAGS,
  dataSpec,
  DEFAULT_MODEL,
  helpGiven,
  intFlag,
  log,
  main,
  numberFlag,
  parse,
  UsageError,
} from "./common.ts";
import { formatSeconds, openOutput } from "./output.ts";
import { evaluateZeroShot, type ZeroShotResult } from "../thanos/zeroshot/evaluate.ts";
import { isHubData, logZeroShot, parseLimit, parseTasks, prepareZeroShot } from "./zeroshot.ts";

const USAGE = "usage: deno task prune [--model <dir|hf:ORG/NAME>] [--method thanos|sparsegpt|wanda|magnitude] " +
  "[--pattern unstructured|2:4|4:8|structured] [--sparsity 0.5] [--alpha 0] [--blocksize 128] [--percdamp 0.01] " +
  "[--calibration sotu-calib] [--nsamples 128] [--seqlen N] [--seed 0] [--eval sotu-eval] [--max-windows 64] " +
  "[--dtype source|F32|F16|BF16] [--streaming] [--half-weights] [--dry-run] [--save-format dense|compressed] [--out <dir>] [--force] " +
  "[--zeroshot t1,t2,… [--zeroshot-data DIR|hf:] [--zeroshot-limit N]]";

async function run(): Promise<unknown> {
  const { values } = parse(Deno.args, {
    model: { type: "string", default: DEFAULT_MODEL },
    method: { type: "string", default: "thanos" },
    pattern: { type: "string", default: "unstructured" },
    sparsity: { type: "string" },
    alpha: { type: "string" },
    blocksize: { type: "string" },
    percdamp: { type: "string" },
    ...DATA_FLAGS,
    dtype: { type: "string", default: "source" },
    streaming: { type: "boolean", default: false },
    "half-weights": { type: "boolean", default: false },
    "dry-run": { type: "boolean", default: false },
    "save-format": { type: "string", default: "dense" },
    out: { type: "string" },
    force: { type: "boolean", default: false },
    zeroshot: { type: "string" },
    "zeroshot-data": { type: "string" },
    "zeroshot-limit": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (helpGiven(values, USAGE)) return undefined;
  const started = performance.now();

  // ---- validate everything before any work
  const options = resolvePruneOptions({
    method: values.method!,
    pattern: values.pattern,
    sparsity: values.sparsity === undefined ? undefined : numberFlag("sparsity", values.sparsity),
    alpha: values.alpha === undefined ? undefined : numberFlag("alpha", values.alpha),
    blocksize: values.blocksize === undefined ? undefined : intFlag("blocksize", values.blocksize),
    percdamp: values.percdamp === undefined ? undefined : numberFlag("percdamp", values.percdamp),
  });
  const spec = dataSpec(values);
  const dtype = values.dtype!.toUpperCase();
  if (!["SOURCE", "F32", "F16", "BF16"].includes(dtype)) {
    throw new UsageError(`Unknown --dtype "${values.dtype}": expected source, F32, F16 or BF16`);
  }
  const saveFormat = values["save-format"]!;
  if (saveFormat !== "dense" && saveFormat !== "compressed") {
    throw new UsageError(`Unknown --save-format "${saveFormat}": expected dense or compressed`);
  }
  const zeroshotTasks = values.zeroshot === undefined ? undefined : parseTasks(values.zeroshot);
  if (zeroshotTasks) isHubData(values["zeroshot-data"]);
  const zeroshotLimit = parseLimit("zeroshot-limit", values["zeroshot-limit"]);
  const checkpoint = await asInput(() => openCheckpoint(values.model!));
  checkModelFits(checkpoint.layout, options);
  const plan = await checkMemoryPlan(checkpoint, options, spec, values.streaming!, values["dry-run"]!);
  if (values["dry-run"]) return { model: values.model, dry_run: true, plan };
  const zeroshot = zeroshotTasks
    ? await prepareZeroShot(checkpoint, zeroshotTasks, values["zeroshot-data"], zeroshotLimit)
    : null;
  const out = values.out ?? defaultOut(values.model!, options);
  const output = await openOutput(out, { kind: "directory", force: values.force });
  try {
    const { calibration, evaluation, spec: data } = await asInput(() => prepareData(checkpoint, spec));
    const { nsamples, seqlen, seed } = data;

    // ---- work
    log(
      `prune: ${checkpoint.dir} (${checkpoint.config.family}, ${checkpoint.layout.blocks.length} blocks), ` +
        `${
          describeOptions(options)
        }; calibration ${nsamples} x ${seqlen} tokens of ${values.calibration} (seed ${seed}); ` +
        `eval ${evaluation.count} windows of ${values.eval}`,
    );
    const model = await loadModel(checkpoint, { streaming: values.streaming, halfWeights: values["half-weights"] });
    try {
      const evalProgress = (what: string) => (p: { windows: number; total: number; seconds: number }) =>
        log(`prune: ${what} perplexity ${p.windows}/${p.total} windows, ${formatSeconds(p.seconds)}`);
      const dense = await perplexity(model, evaluation, { onProgress: evalProgress("dense") });
      log(`prune: dense perplexity ${dense.perplexity.toFixed(3)}`);
      const zeroshotOf = async (what: string): Promise<ZeroShotResult | null> => {
        if (!zeroshot) return null;
        const r = await evaluateZeroShot(model, zeroshot, {
          onProgress: (p) => log(`prune: ${what} zero-shot ${p.done}/${p.total} requests, ${formatSeconds(p.seconds)}`),
        });
        logZeroShot(`prune: ${what} zero-shot `, r);
        return r;
      };
      const denseZeroshot = await zeroshotOf("dense");
      // every layer pruned, the first unit of each stage of a block, and at most a line every 2 s otherwise
      let lastLog = -Infinity, lastStage = "";
      const result = await pruneModel(model, calibration, {
        prune: options,
        onProgress: (p: PipelineProgress) => {
          const now = performance.now(), stage = `${p.stage} ${p.block}`;
          if (p.stage === "prune" || stage !== lastStage || now - lastLog > 2000) {
            lastLog = now;
            lastStage = stage;
            const eta = Number.isFinite(p.eta) ? `, ETA ${formatSeconds(p.eta)}` : "";
            log(`prune: ${p.message} [${p.done}/${p.total}${eta}]`);
          }
        },
      });
      const pruned = await perplexity(model, evaluation, { onProgress: evalProgress("pruned") });
      const prunedZeroshot = await zeroshotOf("pruned");
      log(
        `prune: pruned perplexity ${pruned.perplexity.toFixed(3)} (dense ${dense.perplexity.toFixed(3)}), ` +
          `sparsity ${result.sparsity.toFixed(4)}`,
      );

      const report = {
        model: values.model,
        family: checkpoint.config.family,
        options: { ...result.options, pattern: values.pattern, rowBatch: undefined },
        calibration: { corpus: values.calibration, nsamples, seqlen, seed },
        eval: { corpus: values.eval, windows: evaluation.count, seqlen, tokens: evaluation.count * seqlen },
        dense_perplexity: dense.perplexity,
        perplexity: pruned.perplexity,
        sparsity: result.sparsity,
        ...(denseZeroshot && prunedZeroshot ? { zeroshot: zeroshotReport(denseZeroshot, prunedZeroshot) } : {}),
        layers: result.layers,
        timings: {
          ...result.timings,
          eval_dense: dense.seconds,
          eval_pruned: pruned.seconds,
          total: (performance.now() - started) / 1000,
        },
      };
      log(`prune: writing ${out}`);
      // structured with alpha 0: the removed MLP channels are dropped, giving a smaller dense model
      let config: Record<string, unknown> = { ...checkpoint.config.raw };
      let tensors = model.checkpointTensors();
      let structured: Record<string, unknown> | undefined;
      if (options.pattern.kind === "structured") {
        if (options.alpha === 0) {
          const shrunk = await shrinkStructured(checkpoint.config, checkpoint.layout, tensors);
          ({ config, tensors } = shrunk);
          structured = { dropped_channels: shrunk.dropped, mlp_width: shrunk.width };
          log(
            `prune: dropped ${shrunk.dropped} of ${shrunk.width.before} MLP channels in every block ` +
              `(intermediate width ${shrunk.width.before} -> ${shrunk.width.after})`,
          );
        } else {
          structured = { dropped_channels: 0, reason: "alpha > 0: the outlier rows keep every column" };
          log(
            `prune: alpha ${options.alpha} > 0: the dense outlier rows keep every column, so no MLP channel ` +
              `can be dropped; the removed columns stay as zeros`,
          );
        }
      }
      const written = withWriteProgress(tensors, out);
      const compression = await output.write((dir) =>
        writeOutput(dir, checkpoint, config, written, dtype, saveFormat, {
          ...report,
          ...(structured ? { structured } : {}),
        })
      );
      await output.commit();
      if (compression) {
        const { linear, total } = compression.bytes;
        log(
          `prune: saved ${compression.format ?? "dense (no layer gains from compression)"}: linear weights ` +
            `${linear.before} -> ${linear.after} bytes (${(linear.after / linear.before).toFixed(3)}x), ` +
            `all tensors ${total.before} -> ${total.after} bytes`,
        );
      }
      return {
        model: values.model,
        method: options.method,
        pattern: values.pattern,
        sparsity: result.sparsity,
        dense_perplexity: dense.perplexity,
        perplexity: pruned.perplexity,
        ...(denseZeroshot && prunedZeroshot
          ? { dense_zeroshot_mean_acc: denseZeroshot.meanAcc, zeroshot_mean_acc: prunedZeroshot.meanAcc }
          : {}),
        out,
        save_format: saveFormat,
        ...(structured ? { structured } : {}),
        ...(compression ? { format: compression.format ?? "dense", bytes: compression.bytes } : {}),
        seconds: (performance.now() - started) / 1000,
      };
    } finally {
      model.release();
    }
  } finally {
    await output.discard(); // no-op after commit
  }
}

/**
 * The memory plan of this run, computed before any GPU work; logs it under --dry-run and refuses
 * (UsageError, exit 2) a run that cannot fit the adapter's limits or the machine's memory, with the
 * numbers and what would make it fit.
 */
async function checkMemoryPlan(
  checkpoint: Checkpoint,
  prune: ReturnType<typeof resolvePruneOptions>,
  spec: ReturnType<typeof dataSpec>,
  streaming: boolean,
  dryRun: boolean,
): Promise<MemoryPlan> {
  const seqlen = spec.seqlen ?? defaultSeqlen(checkpoint.config.maxPositions);
  const nsamples = spec.nsamples ?? DATA_DEFAULTS.nsamples;
  const maxWindows = spec.maxWindows ?? DATA_DEFAULTS.maxWindows;
  checkDataSizes({ nsamples, seqlen, maxWindows }, checkpoint.config.maxPositions); // before the plan reads them
  const planOptions = { nsamples, seqlen, evalWindows: spec.maxWindows || 16, streaming, prune };
  const gpu = await getGpu(); //                                      the adapter's limits; no GPU work
  const limits = {
    maxStorageBufferBindingSize: gpu.limits.maxStorageBufferBindingSize,
    maxBufferSize: gpu.limits.maxBufferSize,
    hostAvailable: Deno.systemMemoryInfo().available,
    unifiedMemory: gpu.info.isFallback,
  };
  const plan = memoryPlan(checkpoint.config, checkpoint.layout, planOptions, limits.maxStorageBufferBindingSize);
  if (dryRun) {
    log(
      `prune --dry-run: ${checkpoint.dir}, ${describeOptions(prune)}, ${nsamples} x ${seqlen} calibration ` +
        `tokens${streaming ? ", streaming" : ""}, on ${gpu.info.description} (maxStorageBufferBindingSize ` +
        `${formatBytes(limits.maxStorageBufferBindingSize)}, maxBufferSize ${formatBytes(limits.maxBufferSize)}, ` +
        `host available ${formatBytes(limits.hostAvailable)})`,
    );
    for (const line of describePlan(plan)) log(`prune --dry-run: ${line}`);
  }
  const problem = planProblem(plan, limits);
  if (problem) {
    const fix = fitSuggestion(checkpoint.config, checkpoint.layout, planOptions, limits);
    throw new UsageError(
      `This prune does not fit: ${problem}; ${fix ?? "no smaller --nsamples/--seqlen or --streaming fits either"}`,
    );
  }
  return plan;
}

/**
 * The tensors, each logging "writing <out> [i/n tensors]" (at most every 2 s) as the writer reads
 * it. THANOS_TEST_WRITE_PAUSE_MS (fault-injection tests only) pauses after each tensor and logs
 * every one, so a test can signal the run while a partial file is on disk.
 */
function withWriteProgress(tensors: Map<string, TensorInput>, out: string): Map<string, TensorInput> {
  const pause = Number(Deno.env.get("THANOS_TEST_WRITE_PAUSE_MS") ?? 0);
  let done = 0, lastLog = -Infinity; // the first tensor always logs
  return new Map([...tensors].map(([name, t]): [string, TensorInput] => {
    const data = t.data;
    const lazy = async () => {
      const value = typeof data === "function" ? await data() : data;
      done++;
      const now = performance.now();
      if (pause > 0 || now - lastLog > 2000 || done === tensors.size) {
        lastLog = now;
        log(`prune: writing ${out} [${done}/${tensors.size} tensors]`);
      }
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
      return value;
    };
    return [name, { ...t, data: lazy } as TensorInput];
  }));
}

/** Writes the checkpoint and report.json into `dir` (the staging path given by output.write). */
async function writeOutput(
  dir: string,
  checkpoint: Checkpoint,
  config: Record<string, unknown>,
  tensors: Map<string, TensorInput>,
  dtype: string,
  format: "dense" | "compressed",
  report: Record<string, unknown>,
): Promise<CompressionPlan | null> {
  const storage = dtype === "SOURCE" ? storageDtype(checkpoint) : dtype as "F32" | "F16" | "BF16";
  const { compression } = await writeCheckpoint(dir, {
    config,
    tensors,
    dtype: storage,
    tokenizer: checkpoint.tokenizerPath,
    format,
  });
  const saved = compression
    ? {
      save_format: format,
      format: compression.format ?? "dense",
      bytes: compression.bytes,
      stored: compression.layers,
    }
    : { save_format: format };
  await Deno.writeTextFile(`${dir}/report.json`, JSON.stringify({ ...report, ...saved }, null, 2) + "\n");
  return compression;
}

/** out/<model name>-<method>-<pattern> — e.g. out/tiny-llama-thanos-unstructured-0.5 */
function defaultOut(model: string, o: ReturnType<typeof resolvePruneOptions>): string {
  const name = model.replace(/^hf:/, "").split("@")[0].split("/").filter(Boolean).pop() ?? "model";
  const pattern = o.pattern.kind === "nm" ? `${o.pattern.n}-${o.pattern.m}` : `${o.pattern.kind}-${o.sparsity}`;
  return `out/${name}-${o.method}-${pattern}${o.alpha ? `-alpha${o.alpha}` : ""}`;
}

if (import.meta.main) await main(run);

/** report.json's zero-shot block: per task, dense and pruned acc (and acc_norm), and the means. */
function zeroshotReport(dense: ZeroShotResult, pruned: ZeroShotResult): Record<string, unknown> {
  const metrics = (t: ZeroShotResult["tasks"][number]) =>
    Object.fromEntries(Object.entries(t.metrics).map(([m, v]) => [m, v!.value]));
  return {
    tasks: Object.fromEntries(
      pruned.tasks.map((t, i) => [t.name, { n: t.effective, dense: metrics(dense.tasks[i]), pruned: metrics(t) }]),
    ),
    dense_mean_acc: dense.meanAcc,
    mean_acc: pruned.meanAcc,
    seconds: { dense: dense.seconds, pruned: pruned.seconds },
  };
}
