/**
 * kernel/histogram.ts and kernel/crop.ts: the plotly JSON and text summary of histograms, crop
 * windows, and their input errors. Rendering in a browser is covered by tests/notebooks_test.ts
 * (the notebooks use both).
 */
import { assertEquals, assertThrows } from "./assert.ts";
import { crop, type FigureJson, heatmap, histogram } from "../kernel/mod.ts";

const PLOTLY_MIME = "application/vnd.plotly.v1+json";

Deno.test("histogram: raw values for plotly to bin, integer bins on request, a summary", () => {
  const fig = histogram(new Uint32Array([3, 1, 2, 3, 3]), { title: "|q_r|", xLabel: "removed", binSize: 1 });
  const json = fig.interactiveBundle()[PLOTLY_MIME] as FigureJson;
  assertEquals(json.data.length, 1);
  assertEquals(json.data[0].type, "histogram");
  assertEquals(json.data[0].x, [3, 1, 2, 3, 3]);
  assertEquals(json.data[0].xbins, { start: 0.5, end: 3.5, size: 1 });
  assertEquals(json.layout.yaxis, { title: { text: "count" } });
  assertEquals(json.layout.showlegend, false);
  assertEquals(fig.kind, "histogram");
  assertEquals(fig.summary, "histogram '|q_r|', 5 values from 1 to 3");
});

Deno.test("histogram: several sets overlaid, non-finite values left out, automatic bins", () => {
  const fig = histogram({ before: [1, 2, NaN], after: [0.5, Infinity, 4] }, { logY: true });
  const json = fig.toJSON();
  assertEquals(json.data.map((t) => [t.name, t.x, t.opacity, t.xbins]), [
    ["before", [1, 2], 0.6, undefined],
    ["after", [0.5, 4], 0.6, undefined],
  ]);
  assertEquals(json.layout.barmode, "overlay");
  assertEquals(json.layout.yaxis, { title: { text: "count" }, type: "log" });
  assertEquals(fig.summary, "histogram, before: 2 values from 1 to 2; after: 2 values from 0.5 to 4");
});

Deno.test("histogram: bad input is named", () => {
  assertThrows(() => histogram({}), RangeError, "histogram: got no values; expected numbers or {name: numbers}");
  assertThrows(() => histogram([NaN]), RangeError, "histogram: set '0' has no finite values (1 given)");
  assertThrows(
    () => histogram([1, 2], { binSize: 0 }),
    RangeError,
    "histogram: binSize is 0; expected a finite number > 0",
  );
});

Deno.test("crop: a window of rows and columns, all by default", () => {
  const m = { data: Float32Array.from({ length: 12 }, (_, i) => i), shape: [3, 4] };
  assertEquals(crop(m, { rows: [1, 3], cols: [1, 3] }), { data: new Float64Array([5, 6, 9, 10]), rows: 2, cols: 2 });
  assertEquals(crop(m, { cols: [3, 4] }), { data: new Float64Array([3, 7, 11]), rows: 3, cols: 1 });
  assertEquals(crop([[1, 2]], {}).data, new Float64Array([1, 2]));
  assertEquals(heatmap(crop(m, { rows: [0, 1] })).summary, "heatmap 1x4, min 0, max 3");
});

Deno.test("crop: windows outside the matrix are named", () => {
  const m = { data: new Float32Array(12), rows: 3, cols: 4 };
  assertThrows(
    () => crop(m, { rows: [0, 4] }),
    RangeError,
    "crop: rows [0, 4) do not fit the 3x4 matrix; expected integers 0 <= start < end <= 3",
  );
  assertThrows(() => crop(m, { cols: [2, 2] }), RangeError, "crop: cols [2, 2) do not fit the 3x4 matrix");
  assertThrows(() => crop(m, { cols: [0.5, 2] }), RangeError, "crop: cols [0.5, 2)");
});
