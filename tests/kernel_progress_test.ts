/**
 * kernel/progress.ts with a fake clock: notebook output (display_data then update_display_data for
 * one display id, throttled), the terminal line, periodic lines, ETA, event callbacks, errors.
 * The in-place update in a real kernel is checked by tests/notebooks_test.ts (demo notebook).
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { type JupyterApi, progress, type ProgressEvent, progressLine } from "../kernel/mod.ts";

function clock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

interface Sent {
  type: string;
  content: { data: Record<string, string>; metadata: unknown; transient: { display_id: string } };
}

function fakeJupyter(): { api: JupyterApi; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    api: {
      display: () => Promise.reject(new Error("progress must use broadcast")),
      broadcast: (type, content) => void sent.push({ type, content: content as Sent["content"] }),
    },
  };
}

Deno.test("notebook progress: one display id, display_data then throttled update_display_data", () => {
  const c = clock();
  const { api, sent } = fakeJupyter();
  const p = progress({ total: 4, label: "prune", output: "notebook", jupyter: api, now: c.now, minIntervalMs: 100 });
  assertEquals(sent.map((m) => m.type), ["display_data"]);
  c.advance(10);
  p.update(1, "layer 0"); // within 100 ms of the last draw: skipped
  c.advance(200);
  p.update(2, "layer 1");
  c.advance(10);
  p.update(4, "layer 3"); // the final count always draws
  p.done();
  p.done(); // idempotent
  assertEquals(sent.map((m) => m.type), [
    "display_data",
    "update_display_data",
    "update_display_data",
    "update_display_data",
  ]);
  const ids = new Set(sent.map((m) => m.content.transient.display_id));
  assertEquals(ids.size, 1);
  assert([...ids][0].startsWith("thanos-progress-"));
  const at2 = sent[1].content.data;
  assertEquals(
    at2["text/plain"],
    "prune [████████████░░░░░░░░░░░░]  50% · 2/4 · 0.2s elapsed · ETA 0.2s · 9.52/s · layer 1",
  );
  assert(at2["text/html"].includes("width:50.0%") && at2["text/html"].includes("layer 1"));
  const last = sent[3].content.data["text/plain"];
  assertEquals(last, "prune [████████████████████████] 100% · 4/4 · done in 0.2s · 18.2/s · layer 3");
  assertEquals(p.state.finished, true);
});

Deno.test("terminal progress redraws one line and ends it; lines output is periodic", () => {
  const c = clock();
  const out: string[] = [];
  const p = progress({ total: 10, output: "terminal", write: (s) => out.push(s), now: c.now });
  for (let i = 1; i <= 10; i++) {
    c.advance(60);
    p.update(i);
  }
  p.done("ok");
  assert(out.every((s) => s.startsWith("\r\x1b[2K")), "every draw rewrites the line");
  assertEquals(out.filter((s) => s.endsWith("\n")).length, 1);
  assert(out.length < 12 && out.length >= 6, `throttled to ~every 100 ms: ${out.length} draws`);
  assert(out.at(-1)!.includes("100% · 10/10 · done in 0.6s") && out.at(-1)!.includes("ok"));

  const lines: string[] = [];
  const q = progress({ total: 100, label: "eval", output: "lines", write: (s) => lines.push(s), now: c.now });
  for (let i = 1; i <= 100; i++) {
    c.advance(1000);
    q.update(i, `batch ${i}`);
  }
  q.done();
  // first line, one per 10 s over 100 s, and the final one
  assertEquals(lines.length, 1 + 10 + 1);
  assert(lines.every((s) => s.endsWith("\n") && !s.includes("\r")));
  assertEquals(lines[1], "eval [██░░░░░░░░░░░░░░░░░░░░░░]  10% · 10/100 · 10s elapsed · ETA 1m 30s · 1/s · batch 10\n");
  assert(lines.at(-1)!.includes("done in 1m 40s"));
});

Deno.test("progress accepts library events, including a corrected total", () => {
  const c = clock();
  const out: string[] = [];
  const p = progress({ total: 1, output: "lines", write: (s) => out.push(s), now: c.now, lineIntervalMs: 0 });
  const report: (e: ProgressEvent) => void = p.report;
  c.advance(1000);
  report({ done: 3, total: 12, message: "block 3" });
  assertEquals([p.state.done, p.state.total, p.state.message], [3, 12, "block 3"]);
  assertEquals(p.state.etaMs, 3000);
  p.update({ done: 4 });
  assertEquals(p.state.message, "block 3"); // kept until replaced
  assertEquals(out.length, 3);
});

Deno.test("progress with total 0 is complete; using finishes it", () => {
  const out: string[] = [];
  {
    using p = progress({ total: 0, output: "lines", write: (s) => out.push(s) });
    assertEquals(p.state.done, 0);
  }
  assert(out.at(-1)!.includes("100% · 0/0 · done in"));
});

Deno.test("progressLine before any unit is done shows an unknown ETA", () => {
  assertEquals(
    progressLine({ label: "", done: 0, total: 5, message: "", elapsedMs: 0, etaMs: undefined, finished: false }),
    "[░░░░░░░░░░░░░░░░░░░░░░░░]   0% · 0/5 · 0.0s elapsed · ETA ?",
  );
});

Deno.test("progress errors name the bar and the values", () => {
  const quiet = { output: "silent" as const };
  assertThrows(
    () => progress({ total: -1, ...quiet }),
    RangeError,
    "progress: total is -1; expected a non-negative integer",
  );
  assertThrows(() => progress({ total: 2.5, label: "x", ...quiet }), RangeError, "progress 'x': total is 2.5");
  const p = progress({ total: 10, label: "prune", ...quiet });
  assertThrows(
    () => p.update(11),
    RangeError,
    "progress 'prune': done is 11 but total is 10; expected 0 <= done <= total",
  );
  assertThrows(() => p.update(NaN), RangeError, "done is NaN");
  assertThrows(() => p.report({ done: 1, total: -3 }), RangeError, "total is -3");
  p.done();
  assertThrows(() => p.update(1), Error, "progress 'prune': update after done()");
  assertThrows(
    () => progress({ total: 1, output: "bogus" as never }),
    RangeError,
    'output is "bogus"; expected one of',
  );
  assertThrows(
    () => progress({ total: 1, output: "notebook" }),
    Error,
    'output is "notebook" but this is not a Jupyter kernel',
  );
});

Deno.test("auto output outside a notebook writes to stderr, a line at a time when it is not a TTY", async () => {
  const code = `
    import { progress } from "${new URL("../kernel/mod.ts", import.meta.url).href}";
    const p = progress({ total: 3, label: "auto" });
    p.update(1); p.update(2); p.update(3); p.done();`;
  const { stdout, stderr, code: status } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assertEquals(status, 0);
  assertEquals(new TextDecoder().decode(stdout), "");
  const lines = new TextDecoder().decode(stderr).split("\n").filter((l) => l.startsWith("auto "));
  assertEquals(lines.length, 2, `first and final lines only:\n${lines.join("\n")}`);
  assert(lines[0].includes("0% · 0/3") && lines[1].includes("100% · 3/3 · done in"));
});
