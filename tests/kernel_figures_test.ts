/**
 * kernel/ figures: MIME bundle structure, the plotly.js loader (inlined once per kernel session,
 * safe inside <script>), plotly JSON of each helper, text summaries, downsampling and input errors.
 * Rendering in a real browser (and Plotly.validate) is covered by tests/notebooks_test.ts.
 */
import { chromium } from "playwright-core";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  $display,
  barChart,
  closeFigureRenderer,
  downsample,
  Figure,
  type FigureJson,
  grid,
  heatmap,
  isDisplayable,
  lineChart,
  type MimeBundle,
  mimeBundle,
  PLOTLY_VERSION,
  plotlyLoader,
  scatter,
  show,
  STATIC_FIGURES_ENV,
  staticImagesEnabled,
  toMatrix,
} from "../kernel/mod.ts";
import { bundledPlotlyVersion, escapeScript, resetPlotlySession } from "../kernel/plotly.ts";
import { formatDuration, formatNumber } from "../kernel/format.ts";

const PLOTLY_MIME = "application/vnd.plotly.v1+json";
const LOADER_MARK = `plotly.js ${PLOTLY_VERSION} (MIT license`;

function countOf(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

function plotly(bundle: MimeBundle): FigureJson {
  return bundle[PLOTLY_MIME] as FigureJson;
}

Deno.test("the pinned plotly.js is the one bundled", () => {
  assertEquals(bundledPlotlyVersion(), PLOTLY_VERSION);
});

Deno.test("a figure's bundle has plotly JSON, offline HTML and a text summary", async () => {
  resetPlotlySession();
  const fig = heatmap([[1, 2], [3, 4]], { title: "H = 2/n XᵀX" });
  assert(isDisplayable(fig));
  const bundle = await mimeBundle(fig);
  assertEquals(Object.keys(bundle).sort(), [PLOTLY_MIME, "text/html", "text/plain"]);
  assertEquals(bundle["text/plain"], "heatmap 2x2 'H = 2/n XᵀX', min 1, max 4");
  // Valid JSON that round-trips exactly, with no typed arrays or NaN left in it.
  const json = plotly(bundle);
  assertEquals(JSON.parse(JSON.stringify(json)), json);
  assertEquals(json.data[0].type, "heatmap");
  assertEquals(json.data[0].z, [[1, 2], [3, 4]]);
  assertEquals(json.layout.title, { text: "H = 2/n XᵀX" });
  assertEquals(json.config.responsive, true);
  const html = bundle["text/html"] as string;
  assert(html.includes('class="thanos-plot"') && html.includes('type="application/json"'));
  assert(!/<script[^>]+src=/i.test(html), "the HTML must not load anything from the network");
});

Deno.test("plotly.js is inlined in the first figure of a session only", () => {
  resetPlotlySession();
  const html = (fig: Figure) => fig.interactiveBundle()["text/html"] as string;
  const first = html(lineChart([1, 2, 3]));
  const second = html(barChart({ a: 1, b: 2 }));
  const third = html(heatmap([[0]]));
  assertEquals(countOf(first, LOADER_MARK), 1);
  assert(first.length > 1_000_000, `the first figure carries the library (${first.length} chars)`);
  assertEquals(countOf(second, LOADER_MARK), 0);
  assertEquals(countOf(third, LOADER_MARK), 0);
  assert(second.length < 20_000);
  // Later figures wait for the library instead of assuming it: the loader drains this queue.
  assert(second.includes("window.__thanosPlotlyQueue"));
  assert(first.indexOf(LOADER_MARK) < first.indexOf('class="thanos-plot"'));
  // A new session (kernel restart) inlines it again; plotlyLoader() re-emits it on demand.
  resetPlotlySession();
  assertEquals(countOf(html(lineChart([1])), LOADER_MARK), 1);
  const loader = plotlyLoader()[$display]();
  assertEquals(countOf(loader["text/html"] as string, LOADER_MARK), 1);
  assertEquals(countOf(html(lineChart([1])), LOADER_MARK), 0);
});

Deno.test("the inlined library cannot end its <script> early", () => {
  assertEquals(
    escapeScript('a = "</script>"; b = "<!--"; c = "<SCRIPT>"'),
    'a = "\\x3C/script>"; b = "\\x3C!--"; c = "\\x3CSCRIPT>"',
  );
  resetPlotlySession();
  const html = heatmap([[1]]).interactiveBundle()["text/html"] as string;
  const loader = html.slice(0, html.indexOf('<div id="thanos-plot-'));
  assertEquals(countOf(loader.toLowerCase(), "</script"), 1);
  assertEquals(countOf(loader, "<!--"), 0);
});

Deno.test("figure JSON is escaped inside <script> and ids are unique per display", () => {
  resetPlotlySession();
  plotlyLoader()[$display]();
  const fig = lineChart([1, 2], { title: "</script><script>alert(1)</script>" });
  const a = fig.interactiveBundle()["text/html"] as string, b = fig.interactiveBundle()["text/html"] as string;
  assertEquals(countOf(a.toLowerCase(), "</script>"), 2); // the spec's and the drawing script's own
  assert(a.includes("\\u003c/script>"));
  const id = (h: string) => /id="(thanos-plot-[^"]+)"/.exec(h)![1];
  assert(id(a) !== id(b));
  assertEquals(plotly(fig.interactiveBundle()).layout.title, { text: "</script><script>alert(1)</script>" });
});

