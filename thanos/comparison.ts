/**
 * The paper's comparison table as data: which methods (rows) and sparsity patterns (columns) it
 * compares, which entries apply, and the table as markdown — shared by `deno task table` and
 * notebook 05, so both run and print the same table.
 *
 * Rows are the dense model and magnitude, Wanda, SparseGPT, Thanos (alpha 0) and Thanos (alpha 0.1);
 * columns unstructured 50%, 4:8, 2:4 and structured 30%. Structured is Thanos-only, as in the paper,
 * and alpha applies to the n:m and structured patterns only.
 *
 * Every pruned entry calibrates block 0 on the same inputs through the same dense weights, so
 * `deno task table` computes those statistics once and shares them across its entries
 * (`SharedFirstBlock` in pipeline.ts; tests/shared_stats_test.ts checks that the table is the same
 * bit for bit). Later blocks see what each method's pruned blocks produced and are not shared.
 *
 * @module
 */

import { type PruneOptions, type PruneOptionsInput, resolvePruneOptions } from "./prune/options.ts";

/** A row's options without its pattern and sparsity (null = the dense model). */
export type ComparisonRow = Omit<PruneOptionsInput, "pattern" | "sparsity"> | null;

/** Table rows: label → options (null = the dense model). */
export const ROWS: [string, ComparisonRow][] = [
  ["dense", null],
  ["magnitude", { method: "magnitude" }],
  ["wanda", { method: "wanda" }],
  ["sparsegpt", { method: "sparsegpt" }],
  ["thanos (alpha 0)", { method: "thanos" }],
  ["thanos (alpha 0.1)", { method: "thanos", alpha: 0.1 }],
];

/** Table columns: label → pattern and sparsity. */
export const COLUMNS: [string, { pattern: string; sparsity?: number }][] = [
  ["unstructured 50%", { pattern: "unstructured", sparsity: 0.5 }],
  ["4:8", { pattern: "4:8" }],
  ["2:4", { pattern: "2:4" }],
  ["structured 30%", { pattern: "structured", sparsity: 0.3 }],
];

/** Whether a cell is part of the paper's comparison. */
export function applies(row: ComparisonRow, pattern: string): boolean {
  if (row === null) return true;
  if (pattern === "structured") return row.method === "thanos";
  if ((row.alpha ?? 0) > 0) return pattern !== "unstructured";
  return true;
}

/** One entry of the table to run: its row and column labels and validated options (null: dense, one entry). */
export interface ComparisonEntry {
  row: string;
  column: string | null;
  options: PruneOptions | null;
}

/**
 * Every entry of the table that applies, in row-major order, with its options validated.
 *
 * @returns the dense entry (column null) and one entry per applicable (row, column)
 * @example
 * ```ts
 * for (const e of comparisonEntries()) console.log(e.row, e.column, e.options?.pattern);
 * ```
 */
export function comparisonEntries(): ComparisonEntry[] {
  return ROWS.flatMap(([row, r]): ComparisonEntry[] =>
    r === null ? [{ row, column: null, options: null }] : COLUMNS.filter(([, c]) => applies(r, c.pattern))
      .map(([column, c]) => ({ row, column, options: resolvePruneOptions({ ...r, ...c } as PruneOptionsInput) }))
  );
}

/**
 * The results as a markdown table (rows × columns; "—" where a method does not apply).
 *
 * @param results one per entry run (the dense one has column null)
 * @param format what an entry shows (default: its perplexity to 2 decimals)
 * @returns the table
 */
export function comparisonMarkdown<R extends { row: string; column: string | null; perplexity: number }>(
  results: R[],
  format: (r: R) => string = (r) => r.perplexity.toFixed(2),
): string {
  const dense = results.find((r) => r.column === null);
  const lines = [
    `| method | ${COLUMNS.map(([c]) => c).join(" | ")} |`,
    `|---|${COLUMNS.map(() => "---:").join("|")}|`,
  ];
  for (const [row] of ROWS) {
    const cells = COLUMNS.map(([column]) => {
      const r = row === "dense" ? dense : results.find((x) => x.row === row && x.column === column);
      return r ? format(r) : "—";
    });
    lines.push(`| ${row} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
