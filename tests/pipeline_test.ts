/**
 * The whole-model pipeline on the fixture models: patterns of every pruned layer, the perplexity
 * ordering of the paper, determinism, OPT and GPT-2, checkpoint round trip through the CLI, and
 * failures that leave nothing on disk. Calibration and evaluation are kept small for speed.
 */
import { evalWindows, sampleCalibration } from "../thanos/data/calibration.ts";
import { corpusTokens, loadCorpus } from "../thanos/data/corpus.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { perplexity } from "../thanos/eval.ts";
import { openCheckpoint, writeCheckpoint } from "../thanos/model/checkpoint.ts";
import { loadModel } from "../thanos/model/load.ts";
import { type LayerReport, pruneModel } from "../thanos/pipeline.ts";
import type { PruneResult } from "../thanos/prune/prune.ts";
import { exists } from "../thanos/util/fs.ts";
import { assert, assertEquals } from "./assert.ts";
import { lastJson, runCli, withTempDir } from "./cli_util.ts";
import { gpuTest } from "./util.ts";

const NSAMPLES = 8;
const SEQLEN = 128;
const EVAL_WINDOWS = 8;

async function data(model: string) {
  const tokenizer = await loadTokenizer(model);
  const calib = corpusTokens(await loadCorpus("sotu-calib"), tokenizer);
  const evalTokens = corpusTokens(await loadCorpus("sotu-eval"), tokenizer);
  return {
    calibration: sampleCalibration(calib, { nsamples: NSAMPLES, seqlen: SEQLEN, seed: 0 }),
    evaluation: evalWindows(evalTokens, SEQLEN, EVAL_WINDOWS),
  };
}

function count(mask: Uint32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += mask[i];
  return s;
}

/** Checks one layer's mask against its pattern and its weight's zeros. */
async function checkLayer(
  report: LayerReport,
  result: PruneResult,
  pattern: string,
  sparsity: number,
  alpha: number,
): Promise<void> {
  const [rows, cols] = report.shape;
  const mask = await result.mask.read();
  const w = await result.weight.read();
  const where = `block ${report.block} ${report.name}`;
  for (let i = 0; i < w.length; i++) if (mask[i]) assertEquals(w[i], 0, `${where}: masked weight ${i} is not zero`);
  const outliers = Math.floor(alpha * rows);
  if (pattern === "unstructured") {
    assertEquals(count(mask, 0, mask.length), Math.floor(sparsity * rows * cols), `${where}: global count`);
  } else if (pattern === "structured") {
    const removed = Math.ceil(sparsity * cols / (1 - alpha));
    let dense = 0;
    for (let r = 0; r < rows; r++) {
      const c = count(mask, r * cols, (r + 1) * cols);
      if (c === 0) dense++;
      else assertEquals(c, removed, `${where}: row ${r}`);
    }
    assertEquals(dense, outliers, `${where}: dense outlier rows`);
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += mask[r * cols + j];
      assert(s === 0 || s === rows - outliers, `${where}: column ${j} partly pruned`);
    }
  } else {
    const [n, m] = pattern.split(":").map(Number);
    let dense = 0;
    for (let r = 0; r < rows; r++) {
      if (count(mask, r * cols, (r + 1) * cols) === 0) {
        dense++;
        continue;
      }
      for (let g = 0; g < cols; g += m) assertEquals(count(mask, r * cols + g, r * cols + g + m), n, `${where}: group`);
    }
    assertEquals(dense, outliers, `${where}: dense outlier rows`);
  }
}

for (
  const [pattern, sparsity, alpha] of [
    ["unstructured", 0.5, 0],
    ["2:4", 0.5, 0.1],
    ["4:8", 0.5, 0],
    ["structured", 0.3, 0.1],
  ] as const
) {
  gpuTest(`tiny-opt, thanos ${pattern}${alpha ? ` alpha ${alpha}` : ""}: every layer has the pattern`, async () => {
    const model = await loadModel("models/tiny-opt");
    try {
      const { calibration } = await data("models/tiny-opt");
      const layers: string[] = [];
      const result = await pruneModel(model, calibration, {
        prune: { method: "thanos", pattern, sparsity, alpha },
        onLayerPruned: async (report, r) => {
          await checkLayer(report, r, pattern, sparsity, alpha);
          layers.push(`${report.block}.${report.name}`);
        },
      });
      assertEquals(layers.length, model.numBlocks * 6, "every linear layer of every block was pruned");
      assertEquals(result.layers.length, layers.length);
      for (const l of result.layers) {
        assert(l.relativeError > 0 && l.relativeError < 1, `${l.name}: ${l.relativeError}`);
      }
    } finally {
      model.release();
    }
  });
}

