/**
 * `deno task zeroshot` and `prune --zeroshot` end to end on tiny-gpt2 and the bundled sample set:
 * results.json in lm-eval's shape agrees with the JSON summary and the per-document samples; and
 * `table --zeroshot`'s pieces (pruneAndEvaluate with tasks, the accuracy table).
 */

import { assert, assertEquals } from "./assert.ts";
import { cliTest, lastJson, runCli } from "./cli_util.ts";
import { markdown } from "../cli/table.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { prepareData, pruneAndEvaluate } from "../thanos/experiment.ts";
import { openCheckpoint } from "../thanos/model/checkpoint.ts";
import { loadModel } from "../thanos/model/load.ts";
import { loadTaskDocs } from "../thanos/zeroshot/data.ts";
import { evaluateZeroShot, prepareTask } from "../thanos/zeroshot/evaluate.ts";
import { getTask } from "../thanos/zeroshot/tasks.ts";

cliTest(
  "deno task zeroshot writes lm-eval-shaped results.json and samples that agree with its summary",
  async (dir) => {
    const run = await runCli("cli/zeroshot.ts", [
      "--model",
      "models/tiny-gpt2",
      "--tasks",
      "winogrande,hellaswag",
      "--data",
      "data/zeroshot-sample",
      "--limit",
      "4",
      "--batch-size",
      "5",
      "--out",
      `${dir}/results.json`,
      "--log-samples",
      `${dir}/samples`,
    ]); // deno-fmt-ignore
    assertEquals(run.code, 0, run.stderr);
    const s = lastJson(run.stdout);
    const results = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
    assertEquals(Object.keys(results.results), ["winogrande", "hellaswag"]);
    assertEquals(Object.keys(results.results.hellaswag), [
      "alias",
      "acc,none",
      "acc_stderr,none",
      "acc_norm,none",
      "acc_norm_stderr,none",
    ]); // deno-fmt-ignore
    assertEquals(results["n-samples"].hellaswag, { original: 24, effective: 4 });
    assertEquals(results.versions, { hellaswag: 1, winogrande: 1 });
    for (const task of ["winogrande", "hellaswag"]) {
      assertEquals(results.results[task]["acc,none"], s.tasks[task].acc);
      const lines = (await Deno.readTextFile(`${dir}/samples/samples_${task}.jsonl`)).trim().split("\n");
      const samples = lines.map((l) => JSON.parse(l));
      assertEquals(samples.map((x) => x.doc_id), [0, 1, 2, 3]);
      assertEquals(samples.reduce((a, x) => a + x.acc, 0) / 4, s.tasks[task].acc);
      for (const x of samples) {
        // acc = argmax of the logged log-likelihoods is the gold choice
        const lls = x.filtered_resps.map((r: [string, string]) => Number(r[0]));
        const gold = task === "hellaswag" ? x.doc.gold : Number(x.doc.answer) - 1;
        assertEquals(x.acc, lls.indexOf(Math.max(...lls)) === gold ? 1 : 0);
      }
    }
    assertEquals(s.mean_acc, (s.tasks.winogrande.acc + s.tasks.hellaswag.acc) / 2);
  },
);

cliTest(
  "prune --zeroshot evaluates dense and pruned zero-shot accuracy into the summary and report.json",
  async (dir) => {
    // without --zeroshot-data the split comes from the Hub; offline with an empty cache that is one line, exit 2
    const bad = await runCli(
      "cli/prune.ts",
      ["--model", "models/tiny-gpt2", "--zeroshot", "piqa", "--out", `${dir}/x`],
      { HF_HUB_OFFLINE: "1", HF_HUB_CACHE: `${dir}/cache` },
    );
    assertEquals(bad.code, 2, bad.stderr);
    assert(
      bad.stderr.startsWith(
        `error: piqa: the piqa validation split is not in the Hugging Face cache (looked in ${dir}/cache/datasets--piqa ` +
          "for refs/refs/convert/parquet and a snapshot with <config>/validation/*.parquet), and offline mode is on",
      ),
      bad.stderr,
    );
    assertEquals(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    assertEquals(await Array.fromAsync(Deno.readDir(dir)), []);
    const run = await runCli("cli/prune.ts", [
      "--model",
      "models/tiny-gpt2",
      "--nsamples",
      "4",
      "--max-windows",
      "2",
      "--seqlen",
      "64",
      "--zeroshot",
      "boolq",
      "--zeroshot-data",
      "data/zeroshot-sample",
      "--zeroshot-limit",
      "3",
      "--out",
      `${dir}/p`,
    ]); // deno-fmt-ignore
    assertEquals(run.code, 0, run.stderr);
    const s = lastJson(run.stdout);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/p/report.json`));
    assertEquals(report.zeroshot.mean_acc, s.zeroshot_mean_acc);
    assertEquals(report.zeroshot.dense_mean_acc, s.dense_zeroshot_mean_acc);
    assertEquals(report.zeroshot.tasks.boolq.n, 3);
  },
);

Deno.test({
  name: "table --zeroshot: pruneAndEvaluate scores the prepared tasks; markdown gives mean accuracy per cell",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const checkpoint = await openCheckpoint("models/tiny-gpt2");
    const tokenizer = await loadTokenizer("models/tiny-gpt2");
    const { docs } = await loadTaskDocs("data/zeroshot-sample", getTask("boolq"));
    const prepared = [prepareTask(getTask("boolq"), docs, tokenizer, { limit: 3, maxLength: 256 })];
    const data = await prepareData(checkpoint, { nsamples: 2, seqlen: 32, maxWindows: 1 });
    const run = await pruneAndEvaluate(checkpoint, data, null, { zeroshot: prepared });
    const model = await loadModel(checkpoint);
    try {
      const direct = await evaluateZeroShot(model, prepared);
      assertEquals(run.zeroshot?.meanAcc, direct.meanAcc);
      assertEquals(
        run.zeroshot?.tasks[0].samples.map((s) => s.responses),
        direct.tasks[0].samples.map((s) => s.responses),
      );
    } finally {
      model.release();
    }
    const cells = [
      { row: "dense", column: null, perplexity: 10, zeroshot: { mean_acc: 0.5, tasks: {} } },
      { row: "wanda", column: "2:4", perplexity: 12, zeroshot: { mean_acc: 0.25, tasks: {} } },
    ];
    const md = markdown(cells, "zeroshot").split("\n");
    assertEquals(md[2], "| dense | 50.00 | 50.00 | 50.00 | 50.00 |");
    assertEquals(md[4], "| wanda | — | — | 25.00 | — |");
    assertEquals(markdown(cells).split("\n")[4], "| wanda | — | — | 12.00 | — |");
  },
});
