/**
 * `deno task table [--model <dir|hf:ORG/NAME>] [--calibration sotu-calib] [--nsamples 128]
 *   [--seqlen N] [--seed 0] [--eval sotu-eval] [--max-windows 64] [--out <file.json>] [--force]`
 *
 * The paper's comparison on one model: perplexity of the dense model and of magnitude, Wanda,
 * SparseGPT, Thanos (alpha 0) and Thanos (alpha 0.1) at unstructured 50%, 4:8, 2:4 and structured
 * 30% (structured for Thanos only, as in the paper; alpha applies to the n:m and structured
 * patterns). Every cell prunes a fresh copy of the model with the same calibration windows and
 * evaluates on the same windows. With `--zeroshot t1,t2,… [--zeroshot-data DIR|hf:] [--zeroshot-limit N]`
 * every cell is also scored on those zero-shot tasks (thanos/zeroshot/, lm-eval 0.4.7 semantics) and a
 * second table gives the mean zero-shot accuracy (the paper's other half). Prints the table(s) as
 * markdown on stdout, then (last line) the JSON of every cell; progress on stderr. `--out` goes through cli/output.ts: checked (and locked)
 * before the first prune, an existing file replaced only with --force, never half-written.
 *
 * @module
 */

import { type ExperimentData, prepareData, pruneAndEvaluate } from "../thanos/experiment.ts";
import { SharedFirstBlock } from "../thanos/pipeline.ts";
import { checkPaperCorpora, PAPER_SETTINGS, preparePaperData } from "../thanos/paper.ts";
import { type PruneOptions, resolvePruneOptions } from "../thanos/prune/options.ts";
import { openCheckpoint } from "../thanos/model/checkpoint.ts";
// the table itself (rows, columns, which entries apply): thanos/comparison.ts, shared with notebook 05
import { comparisonEntries, type ComparisonEntry, comparisonMarkdown } from "../thanos/comparison.ts";
import { asInput, DATA_FLAGS, dataSpec, DEFAULT_MODEL, intFlag, log, main, parse, UsageError } from "./common.ts";
import type { ZeroShotResult } from "../thanos/zeroshot/evaluate.ts";
import { isHubData, parseLimit, parseTasks, prepareZeroShot } from "./zeroshot.ts";
import { formatSeconds, openOutput } from "./output.ts";

const USAGE = "usage: deno task table [--model <dir|hf:ORG/NAME>] [--calibration sotu-calib] [--nsamples 128] " +
  "[--seqlen N] [--seed 0] [--eval sotu-eval] [--max-windows 64] [--out <file.json>] [--force] " +
  "[--zeroshot t1,t2,… [--zeroshot-data DIR|hf:] [--zeroshot-limit N]] " +
  "[--paper --c4 c4-train.00000-of-01024.json.gz --wikitext2 <test.parquet|wiki.test.raw> [--seed 0]]";

/** Flags `--paper` sets itself (the paper's values), so they may not be given with it. */
const PAPER_FIXES = ["calibration", "nsamples", "seqlen", "eval", "max-windows"] as const;

/**
 * The paper's per-method settings on top of a table entry (thanos/paper.ts): Thanos block size 512
 * (`construct_tables.py`) for every pattern, SparseGPT 128.
 */
export function paperOptions(options: PruneOptions | null): PruneOptions | null {
  if (options === null) return null;
  if (options.method === "sparsegpt") {
    return resolvePruneOptions({ ...options, blocksize: PAPER_SETTINGS.sparsegptBlocksize });
  }
  if (options.method !== "thanos") return options;
  return resolvePruneOptions({ ...options, blocksize: PAPER_SETTINGS.thanosBlocksize });
}

function given(flag: string): boolean {
  return Deno.args.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
}

