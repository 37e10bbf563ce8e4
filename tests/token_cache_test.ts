/**
 * data/token_cache.ts: tokenized corpora cached per machine — the ids equal corpusTokens', a stored
 * file is what later runs read, a damaged one is recomputed and rewritten, another tokenizer or
 * text misses, and a cache that is off or cannot be written changes nothing but the time.
 */
import { assert, assertEquals } from "./assert.ts";
import { corpusTokens, loadCorpus } from "../thanos/data/corpus.ts";
import { CACHE_DIR_ENV, cachedCorpusTokens, tokenCacheDir } from "../thanos/data/token_cache.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { join } from "node:path";

const MAGIC = 0x4b544854;

async function textCorpus(dir: string, name: string, text: string) {
  const path = join(dir, name);
  await Deno.writeTextFile(path, text);
  return await loadCorpus(path);
}

const files = async (dir: string) => {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) out.push(e.name);
  } catch { /* no directory: no files */ }
  return out.sort();
};

Deno.test("cachedCorpusTokens stores the ids once and reads them back; a damaged file is rewritten", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "thanos-token-cache-" });
  try {
    const tokenizer = await loadTokenizer("models/tiny-llama");
    const corpus = await textCorpus(tmp, "a.txt", "The President shall, from time to time, give to the Congress.");
    const dir = join(tmp, "cache");
    const want = corpusTokens(corpus, tokenizer);
    assertEquals(await cachedCorpusTokens(corpus, tokenizer, dir), want);
    const [file] = await files(dir);
    assert(file?.endsWith(".u32"), `one cache file, got ${await files(dir)}`);
    const path = join(dir, file);
    assertEquals((await Deno.stat(path)).size, 8 + 4 * want.length);
    // what is stored is what a later run gets (planted ids prove the file was read, not recomputed)
    await Deno.writeFile(path, new Uint8Array(new Uint32Array([MAGIC, 2, 7, 9]).buffer));
    assertEquals(await cachedCorpusTokens(corpus, tokenizer, dir), new Uint32Array([7, 9]));
    // a truncated file (count disagrees with the length) is recomputed and rewritten whole
    await Deno.writeFile(path, new Uint8Array(new Uint32Array([MAGIC, 5, 7]).buffer));
    assertEquals(await cachedCorpusTokens(corpus, tokenizer, dir), want);
    assertEquals((await Deno.stat(path)).size, 8 + 4 * want.length);
    // another text misses: a second file
    const other = await textCorpus(tmp, "b.txt", "We the People of the United States.");
    assertEquals(await cachedCorpusTokens(other, tokenizer, dir), corpusTokens(other, tokenizer));
    assertEquals((await files(dir)).length, 2);
    // the same tokenizer files elsewhere share the entries (the bundled models share one tokenizer)
    assertEquals((await loadTokenizer("models/tiny-gpt2")).fingerprint, tokenizer.fingerprint);
    // another tokenizer (here: another tokenizer_config.json) misses
    const changed = join(tmp, "tokenizer");
    await Deno.mkdir(changed);
    await Deno.copyFile("models/tiny-llama/tokenizer.json", join(changed, "tokenizer.json"));
    const config = JSON.parse(await Deno.readTextFile("models/tiny-llama/tokenizer_config.json"));
    await Deno.writeTextFile(
      join(changed, "tokenizer_config.json"),
      JSON.stringify({ ...config, model_max_length: 7 }),
    );
    const other2 = await loadTokenizer(changed);
    assert(other2.fingerprint !== tokenizer.fingerprint, "a changed tokenizer_config.json changes the fingerprint");
    assertEquals(await cachedCorpusTokens(corpus, other2, dir), corpusTokens(corpus, other2));
    assertEquals((await files(dir)).length, 3);
    assert((await files(dir)).every((f) => f.endsWith(".u32")), "no temporary file left");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("cachedCorpusTokens without a cache, or with one that cannot be written, gives the same ids", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "thanos-token-cache-" });
  try {
    const tokenizer = await loadTokenizer("models/tiny-llama");
    const corpus = await textCorpus(tmp, "a.txt", "Fellow-Citizens of the Senate and of the House of Representatives.");
    const want = corpusTokens(corpus, tokenizer);
    assertEquals(await cachedCorpusTokens(corpus, tokenizer, null), want);
    const blocked = join(tmp, "a.txt", "cache"); // under a file: mkdir fails
    assertEquals(await cachedCorpusTokens(corpus, tokenizer, blocked), want);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("tokenCacheDir: $THANOS_CACHE_DIR, off, then $XDG_CACHE_HOME, then ~/.cache", () => {
  const saved = Object.fromEntries([CACHE_DIR_ENV, "XDG_CACHE_HOME", "HOME"].map((k) => [k, Deno.env.get(k)]));
  try {
    Deno.env.set(CACHE_DIR_ENV, "/data/cache");
    assertEquals(tokenCacheDir(), "/data/cache/tokens");
    Deno.env.set(CACHE_DIR_ENV, "OFF");
    assertEquals(tokenCacheDir(), null);
    Deno.env.delete(CACHE_DIR_ENV);
    Deno.env.set("XDG_CACHE_HOME", "/xdg");
    assertEquals(tokenCacheDir(), "/xdg/thanos-wgpu/tokens");
    Deno.env.delete("XDG_CACHE_HOME");
    Deno.env.set("HOME", "/home/me");
    assertEquals(tokenCacheDir(), "/home/me/.cache/thanos-wgpu/tokens");
  } finally {
    for (const [k, v] of Object.entries(saved)) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  }
});
