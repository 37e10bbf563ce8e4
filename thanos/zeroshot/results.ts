/**
 * Results in lm-evaluation-harness v0.4.7's file shapes, written with Python's JSON formatting
 * (thanos/zeroshot/python.ts) so files and hashes compare byte for byte where the numbers agree:
 *
 * - results.json (lm_eval/evaluator.py `evaluate`'s results_dict, `simple_evaluate`'s `config`,
 *   lm_eval/evaluator_utils.py `consolidate_results` — per task `alias`, then `<metric>,none` and
 *   `<metric>_stderr,none` in metric_list order, stderr "N/A" for one document);
 * - samples_<task>.jsonl (lm_eval/evaluator.py, the `example` dict per document, as
 *   lm_eval/loggers/evaluation_tracker.py `save_results_samples` writes it: `arguments` as
 *   {gen_args_i: {arg_0, arg_1}}, `resps`/`filtered_resps` through `sanitize_list` (every leaf
 *   str()-ed), `target` str()-ed, then the document's metrics).
 *
 * The environment fields lm-eval appends (pretty_env_info, transformers_version, tokenizer
 * details, git_hash of the harness) are left out: they describe a Python installation.
 *
 * @module
 */

import type { TaskResult, ZeroShotResult } from "./evaluate.ts";
import { PyFloat, pyFloatRepr, type PyJson, pyJsonDumps, sha256Hex } from "./python.ts";
import { getTask } from "./tasks.ts";

/** What results.json records about the run (lm-eval's `config` block). */
export interface RunInfo {
  /** the --model argument */
  model: string;
  batchSize: number | undefined;
  limit: number | undefined;
  /** ISO start/end of the run */
  startTime: number;
  endTime: number;
}

const f = (v: number) => new PyFloat(v);

function taskResults(t: TaskResult): Record<string, PyJson> {
  const out: Record<string, PyJson> = { alias: t.name };
  for (const m of getTask(t.name).metrics) {
    const r = t.metrics[m]!;
    out[`${m},none`] = f(r.value);
    out[`${m}_stderr,none`] = r.stderr === null ? "N/A" : f(r.stderr);
  }
  return out;
}

const sorted = <T>(entries: [string, T][]) => Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : 1)));

/** The results.json object. */
export function resultsJson(result: ZeroShotResult, run: RunInfo): PyJson {
  const names = result.tasks.map((t) => t.name);
  const configs = names.map((n) => [n, getTask(n).config as PyJson] as [string, PyJson]);
  return {
    results: Object.fromEntries(result.tasks.map((t) => [t.name, taskResults(t)])),
    group_subtasks: Object.fromEntries([...names].reverse().map((n) => [n, [] as PyJson[]])),
    configs: sorted(configs.map(([n, c]) => [n, floatsIn(c)])),
    versions: sorted(names.map((n) => [n, f(getTask(n).version)])),
    "n-shot": sorted(names.map((n) => [n, 0])),
    higher_is_better: sorted(
      names.map((n) => [n, Object.fromEntries(getTask(n).metrics.map((m) => [m, true]))]),
    ),
    "n-samples": Object.fromEntries(
      result.tasks.map((t) => [t.name, { original: t.original, effective: t.effective }]),
    ),
    config: {
      model: "thanos-webgpu",
      model_args: `pretrained=${run.model}`,
      batch_size: run.batchSize ?? "auto",
      batch_sizes: [],
      device: "webgpu",
      use_cache: null,
      limit: run.limit === undefined ? null : Number.isInteger(run.limit) ? run.limit : f(run.limit),
      bootstrap_iters: 100000,
      gen_kwargs: null,
      random_seed: 0,
      numpy_seed: 1234,
      torch_seed: 1234,
      fewshot_seed: 1234,
    },
    date: f(run.startTime / 1000),
    model_name: run.model,
    start_time: f(run.startTime / 1000),
    end_time: f(run.endTime / 1000),
    total_evaluation_time_seconds: pyFloatRepr((run.endTime - run.startTime) / 1000),
  };
}

/** Task configs hold YAML floats (version 1.0): mark every `version` as a float. */
function floatsIn(v: PyJson): PyJson {
  if (Array.isArray(v)) return v.map(floatsIn);
  if (v && typeof v === "object" && !(v instanceof PyFloat)) {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, k === "version" && typeof x === "number" ? f(x) : floatsIn(x)]),
    );
  }
  return v;
}

/** results.json's text (lm-eval writes it with `json.dumps(..., indent=2, ensure_ascii=False)`). */
export function resultsText(result: ZeroShotResult, run: RunInfo): string {
  return pyJsonDumps(resultsJson(result, run), 2);
}

/** A document as JSON: integers stay ints, other numbers become floats (as the datasets hold them). */
function docJson(v: unknown): PyJson {
  if (typeof v === "number") return Number.isInteger(v) ? v : f(v);
  if (Array.isArray(v)) return v.map(docJson);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, docJson(x)]));
  return v as PyJson;
}

/** The lines of samples_<task>.jsonl, one per document. */
export async function sampleLines(t: TaskResult): Promise<string[]> {
  const task = getTask(t.name);
  const lines: string[] = [];
  for (const s of t.samples) {
    const doc = docJson(s.doc);
    const target = String(s.requests.target);
    const resps = s.responses.map((r) => [[pyFloatRepr(r.logprob), r.isGreedy ? "True" : "False"]]);
    const line: Record<string, PyJson> = {
      doc_id: s.docId,
      doc,
      target,
      arguments: Object.fromEntries(
        s.requests.arguments.map(([ctx, cont], i) => [`gen_args_${i}`, { arg_0: ctx, arg_1: cont }]),
      ),
      resps,
      filtered_resps: resps.map((r) => r[0]),
      filter: "none",
      metrics: [...task.metrics],
      doc_hash: await sha256Hex(pyJsonDumps(doc, 2)),
      prompt_hash: await sha256Hex(s.requests.arguments[0][0]),
      target_hash: await sha256Hex(target),
    };
    for (const m of task.metrics) line[m] = f(s.metrics[m]!);
    lines.push(pyJsonDumps(line));
  }
  return lines;
}

/** The one-line summary the CLI prints last: each task's acc (and acc_norm) and the mean acc. */
export function summary(result: ZeroShotResult): Record<string, unknown> {
  return {
    tasks: Object.fromEntries(
      result.tasks.map((t) => [t.name, {
        acc: t.metrics.acc?.value,
        ...(t.metrics.acc_norm ? { acc_norm: t.metrics.acc_norm.value } : {}),
        n: t.effective,
      }]),
    ),
    mean_acc: result.meanAcc,
    requests: result.requests,
    seconds: result.seconds,
  };
}
