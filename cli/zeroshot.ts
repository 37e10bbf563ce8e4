/**
 * `deno task zeroshot --model <dir|hf:ORG/NAME> --tasks t1,t2,… [--data DIR|hf:] [--limit N]
 *   [--batch-size B] [--half-weights] [--out results.json] [--log-samples DIR] [--force]`
 *
 * Zero-shot accuracy with lm-evaluation-harness v0.4.7 semantics (thanos/zeroshot/): the paper's
 * seven tasks (winogrande, openbookqa, boolq, piqa, hellaswag, arc_easy, arc_challenge), each
 * split read from `DIR/<task>.jsonl` or `DIR/<task>.parquet` in the dataset's own fields
 * (`data/zeroshot-sample` is a small set written for this project — not the benchmark), or, without
 * `--data` (or with `--data hf:`), the split lm-eval 0.4.7 loads, from the Hugging Face cache or the
 * Hub's parquet conversion (thanos/zeroshot/hub.ts; `HF_HUB_OFFLINE=1` forbids the download).
 *
 * `--limit N` scores the first N documents of each task (a fraction in (0, 1) takes that share,
 * rounded up, as lm-eval). `--out` writes results.json in lm-eval's shape; `--log-samples DIR`
 * writes `DIR/samples_<task>.jsonl` with lm-eval's per-document keys. Both are written only after
 * every task is scored, through a temporary name: a run that fails leaves no partial file.
 * Progress goes to stderr; the last stdout line is `{tasks: {name: {acc, acc_norm?, n}}, mean_acc,
 * requests, seconds}`. Bad input (an unknown task, a data file missing, malformed or lacking a
 * field, a label out of range, an empty file, --limit ≤ 0) → one line on stderr, exit code 2,
 * before any GPU work.
 *
 * @module
 */

import { dirname } from "node:path";
import { type Checkpoint, openCheckpoint } from "../thanos/model/checkpoint.ts";
import { loadModel } from "../thanos/model/load.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { evaluateZeroShot, type PreparedTask, prepareTask, type ZeroShotResult } from "../thanos/zeroshot/evaluate.ts";
import { loadParquetDocs, loadTaskDocs, type TaskDocs } from "../thanos/zeroshot/data.ts";
import { resolveTaskData } from "../thanos/zeroshot/hub.ts";
import type { HubOptions } from "../thanos/model/hub.ts";
import { resultsText, sampleLines, summary } from "../thanos/zeroshot/results.ts";
import { getTask, TASK_NAMES, type ZeroShotTask } from "../thanos/zeroshot/tasks.ts";
import { statOrNull } from "../thanos/util/fs.ts";
import { asInput, helpGiven, intFlag, log, main, numberFlag, parse, requireFlags, UsageError } from "./common.ts";
import { formatSeconds, openOutput } from "./output.ts";

const USAGE = "usage: deno task zeroshot --model <dir|hf:ORG/NAME> --tasks t1,t2,… [--data DIR|hf:] [--limit N] " +
  `[--batch-size B] [--half-weights] [--out results.json] [--log-samples DIR] [--force]   (tasks: ${
    TASK_NAMES.join(", ")
  }, or all)`;

/**
 * Parses `--tasks`: comma-separated names, or "all".
 * @throws UsageError naming an unknown task and listing the seven
 */
export function parseTasks(spec: string): string[] {
  const names = spec === "all" ? [...TASK_NAMES] : spec.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (names.length === 0) throw new UsageError(`Expected --tasks to name at least one of ${TASK_NAMES.join(", ")}`);
  for (const n of names) {
    if (!TASK_NAMES.includes(n)) throw new UsageError(`Unknown task "${n}"; expected one of ${TASK_NAMES.join(", ")}`);
  }
  return [...new Set(names)];
}

/**
 * Reads, checks, processes and encodes the tasks' documents for `checkpoint` — everything before
 * GPU work (shared by `deno task zeroshot` and `prune --zeroshot`).
 * @throws UsageError naming the file, line and field of bad data, or the missing tokenizer
 */
export async function prepareZeroShot(
  checkpoint: Checkpoint,
  names: readonly string[],
  data: string | undefined,
  limit: number | undefined,
  hub: HubOptions = {},
): Promise<PreparedTask[]> {
  const fromHub = isHubData(data);
  if (!fromHub) {
    const dataInfo = await statOrNull(data);
    if (!dataInfo?.isDirectory) throw new UsageError(`--data ${data} is not a directory`);
  }
  if (checkpoint.tokenizerPath === null) {
    throw new UsageError(`${checkpoint.dir} has no tokenizer (tokenizer.json, or vocab.json with merges.txt)`);
  }
  const tokenizer = await asInput(() => loadTokenizer(checkpoint.tokenizerPath!));
  const maxLength = checkpoint.config.maxPositions;
  const prepared: PreparedTask[] = [];
  for (const name of names) {
    const task = getTask(name);
    const { docs, where, path } = await asInput(() => fromHub ? hubDocs(task, hub) : loadTaskDocs(data, task));
    const p = await asInput(() => Promise.resolve(prepareTask(task, docs, tokenizer, { limit, maxLength, where })));
    log(
      `zeroshot: ${name}: ${p.docs.length} of ${p.original} documents from ${path}, ${p.encoded.flat().length} requests`,
    );
    prepared.push(p);
  }
  return prepared;
}

/**
 * Whether `--data` asks for the Hub: absent, or `hf:`.
 * @throws UsageError for any other `hf:…` form
 */
