/**
 * Tokenizers from a Hugging Face `tokenizer.json`, through `@huggingface/tokenizers` (a pure-JS
 * implementation of the `tokenizers` library's normalizers, pre-tokenizers, BPE / WordPiece /
 * Unigram models and decoders).
 *
 * `tokenizer_config.json` beside the file is read when present (it carries settings such as
 * `clean_up_tokenization_spaces`); without it decoding does not clean up spaces, so
 * `decode(encode(text)) === text` for byte-level BPE tokenizers.
 *
 * Repositories that ship only GPT-2's "slow" files (vocab.json + merges.txt, e.g. facebook/opt-*)
 * get the tokenizer.json that `transformers` would convert them to.
 *
 * @module
 */

import { Tokenizer } from "@huggingface/tokenizers";
import { basename, dirname, join } from "node:path";
import { isDirectory, isFile } from "../util/fs.ts";
import { sha256Hex } from "../util/hash.ts";

/** Encoding / decoding of one model's text. */
export interface TextTokenizer {
  /** the tokenizer.json this was loaded from */
  readonly path: string;
  /** number of ids (vocabulary plus added tokens): max id + 1 */
  readonly vocabSize: number;
  /**
   * SHA-256 (hex) of what the tokenizer was built from (its JSON and tokenizer config): equal
   * fingerprints encode alike, so cached token ids are keyed by it (data/token_cache.ts).
   */
  readonly fingerprint: string;
  /**
   * Text → ids. No special tokens (BOS/EOS) are added unless `addSpecialTokens` is true, so a
   * corpus encodes to one plain token stream.
   */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** Ids → text; special tokens are kept unless `skipSpecialTokens`. */
  decode(ids: ArrayLike<number>, options?: { skipSpecialTokens?: boolean }): string;
  /** The id of a token string, or undefined. */
  tokenToId(token: string): number | undefined;
  /** The token string of an id, or undefined. */
  idToToken(id: number): string | undefined;
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new Error(`loadTokenizer: ${what} ${path} not found`);
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`loadTokenizer: ${path} is not valid JSON (${(err as Error).message})`);
  }
}

/** A special token as tokenizer_config.json / special_tokens_map.json spell it: a string or {content}. */
function tokenContent(value: unknown): string | null {
  if (typeof value === "string") return value;
  const content = (value as { content?: unknown } | null)?.content;
  return typeof content === "string" ? content : null;
}

/**
 * tokenizer.json's `added_tokens` for special tokens, each as `transformers` writes one (matched
 * whole, not normalized, no stripping), with its id in `vocab`.
 */
export function specialAddedTokens(special: Iterable<string>, vocab: Record<string, number>): object[] {
  return [...special].map((content) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
}

/**
 * The tokenizer.json that `transformers` builds for a GPT-2-style "slow" tokenizer (vocab.json +
 * merges.txt, e.g. facebook/opt-*): byte-level BPE, ByteLevel pre-tokenizer and decoder, the
 * config's special tokens as added tokens, and a BOS template when `add_bos_token` is set.
 */
async function byteLevelBpeFromVocab(vocabPath: string, config: Record<string, unknown>): Promise<object> {
  const dir = dirname(vocabPath);
  const vocab = (await readJson(vocabPath, "vocabulary")) as Record<string, number>;
  const mergesPath = join(dir, "merges.txt");
  let mergesText: string;
  try {
    mergesText = await Deno.readTextFile(mergesPath);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(`loadTokenizer: ${mergesPath} not found (needed with ${vocabPath})`);
    }
    throw err;
  }
  const merges = mergesText.split("\n").filter((line) => line !== "" && !line.startsWith("#version"));
  let specialMap: Record<string, unknown> = {};
  const mapPath = join(dir, "special_tokens_map.json");
  if (await isFile(mapPath)) specialMap = (await readJson(mapPath, "special tokens map")) as Record<string, unknown>;
  const special = new Set<string>();
  for (const key of ["bos_token", "eos_token", "unk_token", "pad_token"]) {
    for (const source of [config, specialMap]) {
      const content = tokenContent(source[key]);
      if (content !== null && Object.hasOwn(vocab, content)) special.add(content);
    }
  }
  const bos = tokenContent(config.bos_token ?? specialMap.bos_token);
  const byteLevel = {
    type: "ByteLevel",
    add_prefix_space: config.add_prefix_space === true,
    trim_offsets: true,
    use_regex: true,
  };
  const bosTemplate = config.add_bos_token === true && bos !== null && Object.hasOwn(vocab, bos)
    ? {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: bos, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { [bos]: { id: bos, ids: [vocab[bos]], tokens: [bos] } },
    }
    : null;
  return {
    added_tokens: specialAddedTokens(special, vocab),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: bosTemplate,
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/**
 * Loads a tokenizer.
 *
 * @param pathOrDir a `tokenizer.json`; or a directory holding one (a checkpoint directory); or,
 *   for GPT-2-style repositories without tokenizer.json (facebook/opt-*), a `vocab.json` with
 *   `merges.txt` beside it, or a directory holding both
 * @returns a {@link TextTokenizer}
 * @throws Error naming the path when the file is missing, is not JSON, or describes a tokenizer
 *   the library cannot build
 * @example
 * ```ts
 * const tok = await loadTokenizer("models/tiny-llama");
 * const ids = tok.encode("Fellow-Citizens of the Senate");
 * tok.decode(ids); // "Fellow-Citizens of the Senate"
 * ```
 */
export async function loadTokenizer(pathOrDir: string): Promise<TextTokenizer> {
  let path = pathOrDir;
  if (await isDirectory(pathOrDir)) {
    path = join(pathOrDir, "tokenizer.json");
    if (!(await isFile(path))) {
      const vocab = join(pathOrDir, "vocab.json");
      if (!(await isFile(vocab)) || !(await isFile(join(pathOrDir, "merges.txt")))) {
        throw new Error(`loadTokenizer: tokenizer file ${path} not found (nor vocab.json with merges.txt)`);
      }
      path = vocab;
    }
  }
  let config: Record<string, unknown> = {};
  const configPath = join(dirname(path), "tokenizer_config.json");
  if (await isFile(configPath)) config = (await readJson(configPath, "tokenizer config")) as Record<string, unknown>;
  const json = basename(path) === "vocab.json"
    ? await byteLevelBpeFromVocab(path, config)
    : await readJson(path, "tokenizer file");
  // The library defaults clean_up_tokenization_spaces to true ("a ." → "a."), which breaks round
  // trips; only a tokenizer_config.json that asks for it turns it on.
  config = { ...config, clean_up_tokenization_spaces: config.clean_up_tokenization_spaces === true };
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer({ added_tokens: [], ...(json as object) }, config);
  } catch (err) {
    throw new Error(`loadTokenizer: ${path} could not be built: ${(err as Error).message}`);
  }
  const vocab = tokenizer.get_vocab(true);
  let maxId = -1;
  for (const id of vocab.values()) maxId = Math.max(maxId, id);
  const fingerprint = await sha256Hex(`${JSON.stringify(json)}\n${JSON.stringify(config)}`);
  return {
    path,
    vocabSize: maxId + 1,
    fingerprint,
    encode: (text, options = {}) =>
      tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids,
    decode: (ids, options = {}) =>
      ids.length === 0
        ? ""
        : tokenizer.decode(Array.from(ids), { skip_special_tokens: options.skipSpecialTokens ?? false }),
    tokenToId: (token) => tokenizer.token_to_id(token),
    idToToken: (id) => tokenizer.id_to_token(id),
  };
}
