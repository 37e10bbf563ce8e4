/**
 * The one output mechanism of every command that writes (`prune`, `prune-layer`, `table`, and any
 * new command: call it the same way). What it guarantees:
 *
 * - **Checked before any work.** {@link openOutput} refuses, with a one-line {@link UsageError}
 *   (exit code 2): an `--out` of the wrong kind (a file where a directory is written, or the
 *   reverse), a non-empty directory or an existing file without `--force`, a parent path that runs
 *   through a file, a location that cannot be written (permission denied, read-only file system).
 * - **One run per destination.** It takes a lock, `.<name>.lock` beside `--out`, created with
 *   O_EXCL (like git's `index.lock`) and holding the pid of its owner. A second run to the same
 *   `--out` fails at once naming that pid; a lock whose process is gone (SIGKILL, power loss) is
 *   recognised as stale and taken over.
 * - **Staged beside the target.** The writer writes to {@link Output.path}, inside the staging
 *   directory `.<name>.staging-<pid>` beside `--out`, so every partial file (the checkpoint
 *   writer's included) lives in one place. The next run to the same destination removes what a
 *   killed run left there, recognised by these names.
 * - **Claimed atomically.** {@link Output.commit} moves the result into place with operations that
 *   fail rather than overwrite: a destination that appeared during the run (`mkdir` or `link`
 *   refuses an existing name) or that gained files (`rename` refuses a non-empty directory) is
 *   refused with exit code 2, its contents untouched — unless `--force`, which replaces it.
 * - **Nothing left by a failure.** An error, SIGINT or SIGTERM removes the staging directory, the
 *   lock and every parent directory the run created, then exits 130 (SIGINT) or 143 (SIGTERM).
 *
 * Not guaranteed: with `--force` replacing an existing directory, the old directory is moved
 * aside and the new one moved in by two renames (POSIX has no portable atomic exchange); SIGINT or
 * SIGTERM between them puts the old one back, but a SIGKILL there leaves `--out` absent and the old
 * contents in the staging directory, which the next run removes.
 *
 * @example
 * ```ts
 * await using output = await openOutput(values.out, { kind: "directory", force: values.force });
 * // … all the work …
 * await output.write((path) => writeCheckpoint(path, { … }));   // path is inside the staging dir
 * await output.commit();                                          // --out appears, whole
 * ```
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { lstatOrNull, statOrNull } from "../thanos/util/fs.ts";
import { isEnvironmentError, UsageError } from "./common.ts";

/** Options of {@link openOutput}. */
export interface OutputOptions {
  /** whether the result is a directory (a checkpoint) or one file (a .json, a .safetensors) */
  kind: "directory" | "file";
  /** replace an existing `--out` (default false) */
  force?: boolean;
  /** the flag named in messages (default "--out") */
  flag?: string;
  /** where notices go (removed leftovers of a killed run); default stderr */
  notice?: (message: string) => void;
}

/** A destination being written: see the module documentation. */
export interface Output extends AsyncDisposable {
  /** the destination as the user gave it */
  readonly out: string;
  /** where the writer creates the result (inside the staging directory; does not exist yet) */
  readonly path: string;
  /** the staging directory beside `out` */
  readonly staging: string;
  /**
   * Runs the writer on {@link path}. Disk full, permission denied, a read-only file system or a
   * quota become one-line {@link UsageError}s naming `out` and the cause.
   */
  write<T>(writer: (path: string) => Promise<T>): Promise<T>;
  /**
   * Moves the result to `out` and releases the lock.
   * @throws UsageError when `out` appeared or changed during the run (without `force`); `out` is
   *   left untouched and the staged result removed
   */
  commit(): Promise<void>;
  /** Removes the staging directory, the lock and the parents this run created (no-op after commit). */
  discard(): Promise<void>;
}

/** Prefix of every staging artefact of `name` (also matches the names of earlier versions). */
const stagingPrefix = (name: string) => `.${name}.staging-`;
const lockName = (name: string) => `.${name}.lock`;
const staleLockPrefix = (name: string) => `.${name}.lock.stale-`;

/** The OS error's cause without Deno's decoration: "No space left on device (os error 28)". */
function cause(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.replace(/:\s*(open|mkdir|rename|write|link|remove|copy|stat)\b.*$/s, "").trim();
}

