/**
 * Zero-shot evaluation of one model on some of the seven tasks: documents → requests (tasks.ts),
 * requests → tokens (every check before GPU work), all tasks' requests scored in one pooled run
 * (as lm-eval's evaluator pools requests of one type), then per-document metrics and their means.
 *
 * @module
 */

import type { TextTokenizer } from "../data/tokenizer.ts";
import type { CausalLM } from "../model/forward.ts";
import {
  checkRequests,
  type EncodedRequest,
  encodeRequest,
  type LoglikelihoodProgress,
  type LoglikelihoodResult,
  loglikelihoods,
} from "./loglikelihood.ts";
import { type DocMetrics, mean, meanStderr, scoreDoc } from "./metrics.ts";
import { buildRequests, type Doc, type DocRequests, type MetricName, type ZeroShotTask } from "./tasks.ts";

/** A task with its documents, ready to run (see {@link prepareTask}). */
export interface PreparedTask {
  task: ZeroShotTask;
  /** processed documents (`process_docs`), after `limit` */
  docs: Doc[];
  requests: DocRequests[];
  encoded: EncodedRequest[][];
  /** documents in the split before `limit` */
  original: number;
}

/**
 * lm-eval's `--limit`: an integer count, or a fraction of the split when below 1 (rounded up).
 * @throws RangeError for a limit ≤ 0 or a non-integer ≥ 1
 */
export function effectiveLimit(limit: number | undefined, n: number): number {
  if (limit === undefined) return n;
  if (!(limit > 0) || (limit >= 1 && !Number.isInteger(limit))) {
    throw new RangeError(`Expected --limit to be a positive integer (or a fraction in (0, 1)) but found ${limit}`);
  }
  return Math.min(n, limit < 1 ? Math.ceil(n * limit) : limit);
}

/**
 * Processes, builds and encodes a task's documents: everything up to the GPU.
 * @param where names a document in errors, e.g. (i) => `data/piqa.jsonl line ${i + 1}`
 * @throws RangeError naming the document for a gold index out of range or an unencodable request
 */
export function prepareTask(
  task: ZeroShotTask,
  rawDocs: readonly Doc[],
  tokenizer: TextTokenizer,
  options: { limit?: number; maxLength: number; where?: (i: number) => string },
): PreparedTask {
  const n = effectiveLimit(options.limit, rawDocs.length);
  const where = options.where ?? ((i: number) => `${task.name} document ${i}`);
  const docs: Doc[] = [], requests: DocRequests[] = [], encoded: EncodedRequest[][] = [];
  for (let i = 0; i < n; i++) {
    try {
      const doc = task.process(rawDocs[i]);
      const req = buildRequests(task, doc);
      const enc = req.arguments.map(([ctx, cont]) => encodeRequest(tokenizer, ctx, cont));
      checkRequests(enc, options.maxLength);
      docs.push(doc), requests.push(req), encoded.push(enc);
    } catch (err) {
      throw new RangeError(`${where(i)}: ${(err as Error).message}`);
    }
  }
  return { task, docs, requests, encoded, original: rawDocs.length };
}

/** One document's outcome, what lm-eval logs per sample. */
export interface SampleResult {
  docId: number;
  doc: Doc;
  requests: DocRequests;
  responses: LoglikelihoodResult[];
  metrics: Partial<DocMetrics>;
}

/** A task's aggregated metrics. */
export interface TaskResult {
  name: string;
  /** per metric: mean and stderr (null: lm-eval's "N/A") */
  metrics: Partial<Record<MetricName, { value: number; stderr: number | null }>>;
  /** documents scored / in the split */
  effective: number;
  original: number;
  samples: SampleResult[];
}

/** Result of {@link evaluateZeroShot}. */
export interface ZeroShotResult {
  tasks: TaskResult[];
  /** mean of each task's acc (the paper's "mean zero-shot accuracy") */
  meanAcc: number;
  requests: number;
  batchSize: number | undefined;
  seconds: number;
}

/** Options of {@link evaluateZeroShot}. */
export interface ZeroShotOptions {
  batchSize?: number;
  maxLength?: number;
  onProgress?: (progress: LoglikelihoodProgress) => void;
}

/**
 * Scores prepared tasks on `model`.
 * @example
 * ```ts
 * const piqa = prepareTask(getTask("piqa"), docs, tokenizer, { maxLength: model.config.maxPositions });
 * const { tasks } = await evaluateZeroShot(model, [piqa]);
 * console.log(tasks[0].metrics.acc?.value);
 * ```
 */
export async function evaluateZeroShot(
  model: CausalLM,
  prepared: readonly PreparedTask[],
  options: ZeroShotOptions = {},
): Promise<ZeroShotResult> {
  const started = performance.now();
  const all = prepared.flatMap((p) => p.encoded.flat());
  const scored = await loglikelihoods(model, all, options);
  let at = 0;
  const tasks = prepared.map((p): TaskResult => {
    const samples = p.docs.map((doc, docId): SampleResult => {
      const req = p.requests[docId];
      const responses = scored.slice(at, at + req.arguments.length);
      at += req.arguments.length;
      const all = scoreDoc(responses.map((r) => r.logprob), req.choices, req.gold);
      const metrics: Partial<DocMetrics> = {};
      for (const m of p.task.metrics) metrics[m] = all[m];
      return { docId, doc, requests: req, responses, metrics };
    });
    const metrics: TaskResult["metrics"] = {};
    for (const m of p.task.metrics) {
      const values = samples.map((s) => s.metrics[m]!);
      metrics[m] = { value: mean(values), stderr: meanStderr(values) };
    }
    return { name: p.task.name, metrics, effective: p.docs.length, original: p.original, samples };
  });
  return {
    tasks,
    meanAcc: mean(tasks.map((t) => t.metrics.acc!.value)),
    requests: all.length,
    batchSize: options.batchSize,
    seconds: (performance.now() - started) / 1000,
  };
}