gpuTest("tiny-llama: dense < thanos 50% < magnitude 50% in perplexity", async () => {
  const { calibration, evaluation } = await data("models/tiny-llama");
  const ppl: Record<string, number> = {};
  for (const method of ["dense", "thanos", "magnitude"] as const) {
    const model = await loadModel("models/tiny-llama");
    try {
      if (method !== "dense") await pruneModel(model, calibration, { prune: { method, sparsity: 0.5 } });
      ppl[method] = (await perplexity(model, evaluation)).perplexity;
    } finally {
      model.release();
    }
  }
  assert(ppl.dense < ppl.thanos, `dense ${ppl.dense} >= thanos ${ppl.thanos}`);
  assert(ppl.thanos < ppl.magnitude, `thanos ${ppl.thanos} >= magnitude ${ppl.magnitude}`);
});

gpuTest("magnitude with measureError false: no forward pass, the same pruned model, NaN errors", async () => {
  const { calibration, evaluation } = await data("models/tiny-llama");
  const runs = [];
  for (const measureError of [true, false]) {
    const model = await loadModel("models/tiny-llama");
    try {
      const stages = new Set<string>();
      let last = { done: 0, total: -1 };
      const r = await pruneModel(model, calibration, {
        prune: { method: "magnitude", pattern: "2:4" },
        measureError,
        onProgress: (p) => void (stages.add(p.stage), last = p),
      });
      assertEquals(last.done, last.total, `progress ends at its total (measureError ${measureError})`);
      const weights = await Promise.all((await model.blockLinears(1)).map((l) => l.weight.read()));
      runs.push({ r, stages: [...stages], weights, ppl: (await perplexity(model, evaluation)).perplexity });
    } finally {
      model.release();
    }
  }
  const [measured, free] = runs;
  assertEquals(measured.stages, ["calibrate", "prune", "propagate"]);
  assertEquals(free.stages, ["prune"]); //                      no calibration, no propagation
  assertEquals(free.weights, measured.weights); //              the same pruned weights, bit for bit
  assertEquals(free.ppl, measured.ppl);
  assertEquals(free.r.sparsity, measured.r.sparsity);
  assert(measured.r.layers.every((l) => l.relativeError > 0), "errors measured with calibration");
  assert(free.r.layers.every((l) => Number.isNaN(l.relativeError)), "no errors without it");
  // the other methods calibrate either way
  const model = await loadModel("models/tiny-llama");
  try {
    const stages = new Set<string>();
    await pruneModel(model, calibration, {
      prune: { method: "wanda" },
      measureError: false,
      onProgress: (p) => void stages.add(p.stage),
    });
    assertEquals([...stages], ["calibrate", "prune", "propagate"]);
  } finally {
    model.release();
  }
});

gpuTest("the same seed gives the same pruned model; another seed does not", async () => {
  const tokenizer = await loadTokenizer("models/tiny-gpt2");
  const tokens = corpusTokens(await loadCorpus("sotu-calib"), tokenizer);
  const weights = async (seed: number) => {
    const model = await loadModel("models/tiny-gpt2");
    try {
      const calibration = sampleCalibration(tokens, { nsamples: 4, seqlen: SEQLEN, seed });
      await pruneModel(model, calibration, { prune: { method: "sparsegpt", sparsity: 0.5 } });
      return await (await model.blockLinears(1))[0].weight.read();
    } finally {
      model.release();
    }
  };
  const a = await weights(0), b = await weights(0), c = await weights(1);
  assertEquals(a, b);
  assert(a.some((v, i) => v !== c[i]), "seed 1 gave the same weights as seed 0");
});

// ------------------------------------------------------------------------------------------------
// the CLI

const cli = (task: string, args: string[]) => runCli(`cli/${task}.ts`, args);

