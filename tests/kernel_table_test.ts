/** kernel/table.ts: HTML and aligned text, column handling, escaping, input errors. */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { $display, table } from "../kernel/mod.ts";

Deno.test("table from row objects: aligned text, numbers right-aligned, union of keys as columns", () => {
  const t = table([
    { method: "magnitude", "50%": 17.29, "2:4": 60.1 },
    { method: "thanos", "50%": 6.812345 },
  ], { title: "perplexity" });
  assertEquals(t.columns, ["method", "50%", "2:4"]);
  assertEquals(
    t.toString(),
    [
      "perplexity",
      "method       50%   2:4",
      "---------  -----  ----",
      "magnitude  17.29  60.1",
      "thanos     6.812",
    ].join("\n"),
  );
  const bundle = t[$display]();
  assertEquals(Object.keys(bundle).sort(), ["text/html", "text/plain"]);
  assertEquals(bundle["text/plain"], t.toString());
  const html = bundle["text/html"] as string;
  assert(html.startsWith('<table class="thanos-table"'));
  assert(html.includes("<caption") && html.includes(">perplexity</caption>"));
  assert(html.includes('<td style="text-align:right;padding:2px 10px">17.29</td>'));
  assert(html.includes('<td style="text-align:left;padding:2px 10px">thanos</td>'));
  assertEquals(html.split("<tr>").length - 1, 3); // header + 2 rows
});

Deno.test("table from row arrays with named columns, chosen columns, digits, escaping", () => {
  const t = table([["<b>x</b>", 1 / 3, true], ["y", null, false]], { columns: ["name", "v", "ok"], digits: 2 });
  assertEquals(t.toString().split("\n").slice(2), ["<b>x</b>  0.33  true", "y               false"]);
  const html = t.toHTML();
  assert(html.includes("&lt;b&gt;x&lt;/b&gt;") && !html.includes("<b>x</b>"));
  const picked = table([{ a: 1, b: 2, c: 3 }], { columns: ["c", "a"] });
  assertEquals(picked.rows, [[3, 1]]);
});

Deno.test("table input errors", () => {
  assertThrows(() => table([[1, 2]]), TypeError, "table: rows are arrays; expected options.columns");
  assertThrows(
    () => table([[1, 2]], { columns: ["a"] }),
    RangeError,
    "table: row 0 has 2 cells but there are 1 columns; expected one cell per column",
  );
  assertThrows(() => table([[1], { a: 1 }] as never), TypeError, "table: rows mix arrays and objects");
  assertThrows(() => table([]), RangeError, "table: no columns");
  assertThrows(() => table([{ a: 1 }], { digits: 0 }), RangeError, "table: digits is 0");
});
