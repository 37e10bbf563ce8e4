/**
 * Perplexity (thanos/eval.ts) against the float64 reference forward, and `deno task eval`
 * (cli/eval.ts) end to end: token-id JSON (windows and flat streams), a text corpus through the
 * checkpoint's tokenizer, and every bad-input case with its exit code 2 and message.
 */

import { join } from "node:path";
import { assertEquals, assertRejects } from "./assert.ts";
import { type CliRun, lastJson, runCli } from "./cli_util.ts";
import { evalWindows } from "../thanos/data/calibration.ts";
import { perplexity, type PerplexityProgress } from "../thanos/eval.ts";
import { loadModel } from "../thanos/model/load.ts";
import * as ref from "./reference/forward.ts";
import { writeTinyCheckpoint } from "./tiny_models.ts";
import { assertClose, gpuTest, randomIds } from "./util.ts";

const tmp = await Deno.makeTempDir({ prefix: "thanos-eval-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));

/** Token ids as a plain array (what the CLI's JSON files hold). */
function idList(n: number, vocab: number, seed: number): number[] {
  return Array.from(randomIds(n, vocab, seed));
}

/** exp(mean NLL of predictions 1..T−1 of each window), from the float64 reference logits. */
function referencePerplexity(config: Record<string, any>, weights: ref.Weights, windows: number[][]): number {
  let sum = 0, n = 0;
  const V = config.vocab_size;
  for (const w of windows) {
    const logits = ref.referenceLogits(config, weights, w, 1, w.length);
    const nll = ref.nll(logits.subarray(0, (w.length - 1) * V), w.length - 1, V, w.slice(1));
    for (const v of nll) sum += v, n++;
  }
  return Math.exp(sum / n);
}

gpuTest("perplexity = exp(mean NLL over every window's predictions), independent of the batch size", async () => {
  const { dir, config, weights } = await writeTinyCheckpoint(tmp, "opt-pre-ln", 21);
  const stream = idList(5 * 12 + 7, config.vocab_size as number, 1); // 5 windows of 12, remainder dropped
  const windows = evalWindows(stream, 12);
  const want = referencePerplexity(
    config,
    weights,
    Array.from({ length: 5 }, (_, w) => stream.slice(w * 12, (w + 1) * 12)),
  );
  const model = await loadModel(dir);
  const progress: PerplexityProgress[] = [];
  const one = await perplexity(model, windows, { batchSize: 1 });
  const three = await perplexity(model, windows, { batchSize: 3, onProgress: (p) => void progress.push(p) });
  const auto = await perplexity(model, windows);
  model.release();
  assertClose([one.perplexity, three.perplexity, auto.perplexity], [want, want, want], { rtol: 1e-5, atol: 0 });
  assertEquals([one.windows, one.tokens, one.predictions, one.seqlen], [5, 60, 55, 12]);
  assertClose([one.nll], [Math.log(want)], { rtol: 1e-5, atol: 0 });
  assertEquals(progress.map((p) => [p.windows, p.total]), [[3, 5], [5, 5]]);
});

gpuTest("perplexity rejects windows without predictions and bad batch sizes", async () => {
  const { dir } = await writeTinyCheckpoint(tmp, "gpt2-untied", 22);
  const model = await loadModel(dir);
  await assertRejects(
    () => perplexity(model, { tokens: new Uint32Array(3), count: 3, seqlen: 1 }),
    RangeError,
    "perplexity: seqlen is 1; expected an integer >= 2",
  );
  await assertRejects(
    () => perplexity(model, { tokens: new Uint32Array(4), count: 2, seqlen: 2 }, { batchSize: 0 }),
    RangeError,
    "perplexity: batchSize is 0; expected an integer >= 1",
  );
  await assertRejects(
    () => perplexity(model, { tokens: new Uint32Array(5), count: 2, seqlen: 2 }),
    RangeError,
    "perplexity: 5 tokens; expected count·seqlen = 2·2 = 4",
  );
  model.release();
});

// ---------------------------------------------------------------------------------------------
// deno task eval

async function evalCli(...args: string[]): Promise<CliRun & { result?: any }> {
  const run = await runCli("cli/eval.ts", args, { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? tmp });
  return { ...run, result: run.code === 0 && run.stdout.trim() ? lastJson(run.stdout) : undefined };
}

gpuTest("deno task eval: token-id JSON as windows or as a flat stream, and a text corpus", async () => {
  const { dir, config, weights } = await writeTinyCheckpoint(tmp, "gpt2-bytes", 23);
  const windows = [idList(16, 256, 2), idList(16, 256, 3), idList(16, 256, 4)];
  const want = referencePerplexity(config, weights, windows);
  const asWindows = join(tmp, "windows.json"), asStream = join(tmp, "stream.json");
  await Deno.writeTextFile(asWindows, JSON.stringify(windows));
  await Deno.writeTextFile(asStream, JSON.stringify([...windows.flat(), 1, 2, 3])); // remainder dropped

  const a = await evalCli("--model", dir, "--data", asWindows);
  assertEquals(a.code, 0, a.stderr);
  assertEquals(Object.keys(a.result).slice(0, 6), ["model", "data", "windows", "tokens", "perplexity", "seconds"]);
  assertEquals([a.result.model, a.result.data, a.result.windows, a.result.tokens, a.result.seqlen], [
    dir,
    asWindows,
    3,
    48,
    16,
  ]);
  assertClose([a.result.perplexity], [want], { rtol: 1e-5, atol: 0 });
  assertEquals(/eval: 3\/3 windows/.test(a.stderr), true, "progress on stderr");

  const b = await evalCli(
    "--model",
    dir,
    "--data",
    asStream,
    "--seqlen",
    "16",
    "--max-windows",
    "2",
    "--batch-size",
    "1",
  );
  assertEquals(b.code, 0, b.stderr);
  assertEquals([b.result.windows, b.result.tokens], [2, 32]);
  assertClose([b.result.perplexity], [referencePerplexity(config, weights, windows.slice(0, 2))], {
    rtol: 1e-5,
    atol: 0,
  });

  // a text file through the checkpoint's byte-level tokenizer: ids are the UTF-8 bytes
  const text = "Fellow-Citizens of the Senate and House of Representatives: among the vicissitudes incident to life.";
  const txt = join(tmp, "speech.txt");
  await Deno.writeTextFile(txt, text);
  const c = await evalCli("--model", dir, "--data", txt, "--seqlen", "32", "--streaming");
  assertEquals(c.code, 0, c.stderr);
  const bytes = [...new TextEncoder().encode(text)];
  const textWindows = Array.from(
    { length: Math.floor(bytes.length / 32) },
    (_, w) => bytes.slice(w * 32, (w + 1) * 32),
  );
  assertEquals(c.result.windows, textWindows.length);
  assertClose([c.result.perplexity], [referencePerplexity(config, weights, textWindows)], { rtol: 1e-5, atol: 0 });
});

gpuTest("deno task eval: bad input exits with code 2 and one clear line", async () => {
  const { dir } = await writeTinyCheckpoint(tmp, "gpt2-bytes", 24);
  const ids = join(tmp, "ids.json");
  await Deno.writeTextFile(ids, JSON.stringify([idList(8, 256, 5)]));
  const flat = join(tmp, "flat.json");
  await Deno.writeTextFile(flat, JSON.stringify(idList(200, 256, 6)));
  const noConfig = await Deno.makeTempDir({ dir: tmp });
  const noWeights = await Deno.makeTempDir({ dir: tmp });
  await Deno.copyFile(join(dir, "config.json"), join(noWeights, "config.json"));
  const bert = await Deno.makeTempDir({ dir: tmp });
  await Deno.writeTextFile(join(bert, "config.json"), JSON.stringify({ model_type: "bert" }));
  const big = join(tmp, "big.json"), empty = join(tmp, "empty.txt"), ragged = join(tmp, "ragged.json");
  await Deno.writeTextFile(big, JSON.stringify([[1, 2, 300, 4]]));
  await Deno.writeTextFile(empty, "");
  await Deno.writeTextFile(ragged, JSON.stringify([[1, 2, 3], [4, 5]]));
  const cases: [string[], string][] = [
    [["--data", ids], "Missing --model"],
    [["--model", dir], "Missing --data"],
    [["--model", noConfig, "--data", ids], "config.json not found"],
    [["--model", noWeights, "--data", ids], "neither model.safetensors.index.json nor model.safetensors"],
    [["--model", bert, "--data", ids], 'model_type "bert" is not supported; supported: llama, opt, gpt2'],
    [["--model", dir, "--data", big], "token id 300 (window 0) is outside the vocabulary of 256"],
    [["--model", dir, "--data", empty], "empty"],
    [["--model", dir, "--data", ragged], "window 1 has 2 tokens; expected every window to have 3"],
    [["--model", dir, "--data", flat, "--seqlen", "65"], "--seqlen 65 exceeds the model's context of 64 positions"],
    [["--model", dir, "--data", ids, "--seqlen", "4"], "--seqlen 4 disagrees with the 8-token windows"],
    [["--model", dir, "--data", flat, "--seqlen", "1"], "Expected --seqlen >= 2"],
    [
      ["--model", dir, "--data", flat, "--seqlen", "64", "--max-windows", "1", "--batch-size", "x"],
      'Expected --batch-size to be a number but found "x"',
    ],
    [["--model", dir, "--data", "no-such-corpus"], 'loadCorpus: "no-such-corpus" is neither a corpus name'],
    [["--model", dir, "--data", ids, "--max-windows", "0"], "Expected --max-windows >= 1 but found 0"],
    [["--model", dir, "--data", ids, "--bogus"], "Unknown option '--bogus'"],
  ];
  for (const [args, message] of cases) {
    const r = await evalCli(...args);
    assertEquals(r.code, 2, `${args.join(" ")}: exit ${r.code}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split("\n").filter((l) => l.startsWith("error:"));
    assertEquals(lines.length, 1, r.stderr);
    assertEquals(lines[0].includes(message), true, `${args.join(" ")}: "${lines[0]}" should include "${message}"`);
    assertEquals(r.stdout, "");
  }
});
