/**
 * `deno task compress`: dense → compressed → dense round trip, a model with nothing sparse stays
 * dense, and every kind of bad compressed input fails with exit code 2, one line naming the tensor,
 * and nothing at --out.
 */
import { join } from "node:path";
import { openCheckpoint } from "../thanos/model/checkpoint.ts";
import { openSafetensors, type TensorInput, writeSafetensors } from "../thanos/model/safetensors.ts";
import { assert, assertEquals } from "./assert.ts";
import { cliTest, lastJson, runCli, withTempDir } from "./cli_util.ts";

const FIXTURES = new URL("./fixtures/compressed/", import.meta.url).pathname;
const cli = (args: string[]) => runCli("cli/compress.ts", args);

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

cliTest(
  "compress: dense -> compressed -> dense gives back every tensor; summary and report.json carry the bytes",
  async (dir) => {
    const dense = join(FIXTURES, "llama-mixed-f32", "dense");
    const run = await cli(["--model", dense, "--out", `${dir}/c`]);
    assertEquals(run.code, 0, run.stderr);
    const summary = lastJson(run.stdout);
    assertEquals(summary.format, "sparse-bitmask");
    assertEquals([summary.layers_compressed, summary.layers_dense], [13, 1]);
    assert(summary.bytes.linear.after < summary.bytes.linear.before);
    assert(summary.files.after < summary.files.before, JSON.stringify(summary.files));
    assert(run.stderr.includes("model.layers.1.mlp.down_proj.weight stays dense"), run.stderr);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/c/report.json`));
    assertEquals(report.layers.length, 14);
    const back = await cli(["--model", `${dir}/c`, "--out", `${dir}/d`, "--to", "dense"]);
    assertEquals(back.code, 0, back.stderr);
    const config = JSON.parse(await Deno.readTextFile(`${dir}/d/config.json`));
    assertEquals(config.quantization_config, undefined);
    const a = await openSafetensors(dense), b = await openSafetensors(`${dir}/d`);
    assertEquals(b.names().sort(), a.names().sort());
    for (const n of a.names()) {
      const x = (await a.readFloat32(n)).data, y = (await b.readFloat32(n)).data;
      assert(x.every((v, i) => v === y[i]), n); //                          −0 reads back as +0
    }
    // existing --out without --force is refused; with --force it is replaced
    const again = await cli(["--model", dense, "--out", `${dir}/c`]);
    assertEquals(again.code, 2);
    assert(again.stderr.includes("--force"), again.stderr);
  },
);

cliTest("compress: a model with nothing sparse is written dense and says so", async (dir) => {
  const run = await cli(["--model", "models/tiny-opt", "--out", `${dir}/o`]);
  assertEquals(run.code, 0, run.stderr);
  assertEquals(lastJson(run.stdout).format, "dense");
  assert(run.stderr.includes("none gains: written dense"), run.stderr);
  assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/o/config.json`)).quantization_config, undefined);
  assertEquals((await openCheckpoint(`${dir}/o`)).compression, null);
});

/** A copy of a reference checkpoint with its tensors and config edited. */
async function corrupt(
  dir: string,
  name: string,
  edit: (tensors: Map<string, TensorInput>, config: Record<string, any>) => void,
): Promise<string> {
  const src = join(FIXTURES, name, "reference");
  const st = await openSafetensors(src);
  const tensors = new Map<string, TensorInput>();
  for (const n of st.names()) tensors.set(n, (await st.readTensor(n)) as TensorInput);
  const config = JSON.parse(await Deno.readTextFile(join(src, "config.json")));
  edit(tensors, config);
  const out = join(dir, `bad-${crypto.randomUUID().slice(0, 6)}`);
  await Deno.mkdir(out);
  await Deno.writeTextFile(join(out, "config.json"), JSON.stringify(config));
  await writeSafetensors(join(out, "model.safetensors"), tensors);
  return out;
}

const GATE = "model.layers.0.mlp.gate_proj";
const Q = "model.layers.0.self_attn.q_proj";

const BAD: [string, string, (t: Map<string, TensorInput>, c: Record<string, any>) => void, string][] = [
  ["compressed length != bitmask popcount", "llama-mixed-f32", (t) => {
    const c = t.get(`${GATE}.compressed`)!;
    t.set(
      `${GATE}.compressed`,
      { ...c, shape: [c.shape[0] - 1], data: (c.data as Float32Array).slice(1) } as TensorInput,
    );
  }, `${GATE}.compressed holds`],
  ["row_offsets not monotone", "llama-mixed-f32", (t) => {
    (t.get(`${GATE}.row_offsets`)!.data as BigInt64Array)[3] = 0n;
  }, `${GATE}.row_offsets is not monotone`],
  ["row_offsets out of range", "llama-mixed-f32", (t) => {
    const o = t.get(`${GATE}.row_offsets`)!.data as BigInt64Array;
    o[o.length - 1] = 100000n;
  }, `${GATE}.row_offsets[23] = 100000 is out of range`],
  ["shape disagrees with config.json", "llama-mixed-f32", (_t, c) => {
    c.intermediate_size = 32;
  }, `${GATE}.shape is [24, 16] but the config implies [32, 16]`],
  ["bitmask not 2:4 in sparse-24-bitmask", "llama-24-bf16", (t) => {
    const m = t.get(`${Q}.bitmask`)!.data as Uint8Array;
    m[0] |= 0b1111;
  }, `${Q}.bitmask is not 2:4`],
  ["unknown format", "llama-24-bf16", (_t, c) => {
    c.quantization_config.sparsity_config.format = "sparse-42-bitmask";
  }, `format is "sparse-42-bitmask"`],
  ["a missing part", "llama-mixed-f32", (t) => {
    t.delete(`${GATE}.row_offsets`);
  }, `${GATE}.row_offsets is missing`],
];

for (const [what, fixture, edit, expected] of BAD) {
  Deno.test({
    name: `compress rejects a bad compressed checkpoint (${what}): exit 2, one line, nothing written`,
    sanitizeResources: false,
    fn: () =>
      withTempDir(async (dir) => {
        const bad = await corrupt(dir, fixture, edit);
        const run = await cli(["--model", bad, "--out", `${dir}/out`, "--to", "dense"]);
        assertEquals(run.code, 2, run.stderr);
        const lines = run.stderr.trim().split("\n").filter((l) => !l.includes("Initialize") && !l.includes("Download"));
        assertEquals(lines.length, 1, run.stderr);
        assert(lines[0].includes(expected), `expected "${expected}" in: ${lines[0]}`);
        assert(!(await exists(`${dir}/out`)), "nothing at --out");
        const staged = [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith(".out"));
        assertEquals(staged, [], "no staging directory left");
      }),
  });
}

cliTest("eval reads a compressed checkpoint's bad part as bad input (exit 2)", async (dir) => {
  const bad = await corrupt(dir, "llama-mixed-f32", (t) => {
    (t.get(`${GATE}.row_offsets`)!.data as BigInt64Array)[3] = 0n;
  });
  const run = await runCli("cli/eval.ts", ["--model", bad, "--data", "sotu-eval", "--max-windows", "1"]);
  assertEquals(run.code, 2, run.stderr);
  assert(run.stderr.includes(`${GATE}.row_offsets is not monotone`), run.stderr);
});
