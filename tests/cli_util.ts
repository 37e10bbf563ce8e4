/**
 * Helpers of the tests that run the command-line entry points (cli/*.ts) as subprocesses and give
 * them scratch directories.
 */

import { openCheckpoint, writeCheckpoint } from "../thanos/model/checkpoint.ts";
import type { TensorInput } from "../thanos/model/safetensors.ts";

/** What a finished subprocess left behind. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run -A <script> …args` and waits for it.
 * @param script path from the repository root, e.g. "cli/prune.ts"
 * @param args its arguments
 * @param env extra environment variables (the rest is inherited)
 * @example
 * ```ts
 * const run = await runCli("cli/eval.ts", ["--model", "models/tiny-gpt2", "--data", "sotu-eval"]);
 * assertEquals(run.code, 0, run.stderr);
 * ```
 */
export async function runCli(script: string, args: string[], env?: Record<string, string>): Promise<CliRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(`../${script}`, import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The JSON object on the last line of a command's stdout (where every CLI puts its result). */
export function lastJson(stdout: string): Record<string, any> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

/**
 * Runs `fn` with a fresh temporary directory and removes it afterwards, also when `fn` throws.
 * @example
 * ```ts
 * await withTempDir(async (dir) => await Deno.writeTextFile(`${dir}/a.txt`, "a"));
 * ```
 */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>, prefix = "thanos-test-"): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A test run in a fresh temporary directory ({@link withTempDir}), removed afterwards; the child
 * processes a CLI test starts are not counted as leaked resources.
 * @example
 * ```ts
 * cliTest("prune writes its summary", async (dir) => {
 *   const run = await runCli("cli/prune.ts", ["--out", `${dir}/out`]);
 * });
 * ```
 */
export function cliTest(
  name: string,
  fn: (dir: string) => Promise<void>,
  options: { sanitizeOps?: boolean } = {},
): void {
  Deno.test({ name, sanitizeResources: false, ...options, fn: () => withTempDir(fn) });
}

/** Mounts a tmpfs at `dir` with `options` (e.g. "size=64k" or "ro,size=64k"); returns why not when it cannot. */
export async function mountTmpfs(dir: string, options: string): Promise<string | null> {
  try {
    const r = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", options, "tmpfs", dir], stderr: "piped" })
      .output();
    return r.success ? null : new TextDecoder().decode(r.stderr).trim() || `mount exited ${r.code}`;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Writes a copy of the fixture checkpoint `src` to `dir`, tensors in F32, with `edit` applied to `name`'s data. */
export async function editedCheckpoint(
  src: string,
  dir: string,
  name: string,
  edit: (data: Float32Array) => void,
): Promise<void> {
  const ckpt = await openCheckpoint(src);
  const tensors = new Map<string, TensorInput>();
  for (const { name: n, shape } of ckpt.layout.tensors) {
    const data = (await ckpt.readFloat32(n)).data;
    if (n === name) edit(data);
    tensors.set(n, { dtype: "F32", shape, data });
  }
  await writeCheckpoint(dir, { config: { ...ckpt.config.raw }, tensors, tokenizer: ckpt.tokenizerPath });
}