async function run(): Promise<unknown> {
  const { values } = parse(Deno.args, {
    model: { type: "string", default: DEFAULT_MODEL },
    ...DATA_FLAGS,
    out: { type: "string" },
    force: { type: "boolean", default: false },
    zeroshot: { type: "string" },
    "zeroshot-data": { type: "string" },
    "zeroshot-limit": { type: "string" },
    paper: { type: "boolean", default: false },
    c4: { type: "string" },
    wikitext2: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(USAGE);
    return undefined;
  }
  const spec = dataSpec(values);
  if (values.paper) {
    for (const flag of PAPER_FIXES) {
      if (given(flag)) {
        throw new UsageError(
          `--${flag} cannot be combined with --paper, which fixes it (C4 calibration, ${PAPER_SETTINGS.nsamples} ` +
            `windows of min(2048, context) tokens, WikiText-2 test perplexity over every window)`,
        );
      }
    }
    if (!values.c4) {
      throw new UsageError("Missing --c4 FILE for --paper: the C4 train shard en/c4-train.00000-of-01024.json.gz");
    }
    if (!values.wikitext2) {
      throw new UsageError(
        "Missing --wikitext2 FILE for --paper: WikiText-2 raw test (wikitext-2-raw-v1 test parquet, or wiki.test.raw)",
      );
    }
  } else if (values.c4 || values.wikitext2) {
    throw new UsageError(`--${values.c4 ? "c4" : "wikitext2"} applies only with --paper`);
  }
  const paper = values.paper
    ? { c4: values.c4!, wikitext2: values.wikitext2!, seed: intFlag("seed", values.seed, 0) }
    : null;
  if (paper) await asInput(() => checkPaperCorpora(paper));
  const zeroshotTasks = values.zeroshot === undefined ? undefined : parseTasks(values.zeroshot);
  if (zeroshotTasks) isHubData(values["zeroshot-data"]);
  const zeroshotLimit = parseLimit("zeroshot-limit", values["zeroshot-limit"]);
  const checkpoint = await asInput(() => openCheckpoint(values.model!));
  const zeroshot = zeroshotTasks
    ? await prepareZeroShot(checkpoint, zeroshotTasks, values["zeroshot-data"], zeroshotLimit)
    : undefined;
  await using output = values.out === undefined
    ? null
    : await openOutput(values.out, { kind: "file", force: values.force });
  const data: ExperimentData = await asInput(() =>
    paper ? preparePaperData(checkpoint, paper) : prepareData(checkpoint, spec)
  );
  const cells: ComparisonEntry[] = comparisonEntries().map((e) =>
    paper ? { ...e, options: paperOptions(e.options) } : e
  );
  const started = performance.now();
  log(
    `table: ${values.model}, ${cells.length} runs${paper ? " with the paper's settings" : ""}; calibration ` +
      `${data.spec.nsamples} x ${data.spec.seqlen} of ${data.spec.calibration}, eval ${data.evaluation.count} ` +
      `windows of ${data.spec.eval}`,
  );
  const results: Cell[] = [];
  // block 0's dense statistics: computed by the first cell that calibrates (magnitude's do not), reused by the rest
  using shared = new SharedFirstBlock();
  for (const [i, cell] of cells.entries()) {
    const t0 = performance.now();
    // the table reports perplexities, not per-layer errors: magnitude cells then need no forward pass to prune
    const r = await pruneAndEvaluate(checkpoint, data, cell.options, { zeroshot, shared, measureError: false });
    const seconds = (performance.now() - t0) / 1000;
    results.push({
      row: cell.row,
      column: cell.column,
      perplexity: r.perplexity,
      sparsity: r.sparsity,
      ...(cell.options?.method === "thanos" || cell.options?.method === "sparsegpt"
        ? { blocksize: cell.options.blocksize }
        : {}),
      seconds,
      ...(r.zeroshot ? { zeroshot: zeroshotCell(r.zeroshot) } : {}),
    });
    const elapsed = (performance.now() - started) / 1000;
    log(
      `table: [${i + 1}/${cells.length}] ${cell.row}${cell.column ? `, ${cell.column}` : ""}: perplexity ` +
        `${r.perplexity.toFixed(3)}${
          r.zeroshot ? `, mean zero-shot acc ${r.zeroshot.meanAcc.toFixed(4)}` : ""
        } (sparsity ${r.sparsity.toFixed(4)}, ${formatSeconds(seconds)}; ETA ` +
        `${formatSeconds(elapsed / (i + 1) * (cells.length - i - 1))})`,
    );
  }
  console.log(markdown(results));
  if (zeroshot) console.log("\n" + markdown(results, "zeroshot"));
  const json = {
    model: values.model,
    ...(paper ? { settings: "paper" } : {}),
    calibration: data.spec,
    eval: { corpus: data.spec.eval, windows: data.evaluation.count, seqlen: data.spec.seqlen },
    cells: results,
    seconds: (performance.now() - started) / 1000,
  };
  if (output) {
    await output.write((path) => Deno.writeTextFile(path, JSON.stringify(json, null, 2) + "\n"));
    await output.commit();
  }
  return json;
}

/** One table cell's result. */
export interface Cell {
  row: string;
  column: string | null;
  perplexity: number;
  sparsity: number;
  /** the column block size of Thanos and SparseGPT cells */
  blocksize?: number;
  seconds: number;
  /** with --zeroshot: the mean of the tasks' acc, and each task's acc (and acc_norm) */
  zeroshot?: { mean_acc: number; tasks: Record<string, Record<string, number>> };
}

function zeroshotCell(z: ZeroShotResult): NonNullable<Cell["zeroshot"]> {
  return {
    mean_acc: z.meanAcc,
    tasks: Object.fromEntries(
      z.tasks.map((t) => [t.name, Object.fromEntries(Object.entries(t.metrics).map(([m, v]) => [m, v!.value]))]),
    ),
  };
}

/**
 * The results as a markdown table (rows × columns; "—" where a method does not apply): perplexity,
 * or with `what = "zeroshot"` the mean zero-shot accuracy (in %).
 */
export function markdown(
  results: Pick<Cell, "row" | "column" | "perplexity" | "zeroshot">[],
  what: "perplexity" | "zeroshot" = "perplexity",
): string {
  return what === "perplexity"
    ? comparisonMarkdown(results)
    : comparisonMarkdown(results, (r) => r.zeroshot ? (100 * r.zeroshot.mean_acc).toFixed(2) : "—");
}

if (import.meta.main) await main(run);