/** Every output open in this process, for the signal handler. */
const active = new Set<OutputImpl>();
const SIGNALS: [Deno.Signal, number][] = [["SIGINT", 130], ["SIGTERM", 143]];
const handlers = new Map<Deno.Signal, () => void>();

function listen(): void {
  if (handlers.size > 0) return;
  for (const [signal, code] of SIGNALS) {
    const handler = () => {
      const outs = [...active];
      for (const o of outs) o.discardSync();
      const where = outs.map((o) => o.out).join(", ");
      console.error(`interrupted (${signal})${where ? `: nothing was written to ${where}` : ""}`);
      Deno.exit(code);
    };
    handlers.set(signal, handler);
    Deno.addSignalListener(signal, handler);
  }
}

function unlisten(): void {
  if (active.size > 0) return;
  for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
  handlers.clear();
}

/** Start time of process `pid` (clock ticks since boot, /proc/PID/stat field 22), or null if gone. */
function processStart(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

interface LockInfo {
  pid: number;
  start: string | null;
  host: string;
  command: string;
}

function lockContent(): string {
  const info: LockInfo = {
    pid: Deno.pid,
    start: processStart(Deno.pid),
    host: Deno.hostname(),
    command: ["deno", ...Deno.args].join(" ").slice(0, 500),
  };
  return JSON.stringify(info) + "\n";
}

/** Whether the process that wrote a lock is certainly gone (same host, and no such process now). */
function lockIsStale(info: Partial<LockInfo> | null): boolean {
  if (!info || typeof info.pid !== "number") return true; // unreadable or half-written: its writer died
  if (info.host !== Deno.hostname()) return false;
  let procs = true;
  try {
    Deno.statSync("/proc/self/stat");
  } catch {
    procs = false;
  }
  if (!procs) return false; // cannot tell without /proc: assume alive
  const start = processStart(info.pid);
  return start === null || (info.start != null && start !== info.start);
}

async function readLock(path: string): Promise<{ text: string; info: Partial<LockInfo> | null } | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  try {
    return { text, info: JSON.parse(text) };
  } catch {
    return { text, info: null };
  }
}

/** lstat, with "nothing there" for a missing path and for a path that runs through a file (ENOTDIR). */
async function entryOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) return null;
    throw err;
  }
}

