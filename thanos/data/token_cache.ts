/**
 * A per-machine cache of tokenized corpora: encoding a corpus (~200K tokens of sotu-calib or
 * sotu-eval) takes the BPE tokenizer 1–2 s, on every `prune`, `eval` and notebook run, for ids that
 * never change. {@link cachedCorpusTokens} keys the ids by the SHA-256 of the tokenizer's
 * fingerprint (what it was built from) and the corpus text, so any change to either misses.
 *
 * Where: `$THANOS_CACHE_DIR/tokens`, else `$XDG_CACHE_HOME/thanos-wgpu/tokens`, else
 * `~/.cache/thanos-wgpu/tokens`; `THANOS_CACHE_DIR=off` turns the cache off. A file is a header
 * (magic "THTK", the token count, both u32 little-endian) then the ids; one that is short, long or
 * has another header is ignored and rewritten. Files are written to a temporary name and renamed, so
 * concurrent runs and interrupted writes never leave a partial file under the final name. A cache
 * that cannot be read or written (no permission, a read-only disk) is skipped silently: it only
 * saves time.
 *
 * @module
 */

import { join } from "node:path";
import { readEnv } from "../util/env.ts";
import { sha256Hex } from "../util/hash.ts";
import { type Corpus, corpusTokens } from "./corpus.ts";
import type { TextTokenizer } from "./tokenizer.ts";

/** Environment variable naming the cache's root directory (`off`: no cache). */
export const CACHE_DIR_ENV = "THANOS_CACHE_DIR";
const MAGIC = 0x4b544854; // "THTK" little-endian

/** The directory of cached token files, or null when the cache is off or no home is known. */
export function tokenCacheDir(): string | null {
  const root = readEnv(CACHE_DIR_ENV);
  if (root !== undefined && root !== "") return root.toLowerCase() === "off" ? null : join(root, "tokens");
  const xdg = readEnv("XDG_CACHE_HOME"), home = readEnv("HOME");
  if (xdg) return join(xdg, "thanos-wgpu", "tokens");
  return home ? join(home, ".cache", "thanos-wgpu", "tokens") : null;
}

/**
 * `corpusTokens(corpus, tokenizer)`, read from the per-machine cache when an earlier run stored it
 * (and stored there otherwise).
 * @param dir the cache directory (default {@link tokenCacheDir}; null: no cache)
 * @example
 * ```ts
 * const ids = await cachedCorpusTokens(await loadCorpus("sotu-eval"), await loadTokenizer("models/tiny-llama"));
 * ```
 */
export async function cachedCorpusTokens(
  corpus: Corpus,
  tokenizer: TextTokenizer,
  dir: string | null = tokenCacheDir(),
): Promise<Uint32Array> {
  if (dir === null) return corpusTokens(corpus, tokenizer);
  const file = join(dir, `${await sha256Hex(`${tokenizer.fingerprint}\0${corpus.text}`)}.u32`);
  const cached = await readTokens(file);
  if (cached) return cached;
  const tokens = corpusTokens(corpus, tokenizer);
  await writeTokens(dir, file, tokens);
  return tokens;
}

async function readTokens(file: string): Promise<Uint32Array | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch {
    return null; // not cached yet, or not readable
  }
  if (bytes.byteLength < 8 || bytes.byteLength % 4 !== 0) return null;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  if (words[0] !== MAGIC || words[1] !== words.length - 2) return null;
  return words.slice(2);
}

async function writeTokens(dir: string, file: string, tokens: Uint32Array): Promise<void> {
  const out = new Uint32Array(tokens.length + 2);
  out[0] = MAGIC;
  out[1] = tokens.length;
  out.set(tokens, 2);
  const tmp = `${file}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeFile(tmp, new Uint8Array(out.buffer));
    await Deno.rename(tmp, file);
  } catch {
    await Deno.remove(tmp).catch(() => {}); // a cache that cannot be written only costs time
  }
}
