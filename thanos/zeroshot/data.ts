/**
 * A task's evaluation split from a local directory: `<task>.jsonl` (one JSON object per line) or
 * `<task>.parquet` (e.g. the Hub's parquet export of the split), holding the dataset's own fields
 * (see each task's `fields` in tasks.ts). Every document is checked before any GPU work: a missing
 * file, an empty one, malformed JSON, or a field missing or of the wrong type is reported with
 * the file, the line (or parquet row) and the field.
 *
 * @module
 */

import { parquetReadObjects } from "hyparquet";
import { dirname, join } from "node:path";
import { isFile } from "../util/fs.ts";
import type { Doc, FieldKind, ZeroShotTask } from "./tasks.ts";

/** A task's documents and where they came from. */
export interface TaskDocs {
  path: string;
  docs: Doc[];
  /** names document i in messages: "<path> line 3" / "<path> row 2" */
  where(i: number): string;
}

const KIND_TEXT: Record<FieldKind, string> = {
  string: "a string",
  int: "an integer",
  "string[]": "a non-empty list of strings",
  choices: "{text: [strings], label: [strings]} of equal, non-zero length",
  digits: "an integer or a string of digits",
};

function fits(kind: FieldKind, v: unknown): boolean {
  const strings = (x: unknown) => Array.isArray(x) && x.length > 0 && x.every((e) => typeof e === "string");
  switch (kind) {
    case "string":
      return typeof v === "string";
    case "int":
      return Number.isInteger(v);
    case "string[]":
      return strings(v);
    case "choices": {
      const c = v as { text?: unknown; label?: unknown } | null;
      return !!c && typeof c === "object" && strings(c.text) && strings(c.label) &&
        (c.text as string[]).length === (c.label as string[]).length;
    }
    case "digits":
      return Number.isInteger(v) || (typeof v === "string" && /^[0-9]+$/.test(v));
  }
}

/** BigInt (parquet INT64) → number, recursively; plain objects only. */
function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object" && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

/**
 * Checks one document against the task's fields.
 * @throws RangeError "<where>: field "<f>" is <value>; expected <kind>"
 */
export function checkDoc(task: ZeroShotTask, doc: unknown, where: string): Doc {
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    throw new RangeError(`${where}: expected a JSON object (a ${task.name} document) but found ${JSON.stringify(doc)}`);
  }
  for (const [field, kind] of Object.entries(task.fields)) {
    const v = (doc as Doc)[field];
    if (v === undefined) {
      throw new RangeError(`${where}: missing field "${field}" (${KIND_TEXT[kind]}) for ${task.name}`);
    }
    if (!fits(kind, v)) {
      throw new RangeError(
        `${where}: field "${field}" is ${JSON.stringify(v)?.slice(0, 80)}; expected ${KIND_TEXT[kind]}`,
      );
    }
  }
  return doc as Doc;
}

/**
 * Reads and checks `<dir>/<task>.jsonl` (preferred) or `<dir>/<task>.parquet`.
 * @throws RangeError naming the file (and line and field) for anything a task cannot use
 */
export async function loadTaskDocs(dir: string, task: ZeroShotTask): Promise<TaskDocs> {
  const jsonl = join(dir, `${task.name}.jsonl`), parquet = join(dir, `${task.name}.parquet`);
  if (await isFile(jsonl)) {
    const where = (i: number) => `${jsonl} line ${i + 1}`;
    const lines = (await Deno.readTextFile(jsonl)).split("\n");
    if (lines.at(-1) === "") lines.pop();
    const docs = lines.map((line, i) => {
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (err) {
        throw new RangeError(`${where(i)}: not valid JSON (${(err as Error).message})`);
      }
      return checkDoc(task, v, where(i));
    });
    if (docs.length === 0) throw new RangeError(`${jsonl} is empty; expected one ${task.name} document per line`);
    return { path: jsonl, docs, where };
  }
  if (await isFile(parquet)) return await loadParquetDocs(task, [parquet]);
  throw new RangeError(
    `${task.name}: found neither ${jsonl} nor ${parquet}; expected the ${task.datasetPath}` +
      `${task.datasetName ? ` (${task.datasetName})` : ""} ${task.split} split in one of them`,
  );
}

/**
 * Reads and checks a task's split from parquet files (one `<task>.parquet`, or the Hub's
 * `<config>/<split>/NNNN.parquet` files in order), documents numbered across the files.
 * @throws RangeError naming the file (and row and field) for anything a task cannot use
 */
export async function loadParquetDocs(task: ZeroShotTask, files: readonly string[]): Promise<TaskDocs> {
  const docs: Doc[] = [];
  const starts: [number, string][] = []; // [first document index, file]
  for (const path of files) {
    const bytes = await Deno.readFile(path);
    let rows: Record<string, unknown>[];
    try {
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      rows = await parquetReadObjects({ file });
    } catch (err) {
      throw new RangeError(`${path} could not be read as parquet (${(err as Error).message})`);
    }
    starts.push([docs.length, path]);
    rows.forEach((r, i) => docs.push(checkDoc(task, plain(r), `${path} row ${i}`)));
  }
  if (docs.length === 0) throw new RangeError(`${files.join(", ")} has no rows; expected ${task.name} documents`);
  const where = (i: number) => {
    const [start, path] = starts.findLast(([s]) => s <= i)!;
    return `${path} row ${i - start}`;
  };
  return { path: files.length === 1 ? files[0] : dirname(files[0]), docs, where };
}
