/**
 * `deno task generate` (cli/generate.ts) as a subprocess: the streamed text and the JSON last line
 * (greedy tokens equal to the PyTorch golden continuation), a checkpoint written by the project's
 * writer (as `deno task prune` writes it), a compressed checkpoint decoded compressed and with
 * `--dense-weights` (same tokens, block weights held compressed / dense), every bad input of the
 * issue (one stderr line, exit code 2, before the GPU is touched) and Ctrl-C (what was printed
 * stays, JSON follows, exit 130).
 */

import { assert, assertEquals } from "./assert.ts";
import { loadModel } from "../thanos/model/load.ts";
import { openCheckpoint, writeCheckpoint } from "../thanos/model/checkpoint.ts";
import { lastJson, runCli, withTempDir } from "./cli_util.ts";
import { writeTinyCheckpoint } from "./tiny_models.ts";
import { gpuTest } from "./util.ts";

const cli = (args: string[]) => runCli("cli/generate.ts", args);
const PROMPT = "The state of the Union is";

gpuTest("generate streams the greedy continuation and ends with the JSON result", async () => {
  const golden = JSON.parse(await Deno.readTextFile("models/tiny-gpt2/golden-generate.json"));
  const run = await cli(["--model", "models/tiny-gpt2", "--prompt", PROMPT, "--max-new-tokens", "8"]);
  assertEquals(run.code, 0, run.stderr);
  const out = lastJson(run.stdout);
  assertEquals(out.tokens, golden.tokens);
  assertEquals(out.prompt_tokens, golden.prompt_ids);
  assertEquals(out.text, golden.text);
  assertEquals(run.stdout, `${golden.text}\n${JSON.stringify(out)}\n`, "the text streamed before the JSON line");
  assertEquals(out.stop_reason, "max_new_tokens");
  assertEquals(out.readbacks_per_token, 1);
  for (const key of ["seconds", "tokens_per_second", "prefill_seconds", "dispatches_per_token"]) {
    assert(typeof out[key] === "number" && out[key] > 0, `${key} = ${out[key]}`);
  }
});

gpuTest("generate loads a checkpoint written by the project's writer (F16, as prune --dtype writes it)", async () => {
  await withTempDir(async (dir) => {
    const src = await openCheckpoint("models/tiny-opt");
    const model = await loadModel(src);
    try {
      await writeCheckpoint(`${dir}/copy`, {
        config: { ...src.config.raw },
        tensors: model.checkpointTensors(),
        tokenizer: src.tokenizerPath,
        dtype: "F16",
      });
    } finally {
      model.release();
    }
    const seeded = [
      "--model",
      `${dir}/copy`,
      "--prompt",
      PROMPT,
      "--max-new-tokens=4",
      "--temperature",
      "0.7",
      "--top-k",
      "20",
      "--seed",
      "5",
    ];
    const run = await cli(seeded);
    assertEquals(run.code, 0, run.stderr);
    const again = await cli(seeded);
    assertEquals(lastJson(again.stdout).tokens, lastJson(run.stdout).tokens, "same seed, same tokens");
    assertEquals(lastJson(run.stdout).tokens.length, 4);
  });
});