/** The nearest existing ancestor of `dir` and the directories below it that do not exist, top first. */
async function missingParents(dir: string): Promise<{ existing: string; missing: string[] }> {
  const missing: string[] = [];
  let d = dir;
  while ((await entryOrNull(d)) === null) {
    missing.unshift(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return { existing: d, missing };
}

/**
 * Checks that `out` may be written, takes its lock, removes leftovers of killed runs, and creates
 * the staging directory — before any work. See the module documentation for what is refused.
 *
 * @param out the destination (`--out`)
 * @param options kind, force, flag name, notice sink
 * @returns the {@link Output}; `await using` it so that an error discards it
 * @throws UsageError naming `out` and what is wrong with it
 */
export async function openOutput(out: string, options: OutputOptions): Promise<Output> {
  const { kind, force = false, flag = "--out" } = options;
  const notice = options.notice ?? ((m: string) => console.error(m));
  const what = `${flag} ${out}`;
  if (out.trim() === "") throw new UsageError(`Expected ${flag} to be a path but found ""`);
  const target = resolve(out);
  const name = basename(target);
  if (name === "" || name === "." || name === ".." || target === "/") {
    throw new UsageError(`${what}: expected a path naming a new ${kind}`);
  }
  const parent = dirname(target);

  // ---- the destination itself
  const info = await entryOrNull(target).then((i) => i?.isSymlink ? statOrNull(target) : i).catch((err) => {
    throw new UsageError(`${what}: cannot inspect it: ${cause(err)}`);
  });
  if (info) {
    if (kind === "directory" && !info.isDirectory) throw new UsageError(`${what} exists and is not a directory`);
    if (kind === "file" && info.isDirectory) throw new UsageError(`${what} is a directory; expected a file path`);
    if (!force) {
      if (kind === "file") throw new UsageError(`${what} exists; pass --force to replace it`);
      for await (const _ of Deno.readDir(target)) {
        throw new UsageError(`${what} exists and is not empty; pass --force to replace it`);
      }
    }
  }

  // ---- the parent: through directories only; created (and remembered) if missing
  const { existing, missing } = await missingParents(parent);
  const top = await statOrNull(existing);
  if (!top?.isDirectory) throw new UsageError(`${what}: ${existing} is not a directory`);
  const created: string[] = [];
  const undoParents = () => {
    for (const d of [...created].reverse()) {
      try {
        Deno.removeSync(d); // only if still empty: never someone else's files
      } catch { /* not empty or gone */ }
    }
    created.length = 0;
  };
  try {
    for (const d of missing) {
      await Deno.mkdir(d);
      created.push(d);
    }
  } catch (err) {
    undoParents();
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(`${what}: its parent ${parent} appeared while being created; run again`);
    }
    throw new UsageError(`${what}: cannot create ${parent}: ${cause(err)}`);
  }

  // ---- the lock: O_EXCL, naming its pid; a dead owner's lock is taken over
  const lock = join(parent, lockName(name));
  const content = lockContent();
  try {
    await takeLock(lock, content, what, parent, notice);
  } catch (err) {
    undoParents();
    throw err;
  }

  // ---- leftovers of killed runs (we hold the lock: nothing else can be writing them)
  const output = new OutputImpl(out, target, kind, force, lock, created, info, flag);
  try {
    for await (const entry of Deno.readDir(parent)) {
      const n = entry.name;
      const leftover = n.startsWith(stagingPrefix(name)) || n.startsWith(`.${stagingPrefix(name)}`) ||
        n.startsWith(staleLockPrefix(name));
      if (leftover && join(parent, n) !== output.staging) {
        await Deno.remove(join(parent, n), { recursive: true });
        notice(`removed ${join(parent, n)}, left by an interrupted run`);
      }
    }
    await Deno.mkdir(output.staging);
  } catch (err) {
    output.discardSync();
    throw new UsageError(`${what}: cannot write in ${parent}: ${cause(err)}`);
  }
  return output;
}

async function takeLock(
  lock: string,
  content: string,
  what: string,
  parent: string,
  notice: (message: string) => void,
): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const f = await Deno.open(lock, { write: true, createNew: true });
      try {
        await f.write(new TextEncoder().encode(content));
      } finally {
        f.close();
      }
      return;
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) {
        try {
          Deno.removeSync(lock);
        } catch { /* not created */ }
        throw new UsageError(`${what}: cannot write in ${parent}: ${cause(err)}`);
      }
    }
    const held = await readLock(lock);
    if (held === null) continue; // released meanwhile
    if (!lockIsStale(held.info)) {
      const pid = held.info?.pid ?? "?";
      throw new UsageError(
        `${what} is being written by another run (pid ${pid}, lock ${lock}); wait for it, or remove the lock if that process is gone`,
      );
    }
    // Take over a stale lock: move it aside under a unique name, and check that what was moved is
    // the stale lock that was read (not a fresh one that replaced it meanwhile).
    const aside = `${lock}.stale-${crypto.randomUUID().slice(0, 8)}`;
    try {
      await Deno.rename(lock, aside);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw new UsageError(`${what}: cannot write in ${parent}: ${cause(err)}`);
    }
    const moved = await readLock(aside);
    if (moved?.text !== held.text) {
      try {
        await Deno.link(aside, lock); // give the fresh lock back (fails if yet another run took the name)
      } catch { /* ignore */ }
      await Deno.remove(aside).catch(() => {});
      throw new UsageError(`${what} is being written by another run (lock ${lock})`);
    }
    await Deno.remove(aside);
    notice(`${what}: removed the stale lock of process ${held.info?.pid ?? "?"}, which is no longer running`);
  }
  throw new UsageError(`${what} is being written by another run (lock ${lock})`);
}

class OutputImpl implements Output {
  readonly staging: string;
  readonly path: string;
  #done = false;
  #claimedEmpty: string | null = null;
  /** the replaced destination while --force swaps it (two renames) */
  #aside: string | null = null;

  constructor(
    readonly out: string,
    readonly target: string,
    readonly kind: "directory" | "file",
    readonly force: boolean,
    readonly lock: string,
    readonly createdParents: string[],
    readonly initial: Deno.FileInfo | null,
    readonly flag: string,
  ) {
    this.staging = join(dirname(target), `${stagingPrefix(basename(target))}${Deno.pid}`);
    this.path = join(this.staging, basename(target));
    active.add(this);
    listen();
  }

  async write<T>(writer: (path: string) => Promise<T>): Promise<T> {
    try {
      return await writer(this.path);
    } catch (err) {
      if (isEnvironmentError(err)) throw new UsageError(`${this.#what}: writing failed: ${cause(err)}`);
      throw err;
    }
  }