Deno.test("toHTML is a standalone page with the library", () => {
  const page = scatter([1, 2, 3]).toHTML("demo");
  assert(page.startsWith("<!DOCTYPE html>") && page.includes("<title>demo</title>"));
  assertEquals(countOf(page, LOADER_MARK), 1);
});

Deno.test("Figure copies typed arrays into plain JSON and rejects traceless figures", () => {
  const fig = new Figure({ kind: "line", data: [{ type: "scatter", y: new Float32Array([1.5, 2]) }], summary: "s" });
  assertEquals(fig.toJSON().data[0].y, [1.5, 2]);
  assertEquals(fig.height, 450);
  assertThrows(() => new Figure({ kind: "line", data: [], summary: "" }), RangeError, "needs at least one trace");
  assertThrows(
    () => new Figure({ kind: "line", data: [{ y: [1] } as never], summary: "" }),
    TypeError,
    'trace 0 of a line has no "type"',
  );
});

Deno.test("heatmap takes rows, {data, shape} and {data, rows, cols}; row 0 at the top", () => {
  const f32 = new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
  const a = plotly(heatmap({ data: f32, shape: [2, 3] }).interactiveBundle());
  const b = plotly(heatmap({ data: f32, rows: 2, cols: 3 }).interactiveBundle());
  const c = plotly(heatmap([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]).interactiveBundle());
  assertEquals(a.data[0].z, [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]); // float32 noise rounded away
  assertEquals(b.data, a.data);
  assertEquals(c.data, a.data);
  assertEquals((a.layout.yaxis as Record<string, unknown>).autorange, "reversed");
  const styled = plotly(
    heatmap([[1, -1]], { colorscale: "RdBu", zmid: 0, zmin: -2, zmax: 2, xLabel: "in", yLabel: "out" })
      .interactiveBundle(),
  );
  assertEquals(styled.data[0].colorscale, "RdBu");
  assertEquals([styled.data[0].zmin, styled.data[0].zmid, styled.data[0].zmax], [-2, 0, 2]);
  assertEquals((styled.layout.xaxis as { title: unknown }).title, { text: "in" });
});

Deno.test("heatmap summary reports non-finite cells; NaN becomes a gap (null)", () => {
  const fig = heatmap([[1, NaN], [Infinity, -2]]);
  assertEquals(fig.summary, "heatmap 2x2, min -2, max 1, 2 non-finite");
  assertEquals(fig.toJSON().data[0].z, [[1, null], [null, -2]]);
  assertEquals(heatmap([[NaN]]).summary, "heatmap 1x1, no finite values, 1 non-finite");
});

Deno.test("heatmap downsamples big matrices by block mean, keeping source indices on the axes", () => {
  const rows = 1000, cols = 513;
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = r % 2; // 0/1 stripes
  const fig = heatmap({ data, shape: [rows, cols] }, { title: "mask", downsample: { maxRows: 100, maxCols: 128 } });
  assertEquals(fig.summary, "heatmap 1000x513 'mask', min 0, max 1, shown as 100x128 (mean of blocks)");
  const trace = fig.toJSON().data[0];
  const z = trace.z as number[][];
  assertEquals([z.length, z[0].length], [100, 128]);
  for (const row of z) for (const v of row) assertEquals(v, 0.5); // blocks of 10 rows: half kept
  assertEquals((trace.y as number[]).slice(0, 3), [0, 10, 20]);
  assertEquals((trace.x as number[]).at(-1), Math.floor((127 * 513) / 128)); // 508: last block 508..512
  // The default limit is 256 x 256; `false` keeps every cell.
  const big = heatmap({ data, shape: [rows, cols] });
  assertEquals((big.toJSON().data[0].z as number[][]).length, 256);
  const full = heatmap({ data: data.subarray(0, 300 * 300), shape: [300, 300] }, { downsample: false });
  assertEquals((full.toJSON().data[0].z as number[][]).length, 300);
});

