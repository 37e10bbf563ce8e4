/**
 * `deno task generate` (cli/generate.ts) as a subprocess: the streamed text and the JSON last line
 * (greedy tokens equal to the PyTorch golden continuation), a checkpoint written by the project's
 * writer (as `deno task prune` writes it), every bad input of the issue (one stderr line, exit
 * code 2, before the GPU is touched) and Ctrl-C (what was printed stays, JSON follows, exit 130).
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
    const run = await cli(["--model", `${dir}/copy`, "--prompt", PROMPT, "--max-new-tokens=4", "--temperature", "0.7", "--top-k", "20", "--seed", "5"]);
    assertEquals(run.code, 0, run.stderr);
    const again = await cli(["--model", `${dir}/copy`, "--prompt", PROMPT, "--max-new-tokens=4", "--temperature", "0.7", "--top-k", "20", "--seed", "5"]);
    assertEquals(lastJson(again.stdout).tokens, lastJson(run.stdout).tokens, "same seed, same tokens");
    assertEquals(lastJson(run.stdout).tokens.length, 4);
  });
});

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
    args: ["run", "-A", "cli/generate.ts", "--model", "models/tiny-gpt2", "--prompt", PROMPT, "--max-new-tokens", "240"],
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
