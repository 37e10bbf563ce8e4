/**
 * What every command-line entry point shares: argument parsing with node:util, errors reported as
 * one line on stderr with exit code 2 (bad input) or 1 (anything else), progress on stderr, and the
 * result as one JSON object on the last line of stdout.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { DATA_DEFAULTS, type DataSpec } from "../thanos/experiment.ts";

/** The checkpoint `deno task prune` and `deno task table` use without --model: the bundled fixture. */
export const DEFAULT_MODEL = "models/tiny-llama";

/** An error caused by the user's input (arguments, files, data): exit code 2, no stack trace. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** True for errors that describe bad input rather than a bug. */
export function isInputError(err: unknown): boolean {
  return err instanceof UsageError || err instanceof RangeError || err instanceof TypeError ||
    err instanceof SyntaxError || err instanceof Deno.errors.NotFound || err instanceof Deno.errors.AlreadyExists ||
    (err instanceof Error && /^(Invalid|Unknown|Unsupported|Missing|Malformed|Expected)/.test(err.message));
}

/** A value that reads as a (negative) number: `-0.1`, `-5`, `-.5`, `-1e-3`, `-Infinity`. */
const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity$|inf$|nan$)/i;

/**
 * Joins `--flag -0.1` into `--flag=-0.1` for flags that take a value, so that a negative number
 * reaches the command's own range check (node:util's parseArgs would call it "ambiguous").
 */
function joinNegativeValues(args: string[], options: NonNullable<ParseArgsConfig["options"]>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      joined.push(...args.slice(i));
      break;
    }
    const name = a.startsWith("--") && !a.includes("=") ? a.slice(2) : null;
    if (name && options[name]?.type === "string" && i + 1 < args.length && NEGATIVE_NUMBER.test(args[i + 1])) {
      joined.push(`${a}=${args[++i]}`);
    } else joined.push(a);
  }
  return joined;
}

/**
 * Parses `args` strictly (unknown flags and stray positionals are errors, reported as UsageError).
 * A negative number may follow its flag as a separate argument (`--alpha -0.1`, like `--alpha=-0.1`).
 * @example
 * ```ts
 * const { values } = parse(Deno.args, { method: { type: "string", default: "thanos" } });
 * ```
 */
export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: joinNegativeValues(args, options), options, allowPositionals, strict: true });
  } catch (err) {
    // node:util's messages run over several lines (with advice about "--"); keep the first
    throw new UsageError(`${(err as Error).message.split("\n")[0].replace(/\.$/, "")} (see --help)`);
  }
}

/** Prints `usage` to stdout when `--help` (every command's `help: { type: "boolean", short: "h" }`) was given. */
export function helpGiven(values: { help?: boolean }, usage: string): boolean {
  if (values.help) console.log(usage);
  return values.help === true;
}

/** Throws a UsageError naming the first of `names` that is missing or empty, in order. */
export function requireFlags<V extends object, K extends keyof V & string>(
  values: V,
  ...names: K[]
): asserts values is V & { [P in K]-?: NonNullable<V[P]> } {
  for (const name of names) if (!values[name]) throw new UsageError(`Missing --${name} (see --help)`);
}

/** Parses a numeric flag, naming it in the error. */
export function numberFlag(name: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError(`Missing --${name}`);
    return fallback;
  }
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) {
    throw new UsageError(`Expected --${name} to be a number but found "${value}"`);
  }
  return n;
}

/** Parses an integer flag, naming it in the error. */
export function intFlag(name: string, value: string | undefined, fallback?: number): number {
  const n = numberFlag(name, value, fallback);
  if (!Number.isInteger(n)) throw new UsageError(`Expected --${name} to be an integer but found "${value}"`);
  return n;
}

/** The data flags of `deno task prune` and `deno task table`: corpora and windows (see `prepareData`). */
export const DATA_FLAGS = {
  calibration: { type: "string", default: DATA_DEFAULTS.calibration },
  nsamples: { type: "string" },
  seqlen: { type: "string" },
  seed: { type: "string" },
  eval: { type: "string", default: DATA_DEFAULTS.eval },
  "max-windows": { type: "string" },
} as const;

/**
 * The {@link DATA_FLAGS} as parsed into a `DataSpec` (defaults from DATA_DEFAULTS; seqlen left to
 * the model's context).
 * @throws UsageError for a flag that is not an integer
 */
export function dataSpec(values: { [K in keyof typeof DATA_FLAGS]?: string }): DataSpec {
  const atLeast = (name: string, n: number, min: number, note = "") => {
    if (n < min) throw new UsageError(`Expected --${name} >= ${min}${note} but found ${n}`);
    return n;
  };
  return {
    calibration: values.calibration ?? DATA_DEFAULTS.calibration,
    nsamples: atLeast("nsamples", intFlag("nsamples", values.nsamples, DATA_DEFAULTS.nsamples), 1),
    seqlen: values.seqlen === undefined ? undefined : atLeast("seqlen", intFlag("seqlen", values.seqlen), 2),
    seed: intFlag("seed", values.seed, DATA_DEFAULTS.seed),
    eval: values.eval ?? DATA_DEFAULTS.eval,
    maxWindows: atLeast(
      "max-windows",
      intFlag("max-windows", values["max-windows"], DATA_DEFAULTS.maxWindows),
      0,
      " (0 = all)",
    ),
  };
}

/**
 * Runs `what`, turning any error into a UsageError: for steps whose failures are the user's input
 * (opening their checkpoint, reading their corpus), so the CLI exits 2 with the message.
 */
export async function asInput<T>(what: () => Promise<T>): Promise<T> {
  try {
    return await what();
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError((err as Error).message);
  }
}

/** One progress line on stderr (never stdout: stdout's last line is the JSON result). */
export function log(message: string): void {
  console.error(message);
}

/** Prints the result as the last line of stdout. */
export function emit(result: unknown): void {
  console.log(JSON.stringify(result));
}

/**
 * True for failures of the environment rather than of the program: disk full, read-only file
 * system, permission denied, quota exceeded, a name too long.
 */
export function isEnvironmentError(err: unknown): boolean {
  return err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable ||
    (err instanceof Error &&
      /\(os error (1|13|28|30|36|122)\)|No space left|Read-only file system|Permission denied|Disk quota/.test(
        err.message,
      ));
}

/**
 * Runs a command's main function: prints its JSON result, or the error as one line on stderr —
 * exit code 2 for bad input and for the environment's failures (disk full, permission denied), 1
 * for an unexpected internal error, whose stack is printed when THANOS_DEBUG=1 (the line says so).
 */
export async function main(run: () => Promise<unknown>): Promise<void> {
  let code = 0;
  try {
    const result = await run();
    if (result !== undefined) emit(result);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const expected = isInputError(e) || isEnvironmentError(e);
    const debug = /^(1|true|yes|on)$/i.test(Deno.env.get("THANOS_DEBUG") ?? "");
    const message = e.message.split("\n")[0];
    if (expected) console.error(`error: ${message}`);
    else console.error(`error: ${message} (internal error${debug ? "" : "; THANOS_DEBUG=1 shows the stack trace"})`);
    if (debug) console.error(e.stack);
    code = expected ? 2 : 1;
  }
  if (code !== 0) Deno.exit(code);
}
