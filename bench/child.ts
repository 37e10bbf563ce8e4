/**
 * One benchmark step in its own Deno process (bench:scale's prunes, bench:gpu's steps): run
 * `deno <args>` from the repository root with an optional time limit, sample its peak resident memory
 * (VmHWM from /proc every 100 ms, where readable), keep its output, and parse its last stdout line
 * that is a JSON object — the result line every benchmark and CLI task ends with.
 *
 * @module
 */

/** What a child process left: exit code, wall seconds, peak RSS, output and its last JSON line. */
export interface ChildRun {
  code: number;
  seconds: number;
  timedOut: boolean;
  peakRssBytes: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | null;
}

/** Options of {@link runDeno}. */
export interface ChildOptions {
  env?: Record<string, string>;
  /** SIGKILL after this many seconds (default: none) */
  limitSeconds?: number;
  /** also copy the child's stderr to this process's stderr as it arrives (progress) */
  echoStderr?: boolean;
}

const ROOT = new URL("../", import.meta.url).pathname;

/** Peak resident set of a live process (VmHWM), or null where /proc is not readable. */
function peakRss(pid: number): number | null {
  try {
    const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^VmHWM:\s+(\d+) kB/m);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The last line of `stdout` that parses as a JSON object, or null. */
export function lastJsonLine(stdout: string): Record<string, unknown> | null {
  for (const line of stdout.trim().split("\n").reverse()) {
    if (!line.startsWith("{")) continue;
    try {
      return JSON.parse(line);
    } catch { /* not JSON: keep looking */ }
  }
  return null;
}

/** Runs `deno <args>` from the repository root (see the module documentation). */
export async function runDeno(args: string[], options: ChildOptions = {}): Promise<ChildRun> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: options.env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let peak: number | null = null;
  const sampler = setInterval(() => {
    const p = peakRss(child.pid);
    if (p !== null) peak = Math.max(peak ?? 0, p);
  }, 100);
  let timedOut = false;
  const limit = options.limitSeconds === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, options.limitSeconds * 1000);
  const readStderr = async () => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of child.stderr) {
      const part = decoder.decode(chunk, { stream: true });
      if (options.echoStderr) Deno.stderr.writeSync(new TextEncoder().encode(part));
      text += part;
    }
    return text;
  };
  const [status, stdout, stderr] = await Promise.all([child.status, new Response(child.stdout).text(), readStderr()]);
  clearInterval(sampler);
  if (limit !== undefined) clearTimeout(limit);
  return {
    code: status.code,
    seconds: (performance.now() - started) / 1000,
    timedOut,
    peakRssBytes: peak,
    stdout,
    stderr,
    json: lastJsonLine(stdout),
  };
}
