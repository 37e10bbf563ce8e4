/**
 * Tables (e.g. methods x sparsity patterns -> perplexity) as HTML in a notebook and aligned text
 * elsewhere.
 *
 * @module
 */

import { $display, type Displayable, type MimeBundle } from "./display.ts";
import { escapeHtml } from "./figure.ts";
import { formatNumber } from "./format.ts";

/** A table cell. `null`/`undefined` print as empty. */
export type Cell = string | number | boolean | null | undefined;

/** Options of {@link table}. */
export interface TableOptions {
  /**
   * Column order and selection. Required for rows given as arrays; for objects the default is
   * every key in order of first appearance.
   */
  columns?: readonly string[];
  title?: string;
  /** Significant digits of non-integer numbers (default 4). */
  digits?: number;
}

/**
 * A table: {@link table} builds it; shown as HTML in a notebook, as aligned columns in text.
 *
 * @example
 * ```ts
 * const t = table([{ method: "thanos", ppl: 6.81 }]);
 * console.log(t.toString());
 * ```
 */
export class Table implements Displayable {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  readonly title?: string;
  readonly #digits: number;

  constructor(columns: readonly string[], rows: readonly (readonly Cell[])[], title?: string, digits = 4) {
    this.columns = columns;
    this.rows = rows;
    this.title = title;
    this.#digits = digits;
  }

  /** How a cell prints. */
  format(cell: Cell): string {
    if (cell === null || cell === undefined) return "";
    if (typeof cell === "number") return formatNumber(cell, this.#digits);
    return String(cell);
  }

  /** A column is numeric (right-aligned) when every non-empty cell is a number. */
  #numeric(j: number): boolean {
    let any = false;
    for (const row of this.rows) {
      const v = row[j];
      if (v === null || v === undefined) continue;
      if (typeof v !== "number") return false;
      any = true;
    }
    return any;
  }

  /** Aligned plain text: title, header, rule, rows. */
  toString(): string {
    const cells = this.rows.map((row) => this.columns.map((_, j) => this.format(row[j])));
    const width = this.columns.map((h, j) => Math.max(h.length, ...cells.map((row) => row[j].length)));
    const numeric = this.columns.map((_, j) => this.#numeric(j));
    const line = (values: string[]) =>
      values.map((v, j) => numeric[j] ? v.padStart(width[j]) : v.padEnd(width[j])).join("  ").trimEnd();
    const out = [line([...this.columns]), width.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)];
    if (this.title) out.unshift(this.title);
    return out.join("\n");
  }

  /** An HTML `<table>` with inline styles (no stylesheet needed), numbers right-aligned. */
  toHTML(): string {
    const numeric = this.columns.map((_, j) => this.#numeric(j));
    const align = (j: number) => `text-align:${numeric[j] ? "right" : "left"};padding:2px 10px`;
    const head = this.columns.map((h, j) => `<th style="${align(j)}">${escapeHtml(h)}</th>`).join("");
    const body = this.rows.map((row) =>
      `<tr>${
        this.columns.map((_, j) => `<td style="${align(j)}">${escapeHtml(this.format(row[j]))}</td>`).join("")
      }</tr>`
    ).join("\n");
    const caption = this.title
      ? `<caption style="text-align:left;font-weight:bold;padding:4px 0">${escapeHtml(this.title)}</caption>`
      : "";
    return `<table class="thanos-table" style="border-collapse:collapse;font-variant-numeric:tabular-nums">` +
      `${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
  }

  /** Jupyter display: HTML and aligned text. */
  [$display](): MimeBundle {
    return { "text/html": this.toHTML(), "text/plain": this.toString() };
  }
}

/**
 * A table from row objects or row arrays.
 *
 * @param rows objects (`{method: "thanos", ppl: 6.8}`) or arrays (then `options.columns` names them)
 * @param options column order, title, number precision
 * @returns a displayable table
 * @example
 * ```ts
 * table([
 *   { method: "wanda", "50%": 7.26, "2:4": 11.5 },
 *   { method: "thanos", "50%": 6.81, "2:4": 9.9 },
 * ], { title: "perplexity" });
 * ```
 */
export function table(rows: readonly (Record<string, Cell> | readonly Cell[])[], options: TableOptions = {}): Table {
  const { title, digits = 4 } = options;
  if (!Number.isInteger(digits) || digits < 1 || digits > 17) {
    throw new RangeError(`table: digits is ${digits}; expected an integer in [1, 17]`);
  }
  if (!Array.isArray(rows)) throw new TypeError("table: expected an array of rows");
  const arrays = rows.filter((r) => Array.isArray(r)).length;
  if (arrays > 0 && arrays < rows.length) {
    throw new TypeError("table: rows mix arrays and objects; expected all arrays or all objects");
  }
  if (arrays > 0) {
    const columns = options.columns;
    if (!columns) throw new TypeError("table: rows are arrays; expected options.columns to name the columns");
    rows.forEach((r, i) => {
      if ((r as readonly Cell[]).length !== columns.length) {
        throw new RangeError(
          `table: row ${i} has ${(r as readonly Cell[]).length} cells but there are ${columns.length} columns; ` +
            "expected one cell per column",
        );
      }
    });
    return new Table([...columns], rows as readonly (readonly Cell[])[], title, digits);
  }
  const objects = rows as readonly Record<string, Cell>[];
  const columns = options.columns ? [...options.columns] : [...new Set(objects.flatMap((r) => Object.keys(r)))];
  if (columns.length === 0) throw new RangeError("table: no columns; expected rows with keys or options.columns");
  return new Table(columns, objects.map((r) => columns.map((c) => r[c])), title, digits);
}
