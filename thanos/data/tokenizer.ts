/**
 * Tokenizers from a Hugging Face `tokenizer.json`, through `@huggingface/tokenizers` (a pure-JS
 * implementation of the `tokenizers` library's normalizers, pre-tokenizers, BPE / WordPiece /
 * Unigram models and decoders).
 *
 * `tokenizer_config.json` beside the file is read when present (it carries settings such as
 * `clean_up_tokenization_spaces`); without it decoding does not clean up spaces, so
 * `decode(encode(text)) === text` for byte-level BPE tokenizers.
 *
 * @module
 */

import { Tokenizer } from "@huggingface/tokenizers";
import { dirname, join } from "node:path";

/** Encoding / decoding of one model's text. */
export interface TextTokenizer {
  /** the tokenizer.json this was loaded from */
  readonly path: string;
  /** number of ids (vocabulary plus added tokens): max id + 1 */
  readonly vocabSize: number;
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

/**
 * Loads a tokenizer.
 *
 * @param pathOrDir a `tokenizer.json`, or a directory holding one (a checkpoint directory)
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
  try {
    if ((await Deno.stat(pathOrDir)).isDirectory) path = join(pathOrDir, "tokenizer.json");
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const json = await readJson(path, "tokenizer file");
  let config: Record<string, unknown> = {};
  const configPath = join(dirname(path), "tokenizer_config.json");
  try {
    config = (await readJson(configPath, "tokenizer config")) as Record<string, unknown>;
  } catch (err) {
    if (!(err as Error).message.includes("not found")) throw err;
  }
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
  return {
    path,
    vocabSize: maxId + 1,
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