export function isHubData(data: string | undefined): data is undefined | "hf:" {
  if (data === undefined || data === "hf:") return true;
  if (data.startsWith("hf:")) {
    throw new UsageError(
      `--data ${data}: expected a directory, or hf: (each task's dataset from the Hub, as its lm-eval YAML names it)`,
    );
  }
  return false;
}

/** A task's split from the Hub's parquet conversion (cache first), with a progress line. */
async function hubDocs(task: ZeroShotTask, hub: HubOptions): Promise<TaskDocs> {
  const found = await resolveTaskData(task, {
    ...hub,
    onDownload: (e) =>
      log(
        `zeroshot: ${e.task}: downloading the ${task.datasetPath}${task.datasetName ? ` ${task.datasetName}` : ""} ` +
          `${task.split} split from the Hub (${e.revision})`,
      ),
  });
  if (found.downloaded) log(`zeroshot: ${task.name}: downloaded ${found.files.length} file(s) at ${found.commit}`);
  return loadParquetDocs(task, found.files);
}

/**
 * Parses `--limit` as lm-eval does: a positive integer, or a fraction in (0, 1).
 * @throws UsageError otherwise
 */
export function parseLimit(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const limit = numberFlag(flag, value);
  if (!(limit > 0) || (limit >= 1 && !Number.isInteger(limit))) {
    throw new UsageError(`Expected --${flag} to be a positive integer (or a fraction in (0, 1)) but found ${value}`);
  }
  return limit;
}

/** `zeroshot: <task>: acc … ± …, acc_norm … ± …` progress lines of a result. */
export function logZeroShot(prefix: string, result: ZeroShotResult): void {
  for (const t of result.tasks) {
    const acc = t.metrics.acc!, norm = t.metrics.acc_norm;
    log(
      `${prefix}${t.name}: acc ${acc.value.toFixed(4)} ± ${acc.stderr?.toFixed(4) ?? "N/A"}` +
        (norm ? `, acc_norm ${norm.value.toFixed(4)} ± ${norm.stderr?.toFixed(4) ?? "N/A"}` : ""),
    );
  }
}

async function checkOutFile(out: string): Promise<void> {
  const info = await statOrNull(out);
  if (info?.isDirectory) throw new UsageError(`--out ${out} is a directory; expected a file name for results.json`);
  const parent = await statOrNull(dirname(out));
  if (parent && !parent.isDirectory) throw new UsageError(`--out ${out}: ${dirname(out)} is not a directory`);
}

async function run(): Promise<unknown> {
  const { values } = parse(Deno.args, {
    model: { type: "string" },
    tasks: { type: "string" },
    data: { type: "string" },
    limit: { type: "string" },
    "batch-size": { type: "string" },
    "half-weights": { type: "boolean" },
    out: { type: "string" },
    "log-samples": { type: "string" },
    force: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (helpGiven(values, USAGE)) return undefined;
  requireFlags(values, "model", "tasks");
  const names = parseTasks(values.tasks);
  isHubData(values.data);
  const limit = parseLimit("limit", values.limit);
  const batchSize = values["batch-size"] === undefined ? undefined : intFlag("batch-size", values["batch-size"]);
  if (batchSize !== undefined && batchSize < 1) {
    throw new UsageError(`Expected --batch-size >= 1 but found ${batchSize}`);
  }
  if (values.out) await checkOutFile(values.out);

  const checkpoint = await asInput(() => openCheckpoint(values.model!));
  const prepared = await prepareZeroShot(checkpoint, names, values.data, limit);
  const maxLength = checkpoint.config.maxPositions;
  const results = values.out
    ? await openOutput(values.out, { kind: "file", force: values.force ?? false, flag: "--out" })
    : null;
  const samples = values["log-samples"]
    ? await openOutput(values["log-samples"], {
      kind: "directory",
      force: values.force ?? false,
      flag: "--log-samples",
    })
    : null;

  log(`zeroshot: ${checkpoint.config.family} from ${checkpoint.dir} (context ${maxLength})`);
  const started = Date.now();
  // --half-weights: an F16/BF16 checkpoint's block linear weights stay 2 bytes a weight on the GPU
  const model = await loadModel(checkpoint, { halfWeights: values["half-weights"] ?? false });
  try {
    const result = await evaluateZeroShot(model, prepared, {
      batchSize,
      maxLength,
      onProgress: (p) => {
        const eta = p.done < p.total ? `, ETA ${formatSeconds((p.seconds / p.done) * (p.total - p.done))}` : "";
        log(`zeroshot: ${p.done}/${p.total} requests, ${formatSeconds(p.seconds)}${eta}`);
      },
    });
    logZeroShot("zeroshot: ", result);
    const run = { model: values.model, batchSize, limit, startTime: started, endTime: Date.now() };
    if (samples) {
      await samples.write(async (dir) => {
        await Deno.mkdir(dir);
        for (const t of result.tasks) {
          await Deno.writeTextFile(`${dir}/samples_${t.name}.jsonl`, (await sampleLines(t)).join("\n") + "\n");
        }
      });
    }
    if (results) await results.write((path) => Deno.writeTextFile(path, resultsText(result, run)));
    if (results) await results.commit();
    if (samples) await samples.commit();
    return { model: values.model, ...summary(result) };
  } catch (err) {
    await results?.discard();
    await samples?.discard();
    throw err;
  } finally {
    model.release();
  }
}

if (import.meta.main) await main(run);