Deno.test("downsample reductions: mean, max, min, absmax; blocks skip non-finite cells", () => {
  const m = { data: [1, -5, NaN, 2, 3, 4, -1, 0], rows: 2, cols: 4 };
  const run = (reduce: "mean" | "max" | "min" | "absmax") =>
    Array.from(downsample(m, { maxRows: 1, maxCols: 2, reduce }).matrix.data);
  assertEquals(run("mean"), [(1 - 5 + 3 + 4) / 4, (2 - 1 + 0) / 3]);
  assertEquals(run("max"), [4, 2]);
  assertEquals(run("min"), [-5, -1]);
  assertEquals(run("absmax"), [-5, 2]);
  const ds = downsample({ data: [1, 2, 3, 4, 5, 6, 7], rows: 1, cols: 7 }, { maxCols: 3 });
  assertEquals(ds.colStarts, [0, 2, 4, 7]);
  assertEquals(Array.from(ds.matrix.data), [1.5, 3.5, 6]);
  assertEquals(Array.from(downsample({ data: [NaN, NaN], rows: 1, cols: 2 }, { maxCols: 1 }).matrix.data), [NaN]);
  assertThrows(() => downsample(m, { reduce: "median" as never }), RangeError, 'reduce is "median"');
  assertThrows(() => downsample(m, { maxRows: 0 }), RangeError, "maxRows is 0");
});

Deno.test("matrix input errors name the operation, the shape and what was expected", () => {
  assertThrows(
    () => heatmap({ data: new Float32Array(10), shape: [3, 4] }),
    RangeError,
    "heatmap: data has 10 values but the shape is 3x4; expected rows*cols = 12",
  );
  assertThrows(() => heatmap([[1, 2], [3]]), RangeError, "heatmap: row 1 has 1 values but row 0 has 2");
  assertThrows(() => heatmap([]), RangeError, "heatmap: got 0 rows");
  assertThrows(() => heatmap({ data: [1, 2], shape: [2] }), RangeError, "shape is [2]; expected a 2-D shape");
  assertThrows(() => heatmap({ data: [1, 2], rows: 2, cols: 0 }), RangeError, "cols is 0");
  assertThrows(() => heatmap("x" as never), TypeError, "expected an array of rows");
  assertThrows(() => heatmap([[1]], { zmin: 2, zmax: 1 }), RangeError, "zmin 2 is not below zmax 1");
  assertThrows(() => heatmap([[1]], { zmid: NaN }), RangeError, "zmid is NaN");
  assertEquals(toMatrix([[1, 2, 3]]).cols, 3);
});

Deno.test("lineChart and scatter: series forms, markers, log axes, summaries", () => {
  const single = lineChart(new Float32Array([3, 1, 2]), { title: "loss", xLabel: "step", logY: true });
  assertEquals(single.summary, "line chart 'loss', 1 series: series 0 (3 points, y 1 to 3)");
  const json = single.toJSON();
  assertEquals(json.data[0].y, [3, 1, 2]);
  assertEquals(json.data[0].mode, "lines+markers");
  assertEquals((json.layout.yaxis as Record<string, unknown>).type, "log");
  assertEquals(json.layout.showlegend, false);

  const named = lineChart({ thanos: [5.9, 6.8], wanda: [6.0, 7.3] });
  assertEquals(named.toJSON().data.map((t) => t.name), ["thanos", "wanda"]);
  assertEquals(named.toJSON().layout.showlegend, true);
  const long = lineChart([{ name: "ppl", x: Array.from({ length: 60 }, (_, i) => i / 10), y: new Array(60).fill(1) }]);
  assertEquals(long.toJSON().data[0].mode, "lines");
  assertEquals((long.toJSON().data[0].x as number[])[3], 0.3);
  const pts = scatter({ name: "cols", x: [1, 2], y: [3, 4] });
  assertEquals(pts.kind, "scatter");
  assertEquals(pts.toJSON().data[0].mode, "markers");
  assertEquals(pts.summary, "scatter, 1 series: cols (2 points, y 3 to 4)");

  assertThrows(() => lineChart({}), RangeError, "lineChart: got no series");
  assertThrows(() => lineChart([]), RangeError, "lineChart: series 0 has no points");
  assertThrows(
    () => lineChart({ name: "a", x: [1, 2, 3], y: [1, 2] }),
    RangeError,
    "lineChart: series 'a' has 3 x values but 2 y values; expected equal lengths",
  );
  assertThrows(() => scatter({ a: [] }), RangeError, "scatter: series 'a' has no points");
});

