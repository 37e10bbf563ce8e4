/**
 * Helpers of the tests that run the command-line entry points (cli/*.ts) as subprocesses and give
 * them scratch directories.
 */

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
