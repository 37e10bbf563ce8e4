/**
 * `deno task prune-layer`: a file round trip, the JSON summary, and every kind of bad input failing
 * with exit code 2, one clear line on stderr, and no output file.
 */
import { openSafetensors, type TensorInput, writeSafetensors } from "../thanos/model/safetensors.ts";
import { assert, assertEquals } from "./assert.ts";
import { cliTest, lastJson, runCli } from "./cli_util.ts";
import { randn } from "./util.ts";

const ROWS = 12, COLS = 16, N = 40;

const cli = (args: string[]) => runCli("cli/prune_layer.ts", args);

function layerFile(overrides: Record<string, TensorInput | null> = {}): Record<string, TensorInput> {
  const base: Record<string, TensorInput | null> = {
    weight: { dtype: "F32", shape: [ROWS, COLS], data: randn(ROWS * COLS, 1) },
    inputs: { dtype: "F32", shape: [N, COLS], data: randn(N * COLS, 2) },
    ...overrides,
  };
  return Object.fromEntries(Object.entries(base).filter(([, v]) => v !== null)) as Record<string, TensorInput>;
}

cliTest("prune-layer round-trips a file: pruned F32 weight, U8 mask, JSON summary last", async (dir) => {
  await writeSafetensors(`${dir}/in.safetensors`, layerFile());
  const run = await cli([
    `${dir}/in.safetensors`,
    "--method",
    "thanos",
    "--pattern",
    "2:4",
    "--blocksize",
    "8",
    "--out",
    `${dir}/out.safetensors`,
  ]);
  assertEquals(run.code, 0, run.stderr);
  const summary = lastJson(run.stdout);
  assertEquals(summary.method, "thanos");
  assertEquals(summary.pattern, "2:4");
  assertEquals(summary.sparsity, 0.5);
  assert(summary.relative_error > 0 && summary.relative_error < 1, `relative_error ${summary.relative_error}`);
  assert(summary.seconds >= 0);
  const out = await openSafetensors(`${dir}/out.safetensors`);
  assertEquals(out.entry("weight").dtype, "F32");
  assertEquals(out.entry("mask").dtype, "U8");
  assertEquals(out.entry("weight").shape, [ROWS, COLS]);
  const w = (await out.readFloat32("weight")).data;
  const mask = (await out.readTensor("mask")).data as Uint8Array;
  for (let r = 0; r < ROWS; r++) {
    for (let g = 0; g < COLS; g += 4) {
      let pruned = 0;
      for (let j = g; j < g + 4; j++) {
        pruned += mask[r * COLS + j];
        if (mask[r * COLS + j]) assertEquals(w[r * COLS + j], 0);
      }
      assertEquals(pruned, 2, `row ${r} group ${g}`);
    }
  }
});

cliTest("prune-layer rejects bad input with exit code 2 and writes nothing", async (dir) => {
  const nan = randn(ROWS * COLS, 1);
  nan[20] = NaN;
  const files: Record<string, Record<string, TensorInput>> = {
    "no-inputs": layerFile({ inputs: null }),
    "f16": layerFile({ weight: { dtype: "F16", shape: [ROWS, COLS], data: randn(ROWS * COLS, 1) } }),
    "rank": layerFile({ weight: { dtype: "F32", shape: [ROWS * COLS], data: randn(ROWS * COLS, 1) } }),
    "cols": layerFile({ inputs: { dtype: "F32", shape: [N, COLS + 1], data: randn(N * (COLS + 1), 2) } }),
    "nan": layerFile({ weight: { dtype: "F32", shape: [ROWS, COLS], data: nan } }),
    "ok": layerFile(),
  };
  for (const [name, tensors] of Object.entries(files)) {
    await writeSafetensors(`${dir}/${name}.safetensors`, tensors);
  }
  await Deno.writeTextFile(`${dir}/garbage.safetensors`, "not a safetensors file");
  const out = `${dir}/out.safetensors`;
  const cases: [string[], string][] = [
    [[`${dir}/no-inputs.safetensors`, "--method", "wanda"], 'missing tensor "inputs"'],
    [[`${dir}/f16.safetensors`, "--method", "wanda"], '"weight" has dtype F16; expected F32'],
    [[`${dir}/rank.safetensors`, "--method", "wanda"], '"weight" has shape [192]; expected a matrix'],
    [[`${dir}/cols.safetensors`, "--method", "wanda"], "expected inputs [n, 16]"],
    [[`${dir}/nan.safetensors`, "--method", "wanda"], '"weight" contains NaN at [1, 4]'],
    [[`${dir}/garbage.safetensors`, "--method", "wanda"], "garbage.safetensors"],
    [[`${dir}/missing.safetensors`, "--method", "wanda"], "missing.safetensors"],
    [[`${dir}/ok.safetensors`, "--method", "wanda", "--sparsity", "1"], "Expected sparsity in [0, 1) but found 1"],
    [[`${dir}/ok.safetensors`, "--method", "wanda", "--pattern", "4:4"], "1 <= n < m"],
    [[`${dir}/ok.safetensors`, "--method", "wanda", "--pattern", "3:5"], "not divisible by m = 5"],
    [[`${dir}/ok.safetensors`, "--method", "thanos", "--alpha=-0.1"], "Expected alpha in [0, 1)"],
    [[`${dir}/ok.safetensors`, "--method", "magic"], 'Unknown method "magic"'],
  ];
  for (const [args, message] of cases) {
    const run = await cli([...args, "--out", out]);
    assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert(run.stderr.includes(message), `${args.join(" ")}: expected "${message}" in:\n${run.stderr}`);
    assertEquals(run.stderr.trim().split("\n").length, 1, `one line on stderr: ${run.stderr}`);
    assertEquals([...Deno.readDirSync(dir)].some((e) => e.name.startsWith("out")), false, "no output written");
  }
  // --out is checked before any work: under a file, an existing directory, an existing file
  const bad: [string, string][] = [
    [`${dir}/ok.safetensors/out.safetensors`, `${dir}/ok.safetensors is not a directory`],
    [dir, "is a directory; expected a file path"],
    [`${dir}/ok.safetensors`, "exists; pass --force to replace it"],
  ];
  for (const [o, message] of bad) {
    const run = await cli([`${dir}/ok.safetensors`, "--method", "wanda", "--out", o]);
    assertEquals(run.code, 2, run.stderr);
    assert(run.stderr.includes(message), run.stderr);
    assert(!run.stderr.includes("prune-layer:"), `no progress before the error: ${run.stderr}`);
    assertEquals(run.stderr.trim().split("\n").length, 1, `one line on stderr: ${run.stderr}`);
  }
  // a missing parent directory is created
  const nested = await cli([`${dir}/ok.safetensors`, "--method", "wanda", "--out", `${dir}/new/out.safetensors`]);
  assertEquals(nested.code, 0, nested.stderr);
  assertEquals([...Deno.readDirSync(`${dir}/new`)].map((e) => e.name), ["out.safetensors"]);
});