gpuTest("deno task prune on tiny-gpt2 writes a checkpoint that reloads with the same perplexity", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/gpt2-pruned`;
    const args = ["--model", "models/tiny-gpt2", "--method", "wanda", "--pattern", "2:4"];
    const small = ["--nsamples", "4", "--seqlen", String(SEQLEN), "--max-windows", "4"];
    const run = await cli("prune", [...args, ...small, "--out", out]);
    assertEquals(run.code, 0, run.stderr);
    assert(run.stderr.includes("block 2/2"), "progress on stderr names the blocks");
    const summary = lastJson(run.stdout);
    assertEquals(summary.sparsity, 0.5);
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "report.json"]) {
      assert(await exists(`${out}/${f}`), `${f} written`);
    }
    const report = JSON.parse(await Deno.readTextFile(`${out}/report.json`));
    assertEquals(report.layers.length, 8);
    assertEquals(report.perplexity, summary.perplexity);
    const reloaded = await cli("eval", [
      "--model",
      out,
      "--data",
      "sotu-eval",
      "--seqlen",
      String(SEQLEN),
      "--max-windows",
      "4",
    ]);
    assertEquals(reloaded.code, 0, reloaded.stderr);
    assertEquals(lastJson(reloaded.stdout).perplexity, summary.perplexity);
    // the saved Conv1D weights are [in, out] again, half of them zero
    const ckpt = await openCheckpoint(out);
    const { shape, data } = await ckpt.readFloat32("transformer.h.0.mlp.c_fc.weight");
    assertEquals(shape, [128, 512]);
    assertEquals(data.filter((v) => v === 0).length, data.length / 2);

    // an existing, non-empty --out is refused before any work
    const again = await cli("prune", [...args, ...small, "--out", out]);
    assertEquals(again.code, 2);
    assert(again.stderr.includes("exists and is not empty; pass --force"), again.stderr);
  });
});

gpuTest("a prune that fails midway leaves nothing at --out", async () => {
  await withTempDir(async (dir) => {
    // a copy of tiny-opt whose second block has a NaN weight: block 0 prunes, block 1 fails
    const src = await openCheckpoint("models/tiny-opt");
    const poisoned = "model.decoder.layers.1.fc1.weight";
    const tensors = new Map(src.layout.tensors.map(({ name, shape }) => [name, {
      dtype: "F32" as const,
      shape,
      data: async () => {
        const { data } = await src.readFloat32(name);
        if (name === poisoned) data[7] = NaN;
        return data;
      },
    }]));
    await writeCheckpoint(`${dir}/bad-opt`, { config: { ...src.config.raw }, tensors, tokenizer: src.tokenizerPath });
    const out = `${dir}/out`;
    const run = await cli("prune", [
      "--model",
      `${dir}/bad-opt`,
      "--nsamples",
      "2",
      "--seqlen",
      "64",
      "--max-windows",
      "1",
      "--out",
      out,
    ]);
    assertEquals(run.code, 2, run.stderr);
    // the NaN is now caught when block 1 loads (during the dense evaluation), before any pruning
    assert(run.stderr.includes("tensor model.decoder.layers.1.fc1.weight holds NaN at [0, 7]"), run.stderr);
    assertEquals(await exists(out), false);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["bad-opt"], "no staging directory left");
  });
});

gpuTest("bad prune arguments fail before any work with exit code 2", async () => {
  const cases: [string[], string][] = [
    [["--method", "obs"], 'Unknown method "obs"'],
    [["--sparsity", "1.5"], "Expected sparsity in [0, 1) but found 1.5"],
    [["--pattern", "2:3"], "blocksize 128 must be a multiple of m = 3"],
    [["--pattern", "2:3", "--blocksize", "3"], "which is not divisible by m = 3"],
    [["--nsamples", "0"], "Expected --nsamples >= 1 but found 0"],
    [["--seqlen", "100000"], "seqlen 100000 exceeds the model's context of 256 tokens"],
    [["--nsamples", "5000"], "fewer than nsamples x seqlen"], // fits the memory plan, not the corpus
    [["--model", "models/none"], "models/none/config.json not found"],
    [["--frobnicate"], "Unknown option '--frobnicate'"],
  ];
  for (const [args, message] of cases) {
    const run = await cli("prune", [
      "--model",
      "models/tiny-opt",
      ...args,
      "--out",
      "/nonexistent-should-not-be-created",
    ]);
    assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert(run.stderr.includes(message), `${args.join(" ")}: expected "${message}" in:\n${run.stderr}`);
  }
  assertEquals(await exists("/nonexistent-should-not-be-created"), false);
});