Deno.test("barChart: labelled bars and grouped series; categories stay categories", () => {
  const simple = barChart({ magnitude: 21.3, wanda: 9.81, thanos: 8.7 }, { title: "ppl", showValues: true });
  assertEquals(simple.summary, "bar chart 'ppl', 3 bars: magnitude 21.3, wanda 9.81, thanos 8.7");
  const t = simple.toJSON().data[0];
  assertEquals([t.x, t.y, t.text], [["magnitude", "wanda", "thanos"], [21.3, 9.81, 8.7], ["21.3", "9.81", "8.7"]]);
  assertEquals((simple.toJSON().layout.xaxis as Record<string, unknown>).type, "category");

  const grouped = barChart({
    categories: ["50%", "2:4"],
    series: [{ name: "thanos", values: [6.8, 8.1] }, { name: "wanda", values: new Float64Array([7.3, 9]) }],
  }, { horizontal: true, stacked: true });
  assertEquals(grouped.summary, "bar chart, 2 categories x 2 series (thanos, wanda), stacked");
  const g = grouped.toJSON();
  assertEquals([g.data[1].orientation, g.data[1].y, g.data[1].x], ["h", ["50%", "2:4"], [7.3, 9]]);
  assertEquals([g.layout.barmode, (g.layout.yaxis as Record<string, unknown>).type], ["stack", "category"]);

  assertThrows(() => barChart({}), RangeError, "barChart: got no bars");
  assertThrows(() => barChart({ a: "x" as never }), TypeError, "barChart: bar 'a' is string");
  assertThrows(
    () => barChart({ categories: ["a", "b"], series: [{ name: "s", values: [1] }] }),
    RangeError,
    "barChart: series 's' has 1 values but there are 2 categories",
  );
});

Deno.test("grid puts figures on subplots with their titles; shared colour scale spans all heatmaps", () => {
  const a = heatmap([[0, 1], [1, 0]], { title: "wanda" });
  const b = heatmap([[0, 3], [2, 0]], { title: "thanos" });
  const c = lineChart({ thanos: [1, 2] }, { title: "ppl" });
  const fig = grid([a, b, c], { title: "masks", columns: 2 });
  const json = fig.toJSON();
  assertEquals(fig.kind, "grid");
  assertEquals(json.data.map((t) => [t.xaxis, t.yaxis]), [["x", "y"], ["x2", "y2"], ["x3", "y3"]]);
  const axis = (name: string) => json.layout[name] as { domain: number[]; anchor: string };
  assertEquals(axis("xaxis3").anchor, "y3");
  assert(axis("xaxis").domain[1] < axis("xaxis2").domain[0], "columns do not overlap");
  assert(axis("yaxis3").domain[1] < axis("yaxis").domain[0], "rows do not overlap");
  for (const name of ["xaxis", "yaxis", "xaxis2", "yaxis2", "xaxis3", "yaxis3"]) {
    for (const v of axis(name).domain) assert(v >= 0 && v <= 1, `${name} domain ${axis(name).domain} inside [0, 1]`);
  }
  assertEquals((json.layout.yaxis2 as Record<string, unknown>).autorange, "reversed"); // kept from the heatmap
  const titles = (json.layout.annotations as { text: string }[]).map((n) => n.text);
  assertEquals(titles, ["wanda", "thanos", "ppl"]);
  assertEquals(fig.summary.split("\n")[0], "grid 2x2 'masks':");
  assertEquals(fig.summary.split("\n").length, 4);

  const shared = grid([a, b], { sharedColorScale: true }).toJSON();
  assertEquals(shared.data.map((t) => [t.zmin, t.zmax, t.showscale]), [[0, 3, false], [0, 3, true]]);

  assertThrows(() => grid([]), RangeError, "grid: got 0 figures");
  assertThrows(() => grid([grid([a])]), RangeError, "grid: figure 0 is itself a grid");
  assertThrows(() => grid([a], { columns: 0 }), RangeError, "grid: columns is 0");
  assertThrows(() => grid([a], { verticalSpacing: 0.7 }), RangeError, "verticalSpacing is 0.7");
});