gpuTest(
  "generate decodes a compressed checkpoint compressed, and --dense-weights holds it dense: same tokens",
  async () => {
    await withTempDir(async (dir) => {
      const src = await openCheckpoint("models/tiny-gpt2");
      const linear = new Set(src.layout.blocks.flatMap((b) => b.linears.map((l) => l.weight)));
      const tensors = new Map(src.layout.tensors.map(({ name, shape }) => {
        const data = async () => {
          const w = (await src.readFloat32(name)).data;
          if (linear.has(name)) { //                 block linears: the smaller of every 2 stored weights zeroed
            for (let i = 0; i < w.length; i += 2) w[i + (Math.abs(w[i]) < Math.abs(w[i + 1]) ? 0 : 1)] = 0;
          }
          return w;
        };
        return [name, { dtype: "F32" as const, shape, data }];
      }));
      const config = { ...src.config.raw };
      await writeCheckpoint(`${dir}/c`, { config, tensors, tokenizer: src.tokenizerPath, format: "compressed" });
      const args = ["--model", `${dir}/c`, "--prompt", PROMPT, "--max-new-tokens", "4"];
      const [sparse, dense] = [await cli(args), await cli([...args, "--dense-weights"])];
      assertEquals([sparse.code, dense.code], [0, 0], sparse.stderr + dense.stderr);
      const [a, b] = [lastJson(sparse.stdout), lastJson(dense.stdout)];
      assertEquals(a.tokens, b.tokens);
      assertEquals(a.block_weight_bytes.dense, 0, "held compressed");
      assertEquals(b.block_weight_bytes.compressed, 0, "held dense");
      assert(a.block_weight_bytes.compressed < 0.6 * b.block_weight_bytes.dense, JSON.stringify([a, b]));
    });
  },
);

gpuTest("generate rejects bad input with one line and exit code 2 before any GPU work", async () => {
  await withTempDir(async (dir) => {
    const { dir: noTokenizer } = await writeTinyCheckpoint(dir, "gpt2", 1); // vocabulary of 61: no tokenizer.json
    const long = "the ".repeat(300);
    const cases: [string[], string][] = [
      [["--prompt", ""], `Expected a non-empty --prompt but found ""`],
      [["--prompt", long], "the prompt has 301 tokens; expected fewer than the model's context of 256 positions"],
      [["--prompt", PROMPT, "--max-new-tokens", "0"], "--max-new-tokens is 0; expected an integer >= 1"],
      [["--prompt", PROMPT, "--max-new-tokens", "250"], "--max-new-tokens is 250; expected at most 249"],
      [["--prompt", PROMPT, "--temperature=-0.1"], "--temperature is -0.1; expected a finite number >= 0"],
      [["--prompt", PROMPT, "--top-p", "0"], "--top-p is 0; expected a number in (0, 1]"],
      [["--prompt", PROMPT, "--top-p", "1.5"], "--top-p is 1.5; expected a number in (0, 1]"],
      [["--prompt", PROMPT, "--top-k=-1"], "--top-k is -1; expected an integer >= 0"],
      [["--prompt", PROMPT, "--frobnicate", "1"], "Unknown option '--frobnicate'"],
    ];
    for (const [args, message] of cases) {
      const run = await cli(["--model", "models/tiny-gpt2", ...args]);
      assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      const lines = run.stderr.trim().split("\n");
      assertEquals(lines.length, 1, `${args[1].slice(0, 30)}: one line, no progress (no GPU work): ${run.stderr}`);
      assert(lines[0].includes(message), `${args[1].slice(0, 30)}: expected "${message}" in "${lines[0]}"`);
      assertEquals(run.stdout, "");
    }
    const run = await cli(["--model", noTokenizer, "--prompt", PROMPT]);
    assertEquals(run.code, 2, run.stderr);
    assert(run.stderr.includes("has no tokenizer"), run.stderr);
  });
});

gpuTest("Ctrl-C ends generation cleanly: the text so far, then the JSON line, exit code 130", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "cli/generate.ts",
      "--model",
      "models/tiny-gpt2",
      "--prompt",
      PROMPT,
      "--max-new-tokens",
      "240",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const dec = new TextDecoder();
  let stdout = "", signalled = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += dec.decode(value, { stream: true });
    if (!signalled && stdout.length > 0) {
      child.kill("SIGINT");
      signalled = true;
    }
  }
  const status = await child.status;
  await child.stderr.cancel();
  assertEquals(status.code, 130);
  const out = lastJson(stdout);
  assertEquals(out.stop_reason, "interrupted");
  assert(out.tokens.length < 240, `stopped early (${out.tokens.length} tokens)`);
  assertEquals(stdout, `${out.text}\n${JSON.stringify(out)}\n`);
});
