/**
 * Notebooks are committed with outputs cleared: no outputs, `execution_count: null`, no execution
 * timing metadata. This module checks and clears that, writing JSON the way nbformat does (keys
 * sorted, one-space indent, a final newline) so a cleared notebook diffs cleanly against one saved
 * by Jupyter.
 *
 * CLI (`deno task notebooks:clear`):
 * ```
 * deno run -A kernel/clear_outputs.ts [--check] [notebook.ipynb | folder ...]   (default: notebooks/)
 * ```
 * `--check` changes nothing and exits 1 when a notebook has outputs.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** The parts of an nbformat 4 notebook this module touches. */
export interface Notebook {
  cells: {
    cell_type: string;
    execution_count?: number | null;
    outputs?: unknown[];
    metadata?: Record<string, unknown>;
    [key: string]: unknown;
  }[];
  [key: string]: unknown;
}

/**
 * What keeps a notebook from being committable.
 *
 * @param nb a parsed notebook
 * @returns one line per offending cell, e.g. "cell 3 has 2 outputs and execution_count 5"
 * @example
 * ```ts
 * outputProblems(JSON.parse(Deno.readTextFileSync("notebooks/01.ipynb")));
 * ```
 */
export function outputProblems(nb: Notebook): string[] {
  if (!Array.isArray(nb?.cells)) return ["not a notebook: no cells array"];
  const problems: string[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    const found: string[] = [];
    if ((cell.outputs?.length ?? 0) > 0) found.push(`${cell.outputs!.length} outputs`);
    if (cell.execution_count !== null && cell.execution_count !== undefined) {
      found.push(`execution_count ${cell.execution_count}`);
    }
    if (cell.metadata?.execution !== undefined) found.push("execution timing metadata");
    if (found.length > 0) problems.push(`cell ${i} has ${found.join(" and ")}`);
  });
  return problems;
}

/**
 * A copy of the notebook with every code cell's outputs, execution count and timing cleared.
 *
 * @param nb a parsed notebook
 * @returns the cleared copy
 */
export function clearOutputs(nb: Notebook): Notebook {
  return {
    ...nb,
    cells: nb.cells.map((cell) => {
      if (cell.cell_type !== "code") return cell;
      const metadata = { ...(cell.metadata ?? {}) };
      delete metadata.execution;
      return { ...cell, execution_count: null, outputs: [], metadata };
    }),
  };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * Notebook JSON as nbformat writes it: sorted keys, indent 1, non-ASCII kept, final newline.
 *
 * @param nb a notebook
 * @returns the file's text
 */
export function notebookJson(nb: Notebook): string {
  return JSON.stringify(sortKeys(nb), null, 1) + "\n";
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { check: { type: "boolean", default: false } },
  });
  const root = fileURLToPath(new URL("..", import.meta.url));
  const files: string[] = [];
  for (const p of positionals.length > 0 ? positionals : [join(root, "notebooks")]) {
    let isDirectory: boolean;
    try {
      isDirectory = Deno.statSync(p).isDirectory;
    } catch (err) {
      if (positionals.length === 0 && err instanceof Deno.errors.NotFound) continue; // no notebooks/ yet
      throw err;
    }
    if (isDirectory) {
      for (const e of Deno.readDirSync(p)) if (e.isFile && e.name.endsWith(".ipynb")) files.push(join(p, e.name));
    } else {
      files.push(p);
    }
  }
  let dirty = 0;
  for (const file of files.sort()) {
    const nb = JSON.parse(await Deno.readTextFile(file)) as Notebook;
    const problems = outputProblems(nb);
    if (problems.length === 0) continue;
    dirty++;
    if (values.check) {
      console.error(`${file}: ${problems.join("; ")}`);
    } else {
      const tmp = `${file}.tmp`;
      await Deno.writeTextFile(tmp, notebookJson(clearOutputs(nb)));
      await Deno.rename(tmp, file);
      console.log(`cleared ${file}`);
    }
  }
  if (values.check && dirty > 0) {
    console.error(`${dirty} notebook(s) have outputs; run \`deno task notebooks:clear\``);
    return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
