/**
 * `deno task prune` output formats: `--save-format compressed` writes the compressed-tensors layout
 * (GPT-2: sparse-bitmask, structure 2:4) and reads back with the same perplexity; structured with
 * alpha 0 writes a smaller dense model (lower ffn_dim) with the same perplexity; with alpha > 0 it
 * says why nothing was dropped; a bad --save-format exits 2.
 */
import { openCheckpoint } from "../thanos/model/checkpoint.ts";
import { assert, assertEquals } from "./assert.ts";
import { cliTest, lastJson, runCli } from "./cli_util.ts";

const SMALL = ["--nsamples", "4", "--max-windows", "2", "--seqlen", "64"];

/** Runs `deno task prune` on `model` into `out` with {@link SMALL} calibration; expects success. */
async function prune(model: string, out: string, flags: string[]) {
  const run = await runCli("cli/prune.ts", ["--model", model, ...flags, "--out", out, ...SMALL]);
  assertEquals(run.code, 0, run.stderr);
  return { summary: lastJson(run.stdout), stderr: run.stderr };
}

async function evalPerplexity(dir: string, extra: string[] = []): Promise<number> {
  return (await evalJson(dir, extra)).perplexity;
}

async function evalJson(dir: string, extra: string[] = []) {
  const run = await runCli("cli/eval.ts", [
    "--model",
    dir,
    "--data",
    "sotu-eval",
    "--max-windows",
    "2",
    "--seqlen",
    "64",
    ...extra,
  ]);
  assertEquals(run.code, 0, run.stderr);
  return lastJson(run.stdout);
}

cliTest(
  "prune --save-format compressed: tiny-gpt2 2:4 as sparse-bitmask, bytes in the summary, same perplexity read back",
  async (dir) => {
    const { summary: s } = await prune("models/tiny-gpt2", `${dir}/c`, [
      "--pattern",
      "2:4",
      "--save-format",
      "compressed",
    ]);
    assertEquals([s.save_format, s.format], ["compressed", "sparse-bitmask"]);
    assert(s.bytes.linear.after < 0.6 * s.bytes.linear.before, JSON.stringify(s.bytes));
    const ckpt = await openCheckpoint(`${dir}/c`);
    assertEquals(ckpt.compression?.sparsity_structure, "2:4");
    assertEquals(ckpt.compression?.targets, ["Conv1D"]);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/c/report.json`));
    assertEquals(report.bytes, s.bytes);
    // held compressed on the GPU (sparse products), and with --dense-weights held dense: same perplexity
    const sparse = await evalJson(`${dir}/c`);
    assertEquals([sparse.weights, sparse.block_weight_bytes.layers["2:4"]], ["compressed", 8]);
    const dense = await evalJson(`${dir}/c`, ["--dense-weights"]);
    assertEquals([dense.weights, dense.block_weight_bytes.compressed], ["dense", 0]);
    for (const ppl of [sparse.perplexity, dense.perplexity]) {
      assert(Math.abs(ppl - s.perplexity) <= 1e-5 * ppl, `${ppl} vs ${s.perplexity}`);
    }
  },
);

cliTest(
  "prune --pattern structured (alpha 0) writes a smaller dense model with the zero-column model's perplexity",
  async (dir) => {
    const { summary: s } = await prune("models/tiny-opt", `${dir}/s`, [
      "--pattern",
      "structured",
      "--sparsity",
      "0.3",
    ]);
    assertEquals(s.structured.dropped_channels, Math.ceil(0.3 * 512));
    const config = JSON.parse(await Deno.readTextFile(`${dir}/s/config.json`));
    assertEquals(config.ffn_dim, 512 - Math.ceil(0.3 * 512));
    const ppl = await evalPerplexity(`${dir}/s`);
    assert(Math.abs(ppl - s.perplexity) <= 1e-5 * ppl, `${ppl} vs ${s.perplexity}`);

    const alpha = await prune("models/tiny-opt", `${dir}/a`, [
      "--pattern",
      "structured",
      "--sparsity",
      "0.3",
      "--alpha",
      "0.1",
    ]);
    assertEquals(alpha.summary.structured.dropped_channels, 0);
    assert(alpha.stderr.includes("no MLP channel can be dropped"), alpha.stderr);
    assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/a/config.json`)).ffn_dim, 512);
  },
);

cliTest("prune rejects an unknown --save-format with exit 2 before any work", async (dir) => {
  const run = await runCli("cli/prune.ts", ["--save-format", "zip", "--out", `${dir}/x`]);
  assertEquals(run.code, 2);
  assert(run.stderr.includes(`Unknown --save-format "zip"`), run.stderr);
});
