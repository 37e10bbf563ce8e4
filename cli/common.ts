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

/**
 * Parses `args` strictly (unknown flags and stray positionals are errors, reported as UsageError).
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
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Parses a numeric flag, naming it in the error. */
export function numberFlag(name: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError(`Missing --${name}`);
    return fallback;
  }
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new UsageError(`Expected --${name} to be a number but found "${value}"`);
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
  return {
    calibration: values.calibration ?? DATA_DEFAULTS.calibration,
    nsamples: intFlag("nsamples", values.nsamples, DATA_DEFAULTS.nsamples),
    seqlen: values.seqlen === undefined ? undefined : intFlag("seqlen", values.seqlen),
    seed: intFlag("seed", values.seed, DATA_DEFAULTS.seed),
    eval: values.eval ?? DATA_DEFAULTS.eval,
    maxWindows: intFlag("max-windows", values["max-windows"], DATA_DEFAULTS.maxWindows),
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
 * Runs a command's main function: prints its JSON result, or the error on stderr with exit code 2
 * (bad input) or 1 (unexpected failure, with the stack when THANOS_DEBUG is set).
 */
export async function main(run: () => Promise<unknown>): Promise<void> {
  try {
    const result = await run();
    if (result !== undefined) emit(result);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const input = isInputError(e);
    console.error(`error: ${e.message}`);
    if (!input || Deno.env.get("THANOS_DEBUG")) console.error(e.stack);
    Deno.exit(input ? 2 : 1);
  }
}