  get #what(): string {
    return `${this.flag} ${this.out}`;
  }

  async commit(): Promise<void> {
    if (this.#done) throw new Error(`${this.#what}: already committed or discarded`);
    const staged = this.path;
    if ((await lstatOrNull(staged)) === null) throw new Error(`${this.#what}: the writer wrote nothing to ${staged}`);
    const now = await lstatOrNull(this.target);
    try {
      if (this.force && now !== null) await this.#replace(staged, now);
      else if (this.kind === "file") await this.#claimFile(staged);
      else await this.#claimDirectory(staged, now);
    } catch (err) {
      this.discardSync();
      if (err instanceof UsageError) throw err;
      if (isEnvironmentError(err)) throw new UsageError(`${this.#what}: writing failed: ${cause(err)}`);
      throw err;
    }
    this.#done = true;
    this.#claimedEmpty = null;
    this.#cleanup(false);
  }

  /** No --force, a file: link() fails if the name exists, so nothing is ever overwritten. */
  async #claimFile(staged: string): Promise<void> {
    try {
      await Deno.link(staged, this.target);
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) throw this.#changed("appeared");
      throw err;
    }
  }

  /**
   * No --force, a directory: claim an absent name with mkdir (fails if it exists), then rename the
   * staged directory over that empty directory — rename fails if anyone put a file into it.
   */
  async #claimDirectory(staged: string, now: Deno.FileInfo | null): Promise<void> {
    if (now === null) {
      try {
        await Deno.mkdir(this.target);
      } catch (err) {
        if (err instanceof Deno.errors.AlreadyExists) throw this.#changed("appeared");
        throw err;
      }
      this.#claimedEmpty = this.target;
    } else if (this.initial === null) {
      throw this.#changed("appeared");
    } else if (!now.isDirectory) {
      throw this.#changed("was replaced by a file");
    }
    try {
      await Deno.rename(staged, this.target);
    } catch (err) {
      const m = (err as Error).message;
      if (/os error (39|66|17|20)\b|not empty|Not a directory|exists/i.test(m)) {
        if (this.#claimedEmpty) this.#claimedEmpty = null; // it is someone else's now: never removed
        throw this.#changed("gained files");
      }
      throw err;
    }
  }

  /** --force: move the old destination into the staging directory, the result into place. */
  async #replace(staged: string, now: Deno.FileInfo): Promise<void> {
    if (this.kind === "file" && !now.isDirectory) {
      await Deno.rename(staged, this.target); // atomic replacement of a file
      return;
    }
    if (this.kind === "file") throw new UsageError(`${this.#what} became a directory during the run; left untouched`);
    const old = join(this.staging, ".replaced");
    await Deno.rename(this.target, old);
    this.#aside = old; // a signal from here on puts it back (discardSync)
    try {
      await Deno.rename(staged, this.target);
    } catch (err) {
      await Deno.rename(old, this.target).catch(() => {});
      this.#aside = null;
      throw err;
    }
    this.#aside = null;
  }

  #changed(how: string): UsageError {
    return new UsageError(
      `${this.#what} ${how} during the run; it was left untouched and this run's result discarded (pass --force to replace it)`,
    );
  }

  async discard(): Promise<void> {
    if (this.#done) return;
    this.discardSync();
    await Promise.resolve();
  }

  /** Synchronous, for the signal handler: staging, the claimed empty directory, lock, parents. */
  discardSync(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#aside) {
      try {
        Deno.renameSync(this.#aside, this.target); // interrupted between the two renames of --force
      } catch { /* the new result is already in place */ }
    }
    if (this.#claimedEmpty) {
      try {
        Deno.removeSync(this.#claimedEmpty); // only while still empty
      } catch { /* someone's files are in it: theirs */ }
    }
    this.#cleanup(true);
  }

  #cleanup(parents: boolean): void {
    try {
      Deno.removeSync(this.staging, { recursive: true });
    } catch { /* already gone */ }
    try {
      Deno.removeSync(this.lock);
    } catch { /* already gone */ }
    if (parents) {
      for (const d of [...this.createdParents].reverse()) {
        try {
          Deno.removeSync(d);
        } catch { /* not empty (someone else's files) or gone */ }
      }
    }
    active.delete(this);
    unlisten();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.discard();
  }
}

/** "1m 05s" / "12.3s". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m ${String(Math.round(s - 60 * m)).padStart(2, "0")}s`;
}
