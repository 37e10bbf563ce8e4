/**
 * Bad checkpoints reach `deno task prune` as one clear line, exit code 2, before any GPU work and
 * with nothing written: a config whose sizes disagree with its tensors, a sharded checkpoint with a
 * shard missing, and shards that overlap (a tensor stored in two of them).
 */

import { join } from "node:path";
import { openSafetensors, type TensorInput, writeSafetensors } from "../thanos/model/safetensors.ts";
import { assert, assertEquals } from "./assert.ts";
import { runCli, withTempDir } from "./cli_util.ts";

const FIXTURE = "models/tiny-opt";

/** tiny-opt's tensors split into two shards by name order, plus its config and tokenizer. */
async function shardedCopy(dir: string, { overlap = false } = {}): Promise<string[]> {
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json"]) {
    await Deno.copyFile(join(FIXTURE, f), join(dir, f));
  }
  const reader = await openSafetensors(FIXTURE);
  const names = reader.names().sort();
  const half = Math.floor(names.length / 2);
  const shards = [names.slice(0, half), names.slice(half)];
  if (overlap) shards[1].push(shards[0][0]); //                  the first tensor in both shards
  const files = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
  const weightMap: Record<string, string> = {};
  for (const [i, shard] of shards.entries()) {
    const tensors = new Map<string, TensorInput>();
    for (const name of shard) {
      const t = await reader.readTensor(name);
      tensors.set(name, { dtype: t.dtype, shape: t.shape, data: t.data } as TensorInput);
      weightMap[name] ??= files[i];
    }
    await writeSafetensors(join(dir, files[i]), tensors);
  }
  await Deno.writeTextFile(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({ metadata: {}, weight_map: weightMap }),
  );
  return files;
}

async function assertRefused(model: string, out: string, expected: RegExp): Promise<void> {
  const run = await runCli("cli/prune.ts", ["--model", model, "--nsamples", "2", "--seqlen", "16", "--out", out]);
  assertEquals(run.code, 2, run.stderr);
  const lines = run.stderr.trim().split("\n");
  assertEquals(lines.length, 1, run.stderr);
  assert(expected.test(lines[0]), `expected ${JSON.stringify(lines[0])} to match ${expected}`);
  let written = true;
  await Deno.stat(out).catch(() => written = false);
  assertEquals(written, false, `${out} was written`);
}

Deno.test({
  name: "prune refuses a config that disagrees with its tensors, a missing shard and overlapping shards (exit 2)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withTempDir(async (dir) => {
      const out = join(dir, "out");
      // the sharded copy itself is fine (so the refusals below are about what was changed)
      const good = join(dir, "good");
      await Deno.mkdir(good);
      await shardedCopy(good);
      const ok = await runCli("cli/prune.ts", ["--model", good, "--nsamples", "2", "--seqlen", "16", "--dry-run"]);
      assertEquals(ok.code, 0, ok.stderr);

      const sizes = join(dir, "sizes");
      await Deno.mkdir(sizes);
      await shardedCopy(sizes);
      const config = JSON.parse(await Deno.readTextFile(join(sizes, "config.json")));
      await Deno.writeTextFile(join(sizes, "config.json"), JSON.stringify({ ...config, ffn_dim: config.ffn_dim + 8 }));
      await assertRefused(
        sizes,
        out,
        /^error: openCheckpoint: .*: .*fc1\.weight has shape \[\d+, \d+\] but the config implies \[\d+, \d+\]/,
      );

      const missing = join(dir, "missing");
      await Deno.mkdir(missing);
      const files = await shardedCopy(missing);
      await Deno.remove(join(missing, files[1]));
      await assertRefused(missing, out, new RegExp(`^error: openCheckpoint: .*${files[1]}: file not found`));

      const overlap = join(dir, "overlap");
      await Deno.mkdir(overlap);
      await shardedCopy(overlap, { overlap: true });
      await assertRefused(
        overlap,
        out,
        /^error: openCheckpoint: .*: tensor ".*" is stored in both model-00001-of-00002\.safetensors and model-00002-of-00002\.safetensors \(shards overlap\); expected each tensor in exactly one shard$/,
      );
    }),
});
