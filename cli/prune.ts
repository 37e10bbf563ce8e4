/**
 * `deno task prune [--model <dir|hf:ORG/NAME>] [--method thanos|sparsegpt|wanda|magnitude]
 *   [--pattern unstructured|2:4|4:8|structured] [--sparsity 0.5] [--alpha 0] [--blocksize 128]
 *   [--percdamp 0.01] [--calibration sotu-calib] [--nsamples 128] [--seqlen N] [--seed 0]
 *   [--eval sotu-eval] [--max-windows 64] [--dtype source|F32|F16|BF16] [--streaming]
 *   [--out <dir>] [--force]`
 *
 * The project's main job: prune every linear layer of a checkpoint block by block, evaluate dense
 * and pruned perplexity, and write the pruned checkpoint in the Hugging Face layout (config.json,
 * model.safetensors, tokenizer files) plus report.json. With no arguments it prunes the bundled
 * tiny-llama with Thanos to 50% unstructured sparsity.
 *
 * Defaults follow the papers' scripts — 128 calibration windows, window length min(context, 2048) —
 * except that only the first 64 evaluation windows are scored, for speed on a software adapter
 * (`--max-windows 0` evaluates all).
 *
 * Everything is validated before any work starts (bad input: one line on stderr, exit code 2).
 * Output goes to a temporary directory beside --out, renamed at the end: a failed or interrupted
 * run leaves nothing at --out. Progress goes to stderr; the last stdout line is a JSON summary.
 *
 * @module
 */

import { perplexity } from "../thanos/eval.ts";
import { prepareData } from "../thanos/experiment.ts";
import { type Checkpoint, openCheckpoint, writeCheckpoint } from "../thanos/model/checkpoint.ts";
import { loadModel } from "../thanos/model/load.ts";
import { resolvePruneOptions } from "../thanos/prune/options.ts";
import { checkModelFits, describeOptions, type PipelineProgress, pruneModel } from "../thanos/pipeline.ts";
import { asInput, DATA_FLAGS, dataSpec, DEFAULT_MODEL, intFlag, log, main, numberFlag, parse, UsageError } from "./common.ts";
import { formatSeconds, prepareOutput, type Staging } from "./output.ts";

