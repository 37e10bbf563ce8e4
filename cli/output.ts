/**
 * Output directories that appear all at once: work goes into a hidden staging directory beside the
 * target and is renamed into place at the end, so a failed or interrupted run (Ctrl-C, SIGTERM)
 * leaves nothing at the target.
 *
 * @module
 */

import { exists, statOrNull } from "../thanos/util/fs.ts";
import { UsageError } from "./common.ts";

export interface Staging {
  /** the target directory */
  readonly out: string;
  /** where to write (created by the writer; does not exist yet) */
  readonly dir: string;
  /** moves `dir` to `out` (replacing `out` when --force allowed it) */
  commit(): Promise<void>;
  /** removes `dir` if it exists (no-op after commit) */
  discard(): Promise<void>;
}

/**
 * Checks that `out` may be written and returns its staging directory. Creates `out`'s parent
 * directories. Interrupt signals remove the staging directory before exiting.
 * @throws UsageError when `out` is a file, or a non-empty directory without `force`
 */
export async function prepareOutput(out: string, force: boolean): Promise<Staging> {
  const info = await statOrNull(out);
  if (info && !info.isDirectory) throw new UsageError(`--out ${out} exists and is not a directory`);
  if (info && !force) {
    for await (const _ of Deno.readDir(out)) {
      throw new UsageError(`--out ${out} exists and is not empty; pass --force to replace it`);
    }
  }
  const trimmed = out.replace(/\/+$/, "") || ".";
  const slash = trimmed.lastIndexOf("/");
  const parent = slash < 0 ? "." : trimmed.slice(0, slash) || "/";
  const base = trimmed.slice(slash + 1);
  await Deno.mkdir(parent, { recursive: true });
  const dir = `${parent}/.${base}.staging-${crypto.randomUUID().slice(0, 8)}`;
  let committed = false;

  const discard = async () => {
    if (committed) return;
    await Deno.remove(dir, { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* nothing staged yet */ }
    console.error(`interrupted: nothing was written to ${out}`);
    Deno.exit(130);
  };
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  const unlisten = () => {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  };

  return {
    out,
    dir,
    async commit() {
      if (await exists(out)) await Deno.remove(out, { recursive: true });
      await Deno.rename(dir, out);
      committed = true;
      unlisten();
    },
    async discard() {
      unlisten();
      await discard();
    },
  };
}

/** "1m 05s" / "12.3s". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m ${String(Math.round(s - 60 * m)).padStart(2, "0")}s`;
}
