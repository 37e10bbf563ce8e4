/**
 * Environment variables read by the library (not the CLI): `THANOS_MATMUL_VARIANT`,
 * `THANOS_ATTENTION_VARIANT`, `THANOS_POISON_EMPTY`, `THANOS_CACHE_DIR` (with `XDG_CACHE_HOME` and
 * `HOME`, where tokenized corpora are cached). Without `--allow-env` they read as unset rather than throwing, so the
 * library works under narrow permissions.
 *
 * @module
 */

/** The variable's value, or undefined when it is unset or the environment may not be read. */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

/** True when the variable is set to 1, true, yes or on (any case). */
export function envFlag(name: string): boolean {
  return /^(1|true|yes|on)$/i.test(readEnv(name)?.trim() ?? "");
}
