/**
 * `deno task table` shares block 0's dense calibration statistics across its cells
 * (SharedFirstBlock, thanos/pipeline.ts): the table it prints must be the one that independent runs
 * print — every perplexity, sparsity and per-layer error bit for bit — and statistics kept for one
 * set of windows must not be handed to a run on others. A 2-layer fixture model, a few cells and
 * short windows of seeded token ids (no corpus to tokenize), for speed.
 */
import { comparisonEntries, comparisonMarkdown } from "../thanos/comparison.ts";
import { evalWindows, sampleCalibration } from "../thanos/data/calibration.ts";
import { type ExperimentData, pruneAndEvaluate, type RunResult } from "../thanos/experiment.ts";
import { openCheckpoint } from "../thanos/model/checkpoint.ts";
import { SharedFirstBlock } from "../thanos/pipeline.ts";
import { assertEquals, assertRejects } from "./assert.ts";
import { gpuTest } from "./util.ts";

/** Calibration and evaluation windows over seeded token ids < vocab. */
function tokenData(vocab: number, seed: number): ExperimentData {
  const nsamples = 4, seqlen = 32;
  let s = seed;
  const tokens = Uint32Array.from({ length: 4096 }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % vocab);
  return {
    calibration: sampleCalibration(tokens, { nsamples, seqlen, seed }),
    evaluation: evalWindows(tokens, seqlen, 2),
    spec: { calibration: "ids", nsamples, seqlen, seed, eval: "ids", maxWindows: 2 },
  };
}

gpuTest("the table with block 0's statistics shared equals the table of independent runs", async () => {
  const checkpoint = await openCheckpoint("models/tiny-opt");
  const data = tokenData(checkpoint.config.vocabSize, 1);
  const wanted: [string, string][] = [["wanda", "unstructured 50%"], ["thanos (alpha 0)", "4:8"]];
  const entries = comparisonEntries().filter((e) => wanted.some(([r, c]) => e.row === r && e.column === c));
  assertEquals(entries.length, wanted.length);
  const cell = (e: (typeof entries)[number], r: RunResult) => ({
    row: e.row,
    column: e.column,
    perplexity: r.perplexity,
    sparsity: r.sparsity,
    errors: r.layers.map((l) => l.relativeError),
  });
  const independent = [];
  for (const e of entries) independent.push(cell(e, await pruneAndEvaluate(checkpoint, data, e.options)));
  using shared = new SharedFirstBlock();
  const sharing = [];
  for (const e of entries) sharing.push(cell(e, await pruneAndEvaluate(checkpoint, data, e.options, { shared })));
  assertEquals(shared.reused, entries.length - 1);
  assertEquals(sharing, independent);
  assertEquals(comparisonMarkdown(sharing), comparisonMarkdown(independent));

  // other windows: refused before block 0 is pruned
  await assertRejects(
    () => pruneAndEvaluate(checkpoint, tokenData(checkpoint.config.vocabSize, 2), entries[0].options, { shared }),
    RangeError,
    "block 0's statistics were computed for other calibration windows",
  );
});
