import { assertEquals } from "./assert.ts";
import { COLUMNS, comparisonEntries, comparisonMarkdown, ROWS } from "../thanos/comparison.ts";

Deno.test("the paper's table: structured is Thanos-only, alpha only for n:m and structured", () => {
  const entries = comparisonEntries();
  const cell = (row: string) => entries.filter((e) => e.row === row).map((e) => e.column);
  assertEquals(cell("dense"), [null]);
  assertEquals(cell("magnitude"), ["unstructured 50%", "4:8", "2:4"]);
  assertEquals(cell("thanos (alpha 0)"), ["unstructured 50%", "4:8", "2:4", "structured 30%"]);
  assertEquals(cell("thanos (alpha 0.1)"), ["4:8", "2:4", "structured 30%"]);
  assertEquals(entries.length, 17);
  const t = entries.find((e) => e.row === "thanos (alpha 0.1)" && e.column === "structured 30%")!.options!;
  assertEquals([t.method, t.pattern.kind, t.sparsity, t.alpha], ["thanos", "structured", 0.3, 0.1]);
});

Deno.test("the table as markdown: dense in every column, a dash where a method does not apply", () => {
  const results = comparisonEntries().map((e, i) => ({ row: e.row, column: e.column, perplexity: 10 + i }));
  const lines = comparisonMarkdown(results).split("\n");
  assertEquals(lines.length, 2 + ROWS.length);
  assertEquals(lines[0], `| method | ${COLUMNS.map(([c]) => c).join(" | ")} |`);
  assertEquals(lines[2], "| dense | 10.00 | 10.00 | 10.00 | 10.00 |");
  assertEquals(lines[3], "| magnitude | 11.00 | 12.00 | 13.00 | — |");
  assertEquals(lines[7], "| thanos (alpha 0.1) | — | 24.00 | 25.00 | 26.00 |");
});