const USAGE = "usage: deno task prune [--model <dir|hf:ORG/NAME>] [--method thanos|sparsegpt|wanda|magnitude] " +
  "[--pattern unstructured|2:4|4:8|structured] [--sparsity 0.5] [--alpha 0] [--blocksize 128] [--percdamp 0.01] " +
  "[--calibration sotu-calib] [--nsamples 128] [--seqlen N] [--seed 0] [--eval sotu-eval] [--max-windows 64] " +
  "[--dtype source|F32|F16|BF16] [--streaming] [--out <dir>] [--force]";

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
    out: { type: "string" },
    force: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(USAGE);
    return undefined;
  }
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
  const checkpoint = await asInput(() => openCheckpoint(values.model!));
  checkModelFits(checkpoint.layout, options);
  const out = values.out ?? defaultOut(values.model!, options);
  const staging = await prepareOutput(out, values.force!);
  try {
    const { calibration, evaluation, spec: data } = await asInput(() => prepareData(checkpoint, spec));
    const { nsamples, seqlen, seed } = data;

    // ---- work
    log(`prune: ${checkpoint.dir} (${checkpoint.config.family}, ${checkpoint.layout.blocks.length} blocks), ` +
      `${describeOptions(options)}; calibration ${nsamples} x ${seqlen} tokens of ${values.calibration} (seed ${seed}); ` +
      `eval ${evaluation.count} windows of ${values.eval}`);
    const model = await loadModel(checkpoint, { streaming: values.streaming });
    try {
      const evalProgress = (what: string) => (p: { windows: number; total: number; seconds: number }) =>
        log(`prune: ${what} perplexity ${p.windows}/${p.total} windows, ${formatSeconds(p.seconds)}`);
      const dense = await perplexity(model, evaluation, { onProgress: evalProgress("dense") });
      log(`prune: dense perplexity ${dense.perplexity.toFixed(3)}`);
      let lastLog = 0;
      const result = await pruneModel(model, calibration, {
        prune: options,
        onProgress: (p: PipelineProgress) => {
          const now = performance.now();
          if (p.stage === "prune" || now - lastLog > 2000) {
            lastLog = now;
            const eta = Number.isFinite(p.eta) ? `, ETA ${formatSeconds(p.eta)}` : "";
            log(`prune: ${p.message} [${p.done}/${p.total}${eta}]`);
          }
        },
      });
      const pruned = await perplexity(model, evaluation, { onProgress: evalProgress("pruned") });
      log(`prune: pruned perplexity ${pruned.perplexity.toFixed(3)} (dense ${dense.perplexity.toFixed(3)}), ` +
        `sparsity ${result.sparsity.toFixed(4)}`);

      const report = {
        model: values.model,
        family: checkpoint.config.family,
        options: { ...result.options, pattern: values.pattern, rowBatch: undefined },
        calibration: { corpus: values.calibration, nsamples, seqlen, seed },
        eval: { corpus: values.eval, windows: evaluation.count, seqlen, tokens: evaluation.count * seqlen },
        dense_perplexity: dense.perplexity,
        perplexity: pruned.perplexity,
        sparsity: result.sparsity,
        layers: result.layers,
        timings: {
          ...result.timings,
          eval_dense: dense.seconds,
          eval_pruned: pruned.seconds,
          total: (performance.now() - started) / 1000,
        },
      };
      log(`prune: writing ${out}`);
      await writeOutput(staging, checkpoint, model.checkpointTensors(), dtype, report);
      await staging.commit();
      return {
        model: values.model,
        method: options.method,
        pattern: values.pattern,
        sparsity: result.sparsity,
        dense_perplexity: dense.perplexity,
        perplexity: pruned.perplexity,
        out,
        seconds: (performance.now() - started) / 1000,
      };
    } finally {
      model.release();
    }
  } finally {
    await staging.discard(); // no-op after commit
  }
}

async function writeOutput(
  staging: Staging,
  checkpoint: Checkpoint,
  tensors: Awaited<ReturnType<Awaited<ReturnType<typeof loadModel>>["checkpointTensors"]>>,
  dtype: string,
  report: unknown,
): Promise<void> {
  const storage = dtype === "SOURCE" ? sourceDtype(checkpoint) : dtype as "F32" | "F16" | "BF16";
  await writeCheckpoint(staging.dir, {
    config: { ...checkpoint.config.raw },
    tensors,
    dtype: storage,
    tokenizer: checkpoint.tokenizerPath,
    overwrite: true,
  });
  await Deno.writeTextFile(`${staging.dir}/report.json`, JSON.stringify(report, null, 2) + "\n");
}

/** The storage dtype of the checkpoint's first decoder weight (F32, F16 or BF16). */
function sourceDtype(checkpoint: Checkpoint): "F32" | "F16" | "BF16" {
  const first = checkpoint.layout.blocks[0]?.linears[0]?.weight;
  const dt = first ? checkpoint.tensors.entry(first).dtype : "F32";
  return dt === "F16" || dt === "BF16" ? dt : "F32";
}

/** out/<model name>-<method>-<pattern> — e.g. out/tiny-llama-thanos-unstructured-0.5 */
function defaultOut(model: string, o: ReturnType<typeof resolvePruneOptions>): string {
  const name = model.replace(/^hf:/, "").split("@")[0].split("/").filter(Boolean).pop() ?? "model";
  const pattern = o.pattern.kind === "nm" ? `${o.pattern.n}-${o.pattern.m}` : `${o.pattern.kind}-${o.sparsity}`;
  return `out/${name}-${o.method}-${pattern}${o.alpha ? `-alpha${o.alpha}` : ""}`;
}

if (import.meta.main) await main(run);