Deno.test("show prints text/plain outside a notebook", async () => {
  const logged: unknown[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => logged.push(args.join(" "));
  try {
    await show(barChart({ a: 1 }), 42);
  } finally {
    console.log = log;
  }
  assertEquals(logged, ["bar chart, 1 bars: a 1", "42"]);
});

Deno.test("formatNumber and formatDuration", () => {
  assertEquals([formatNumber(3), formatNumber(Math.PI), formatNumber(-0.000123456), formatNumber(123456.7)], [
    "3",
    "3.142",
    "-1.235e-4",
    "123457",
  ]);
  assertEquals([formatNumber(NaN), formatNumber(-Infinity), formatNumber(2.5e12)], ["NaN", "-inf", "2500000000000"]);
  assertEquals([formatNumber(2.5e9 + 0.5), formatNumber(0.5, 2)], ["2.5e+9", "0.5"]);
  assertEquals([formatDuration(420), formatDuration(42_400), formatDuration(187_000), formatDuration(7_500_000)], [
    "0.4s",
    "42s",
    "3m 07s",
    "2h 05m",
  ]);
  assertEquals(formatDuration(NaN), "?");
});

Deno.test("heatmap values are sent with 4 significant digits (small kernel messages)", () => {
  const fig = heatmap([[0.123456789, 12345.678], [-0.000987654, NaN]]);
  assertEquals(fig.toJSON().data[0].z, [[0.1235, 12350], [-0.0009877, null]]);
});

Deno.test({
  name: "with static images on, a figure's bundle carries a PNG that plotly.js drew from the same JSON",
  sanitizeOps: false, // playwright keeps pipes to the browser across awaits; it is closed below
  sanitizeResources: false,
  fn: async () => {
    const previous = Deno.env.get(STATIC_FIGURES_ENV);
    Deno.env.set(STATIC_FIGURES_ENV, "1");
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
    try {
      assertEquals(staticImagesEnabled(), true);
      const dark = await mimeBundle(heatmap([[0, 1], [1, 0]], { colorscale: "Greys", title: "checker" }));
      const wide = await mimeBundle(lineChart([3, 1, 2], { width: 500, height: 300 }));
      assertEquals(Object.keys(dark).sort(), [PLOTLY_MIME, "image/png", "text/html", "text/plain"]);
      // What Chromium decodes from the PNG: its size, and how much of it is drawn (not white).
      const page = await browser.newPage();
      const inspect = (png: unknown) =>
        page.evaluate(async (src: string) => {
          // deno-lint-ignore no-explicit-any
          const doc = (globalThis as any).document;
          const img = doc.createElement("img");
          img.src = src;
          await img.decode();
          const canvas = doc.createElement("canvas");
          canvas.width = img.width, canvas.height = img.height;
          const ctx = canvas.getContext("2d");
          ctx.drawImage(img, 0, 0);
          const px = ctx.getImageData(0, 0, img.width, img.height).data;
          let drawn = 0;
          for (let i = 0; i < px.length; i += 4) if (px[i] + px[i + 1] + px[i + 2] < 600) drawn++;
          return { width: img.width, height: img.height, drawn: drawn / (img.width * img.height) };
        }, `data:image/png;base64,${png}`);
      const a = await inspect(dark["image/png"]), b = await inspect(wide["image/png"]);
      assertEquals([a.width, a.height, b.width, b.height], [900, 450, 500, 300]); // default width; the layout's size
      assert(a.drawn > 0.2, `the heatmap's cells are drawn: ${a.drawn}`);
      assert(b.drawn > 0.005 && b.drawn < 0.2, `a line and axes, not a filled area: ${b.drawn}`);
      Deno.env.set(STATIC_FIGURES_ENV, "0");
      assertEquals(Object.keys(await mimeBundle(lineChart([1, 2]))).includes("image/png"), false);
    } finally {
      if (previous === undefined) Deno.env.delete(STATIC_FIGURES_ENV);
      else Deno.env.set(STATIC_FIGURES_ENV, previous);
      await browser.close();
      await closeFigureRenderer();
    }
  },
});
