/**
 * The flags of a benchmark or tool script: every flag takes a string value (`--batch 16`), parsed
 * strictly (an unknown flag is an error), with the default given or none.
 *
 * ```ts
 * const values = stringFlags(Deno.args, { batch: "16", json: undefined });
 * values.batch; // string
 * values.json; // string | undefined
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";

/** The parsed values: a flag with a string default is always a string, one without may be undefined. */
export type StringFlags<D extends Record<string, string | undefined>> = {
  [K in keyof D]: D[K] extends string ? string : string | undefined;
};

/**
 * Parses `args` as `--name value` flags, one for each key of `defaults`.
 * @param defaults each flag's default value, or undefined for a flag without one
 * @throws TypeError (node:util's) on an unknown flag, a stray positional or a flag without its value
 */
export function stringFlags<const D extends Record<string, string | undefined>>(
  args: string[],
  defaults: D,
): StringFlags<D> {
  const options: Record<string, { type: "string"; default?: string }> = {};
  for (const [name, value] of Object.entries(defaults)) {
    options[name] = value === undefined ? { type: "string" } : { type: "string", default: value };
  }
  return parseArgs({ args, options, strict: true }).values as StringFlags<D>;
}
