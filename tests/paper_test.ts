/**
 * `table --paper`'s settings (thanos/paper.ts) on tiny stand-in corpora: C4 calibration by document
 * sampling with the tokenizer's special tokens (a model whose tokenizer adds a BOS, as LLaMA's does),
 * 128 windows of min(2048, context), every WikiText-2 window; the per-method block sizes; and the
 * CLI's refusals (exit 2, one line, before any work).
 */

import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { runCli, withTempDir } from "./cli_util.ts";
import { paperOptions } from "../cli/table.ts";
import { loadCorpus, sotuAddresses } from "../thanos/data/corpus.ts";
import { evalWindows, sampleDocumentCalibration } from "../thanos/data/calibration.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { openCheckpoint } from "../thanos/model/checkpoint.ts";
import { PAPER_SETTINGS, preparePaperData } from "../thanos/paper.ts";
import { resolvePruneOptions } from "../thanos/prune/options.ts";

/** tiny-llama whose tokenizer.json prepends a BOS (a TemplateProcessing post-processor, as LLaMA's does). */
async function bosModel(dir: string): Promise<string> {
  const model = join(dir, "model");
  await Deno.mkdir(model);
  for (const f of ["config.json", "tokenizer_config.json"]) {
    await Deno.copyFile(`models/tiny-llama/${f}`, join(model, f));
  }
  await Deno.symlink(Deno.realPathSync("models/tiny-llama/model.safetensors"), join(model, "model.safetensors"));
  const json = JSON.parse(await Deno.readTextFile("models/tiny-llama/tokenizer.json"));
  const bos = "<|endoftext|>", id = json.model.vocab[bos];
  json.post_processor = {
    type: "TemplateProcessing",
    single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
    pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, {
      Sequence: { id: "B", type_id: 1 },
    }],
    special_tokens: { [bos]: { id: bos, ids: [id], tokens: [bos] } },
  };
  await Deno.writeTextFile(join(model, "tokenizer.json"), JSON.stringify(json));
  return model;
}

/** A C4-like shard (short documents the sampler must skip, and long ones) and a wiki.test.raw. */
async function corpora(dir: string): Promise<{ c4: string; wikitext2: string; docs: string[] }> {
  const addresses = await sotuAddresses("calib");
  const docs = ["A short note.", addresses[0].text.slice(0, 6000), "Tiny.", addresses[1].text.slice(0, 4000)];
  const c4 = join(dir, "c4-train.00000-of-01024.json.gz");
  await Deno.writeFile(c4, gzipSync(docs.map((text) => JSON.stringify({ text, timestamp: "x", url: "u" })).join("\n")));
  const wikitext2 = join(dir, "wiki.test.raw");
  await Deno.writeTextFile(wikitext2, ` \n = Heading = \n \n${(await sotuAddresses("eval"))[0].text.slice(0, 5000)}\n`);
  return { c4, wikitext2, docs };
}

Deno.test("paper data: 128 C4 windows by document sampling with special tokens, every WikiText-2 window", () =>
  withTempDir(async (dir) => {
    const checkpoint = await openCheckpoint(await bosModel(dir));
    const { c4, wikitext2, docs } = await corpora(dir);
    const data = await preparePaperData(checkpoint, { c4, wikitext2 });
    assertEquals(data.spec, { calibration: c4, nsamples: 128, seqlen: 256, seed: 0, eval: wikitext2, maxWindows: 0 });

    const tok = await loadTokenizer(checkpoint.tokenizerPath!);
    const bos = tok.encode("", { addSpecialTokens: true });
    assertEquals(bos.length, 1); // the stand-in's tokenizer does add a BOS
    const withSpecial = (t: string) => tok.encode(t, { addSpecialTokens: true });
    const expected = sampleDocumentCalibration(docs, withSpecial, { nsamples: 128, seqlen: 256, seed: 0 });
    assertEquals(data.calibration, expected);
    assertEquals(new Set(data.calibration.documents), new Set([1, 3])); // the short documents are skipped
    // without the BOS the same draws cut different windows: the special token is really in the stream
    const plain = sampleDocumentCalibration(docs, (t) => tok.encode(t), { nsamples: 128, seqlen: 256, seed: 0 });
    assert(plain.tokens.some((t, i) => t !== expected.tokens[i]));

    const stream = withSpecial((await loadCorpus(wikitext2)).text); // "\n\n".join(rows), tested in corpus_test

    assertEquals(stream[0], bos[0]);
    assertEquals(data.evaluation, evalWindows(stream, 256)); // all floor(n / 256) windows, no cap
    assert(data.evaluation.count >= 3);

    await assertRejects(
      () => preparePaperData(checkpoint, { c4: join(dir, "missing.json.gz"), wikitext2 }),
      RangeError,
      `--c4 ${join(dir, "missing.json.gz")} is not a file; expected the C4 train shard c4-train.00000-of-01024.json.gz`,
    );
  }));

Deno.test("paper options: Thanos block 512 for every pattern, SparseGPT 128, others as they are", () => {
  const paper = (o: Parameters<typeof resolvePruneOptions>[0]) => paperOptions(resolvePruneOptions(o));
  assertEquals(paper({ method: "thanos", pattern: "structured", sparsity: 0.3 })?.blocksize, 512);
  assertEquals(paper({ method: "thanos", pattern: "unstructured" })?.blocksize, 512);
  assertEquals(paper({ method: "thanos", pattern: "4:8" })?.blocksize, 512);
  assertEquals(paper({ method: "thanos", pattern: "2:4", alpha: 0.1 })?.alpha, 0.1);
  assertEquals(
    paper({ method: "sparsegpt", pattern: "4:8", blocksize: 64 })?.blocksize,
    PAPER_SETTINGS.sparsegptBlocksize,
  );
  assertEquals(paper({ method: "wanda", pattern: "2:4" }), resolvePruneOptions({ method: "wanda", pattern: "2:4" }));
  assertEquals(paperOptions(null), null);
});

Deno.test("table --paper refuses missing corpora and the flags it fixes, with one line and exit 2", () =>
  withTempDir(async (dir) => {
    const { c4 } = await corpora(dir);
    const cases: [string[], string][] = [
      [["--paper", "--c4", c4], "error: Missing --wikitext2 FILE for --paper: WikiText-2 raw test"],
      [
        ["--paper", "--c4", c4, "--wikitext2", join(dir, "nope.raw")],
        `error: --wikitext2 ${join(dir, "nope.raw")} is not a file`,
      ],
      [["--paper", "--nsamples", "16"], "error: --nsamples cannot be combined with --paper, which fixes it"],
      [["--c4", c4], "error: --c4 applies only with --paper"],
    ];
    for (const [args, message] of cases) {
      const run = await runCli("cli/table.ts", ["--model", "models/tiny-gpt2", ...args, "--out", join(dir, "t.json")]);
      assertEquals(run.code, 2, run.stderr);
      assert(run.stderr.startsWith(message), run.stderr);
      assertEquals(run.stderr.trim().split("\n").length, 1, run.stderr);
    }
    assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
      "c4-train.00000-of-01024.json.gz",
      "wiki.test.raw",
    ]);
  }));
