/**
 * Progress of long loops, updated in place.
 *
 * In a notebook the bar is one output that is replaced as work advances: a `display_data` message
 * with a `display_id`, then `update_display_data` messages for that id, sent with
 * `Deno.jupyter.broadcast` (synchronous in Deno 2.9, so updates leave even while a loop never
 * yields). Outside a notebook it is one line on stderr redrawn with `\r` when stderr is a
 * terminal, and otherwise (CI logs, pipes) a line every `lineIntervalMs` plus the first and last.
 *
 * thanos/ never prints; its long operations take a `(event: {done, total?, message?}) => void`
 * callback, and `progress(...).report` is such a callback.
 *
 * @module
 */

import { jupyter, type JupyterApi, type MimeBundle } from "./display.ts";
import { escapeHtml } from "./figure.ts";
import { formatDuration, formatNumber } from "./format.ts";

/** What library code reports: `done` of `total` units, and what it is working on. */
export interface ProgressEvent {
  done: number;
  /** Replaces the total when the reporter knows better (e.g. after counting layers). */
  total?: number;
  message?: string;
}

/** A progress callback, as long-running thanos/ functions accept. */
export type ProgressCallback = (event: ProgressEvent) => void;

/**
 * Where progress goes: "notebook" (an output updated in place), "terminal" (one redrawn stderr
 * line), "lines" (periodic stderr lines), "silent"; "auto" (default) picks notebook inside a
 * Jupyter kernel, else terminal when stderr is a TTY, else lines.
 */
export type ProgressOutput = "auto" | "notebook" | "terminal" | "lines" | "silent";

/** Options of {@link progress}. */
export interface ProgressOptions {
  /** Number of units of work (layers, columns, batches). */
  total: number;
  label?: string;
  output?: ProgressOutput;
  /** Least time between redraws in a notebook or terminal (default 100 ms); the last count always shows. */
  minIntervalMs?: number;
  /** Least time between lines in "lines" output (default 10 s). */
  lineIntervalMs?: number;
  /** Sink of "terminal" and "lines" output (default: stderr). */
  write?: (text: string) => void;
  /** The kernel's display API (default: `Deno.jupyter`). */
  jupyter?: JupyterApi;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

/** A snapshot of a progress bar. */
export interface ProgressState {
  label: string;
  done: number;
  total: number;
  message: string;
  elapsedMs: number;
  /** Estimated time to finish; undefined before the first unit is done. */
  etaMs: number | undefined;
  finished: boolean;
}

/** A live progress display. */
export interface Progress {
  /** Sets the count (and optionally the message); redraws at most every `minIntervalMs`. */
  update(done: number, message?: string): void;
  /** Applies a reported event. */
  update(event: ProgressEvent): void;
  /** `update` as a callback to hand to library code. */
  readonly report: ProgressCallback;
  /** Finishes: draws the final state (with the total time) and ends the terminal line. Idempotent. */
  done(message?: string): void;
  /** The current state. */
  readonly state: ProgressState;
  /** `using p = progress(...)` finishes it at the end of the scope. */
  [Symbol.dispose](): void;
}

const BAR = 24;
const OUTPUTS: readonly ProgressOutput[] = ["auto", "notebook", "terminal", "lines", "silent"];

function rate(state: ProgressState): string | undefined {
  if (state.done <= 0 || state.elapsedMs <= 0) return undefined;
  const perS = state.done / (state.elapsedMs / 1000);
  return perS >= 1 ? `${formatNumber(perS, 3)}/s` : `${formatDuration(1000 / perS)}/unit`;
}

function fractionOf(state: ProgressState): number {
  return state.total === 0 ? 1 : state.done / state.total;
}

function details(state: ProgressState): string[] {
  const parts = [`${Math.floor(fractionOf(state) * 100)}%`, `${state.done}/${state.total}`];
  if (state.finished) {
    parts.push(`done in ${formatDuration(state.elapsedMs)}`);
  } else {
    parts.push(`${formatDuration(state.elapsedMs)} elapsed`);
    parts.push(`ETA ${state.etaMs === undefined ? "?" : formatDuration(state.etaMs)}`);
  }
  const r = rate(state);
  if (r) parts.push(r);
  if (state.message) parts.push(state.message);
  return parts;
}

/**
 * One line of text for a progress state.
 *
 * @param state the snapshot
 * @returns e.g. "prune [█████████░░░░░░░░░░░░░░░]  35% · 7/20 · 12s elapsed · ETA 22s · 0.58/s · layer 7"
 */
export function progressLine(state: ProgressState): string {
  const filled = Math.round(fractionOf(state) * BAR);
  const bar = "█".repeat(filled) + "░".repeat(BAR - filled);
  const [pct, ...rest] = details(state);
  return `${state.label ? state.label + " " : ""}[${bar}] ${pct.padStart(4)} · ${rest.join(" · ")}`;
}

/**
 * The notebook rendering of a progress state: an HTML bar and the text line.
 *
 * @param state the snapshot
 * @returns a MIME bundle
 */
export function progressBundle(state: ProgressState): MimeBundle {
  const pct = (fractionOf(state) * 100).toFixed(1);
  const color = state.finished ? "#54a24b" : "#4c78a8";
  const html = `<div class="thanos-progress" style="font:13px monospace;white-space:nowrap">` +
    (state.label ? `<span>${escapeHtml(state.label)}</span> ` : "") +
    `<span style="display:inline-block;width:240px;height:10px;background:#e4e4e4;border-radius:3px;` +
    `vertical-align:middle;overflow:hidden"><span style="display:block;width:${pct}%;height:100%;` +
    `background:${color}"></span></span> <span>${escapeHtml(details(state).join(" · "))}</span></div>`;
  return { "text/html": html, "text/plain": progressLine(state) };
}

function stderrWriter(): (text: string) => void {
  const encoder = new TextEncoder();
  return (text) => {
    const bytes = encoder.encode(text);
    let off = 0;
    while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
  };
}

function resolveOutput(output: ProgressOutput, api: JupyterApi | undefined): ProgressOutput {
  if (!OUTPUTS.includes(output)) {
    throw new RangeError(`progress: output is "${output}"; expected one of ${OUTPUTS.join(", ")}`);
  }
  if (output !== "auto") return output;
  if (api) return "notebook";
  return Deno.stderr.isTerminal() ? "terminal" : "lines";
}

/**
 * Starts a progress display and draws it at 0.
 *
 * @param options total, label, output and throttling
 * @returns the handle to update and finish
 * @example
 * ```ts
 * const p = progress({ total: layers.length, label: "prune" });
 * for (const [i, layer] of layers.entries()) {
 *   await pruneLayer(layer);
 *   p.update(i + 1, layer.name);
 * }
 * p.done();
 *
 * // or let library code report through a callback:
 * await prunePipeline(model, { onProgress: progress({ total: 1, label: "pipeline" }).report });
 * ```
 */
export function progress(options: ProgressOptions): Progress {
  const label = options.label ?? "";
  const name = label ? `progress '${label}'` : "progress";
  const checkTotal = (total: unknown): number => {
    if (typeof total !== "number" || !Number.isInteger(total) || total < 0) {
      throw new RangeError(`${name}: total is ${String(total)}; expected a non-negative integer`);
    }
    return total;
  };
  let total = checkTotal(options.total);
  const minIntervalMs = options.minIntervalMs ?? 100;
  const lineIntervalMs = options.lineIntervalMs ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const api = options.jupyter ?? (options.output === undefined || options.output === "auto" ||
      options.output === "notebook"
    ? jupyter()
    : undefined);
  const output = resolveOutput(options.output ?? "auto", api);
  if (output === "notebook" && !api) {
    throw new Error(`${name}: output is "notebook" but this is not a Jupyter kernel (Deno.jupyter is unavailable)`);
  }
  const write = options.write ?? stderrWriter();
  const displayId = `thanos-progress-${crypto.randomUUID()}`;
  const start = now();
  let done = 0, message = "", finished = false;
  let lastDraw = -Infinity, drawnOnce = false;

  const state = (): ProgressState => {
    const elapsedMs = Math.max(0, now() - start);
    const etaMs = done > 0 && !finished ? (elapsedMs * (total - done)) / done : undefined;
    return { label, done, total, message, elapsedMs, etaMs, finished };
  };

  const draw = (force: boolean) => {
    const t = now();
    const interval = output === "lines" ? lineIntervalMs : minIntervalMs;
    if (!force && t - lastDraw < interval) return;
    lastDraw = t;
    const s = state();
    switch (output) {
      case "notebook": {
        const sent = api!.broadcast(drawnOnce ? "update_display_data" : "display_data", {
          data: progressBundle(s),
          metadata: {},
          transient: { display_id: displayId },
        });
        // Older Deno returned a promise; surface a failure instead of an unhandled rejection.
        if (sent instanceof Promise) sent.catch((err) => console.error(`${name}: display failed: ${err}`));
        break;
      }
      case "terminal":
        write(`\r\x1b[2K${progressLine(s)}${s.finished ? "\n" : ""}`);
        break;
      case "lines":
        write(`${progressLine(s)}\n`);
        break;
    }
    drawnOnce = true;
  };

  function update(doneOrEvent: number | ProgressEvent, msg?: string): void {
    if (finished) throw new Error(`${name}: update after done()`);
    const event = typeof doneOrEvent === "number" ? { done: doneOrEvent, message: msg } : doneOrEvent;
    if (event === null || typeof event !== "object") {
      throw new TypeError(`${name}: expected update(done, message?) or update({done, total?, message?})`);
    }
    if (event.total !== undefined) total = checkTotal(event.total);
    if (typeof event.done !== "number" || !Number.isFinite(event.done) || event.done < 0 || event.done > total) {
      throw new RangeError(`${name}: done is ${event.done} but total is ${total}; expected 0 <= done <= total`);
    }
    done = event.done;
    if (event.message !== undefined) message = String(event.message);
    // The final count is always drawn, so a fast loop still ends on 100%.
    draw(output !== "lines" && done === total);
  }

  function finish(msg?: string): void {
    if (finished) return;
    if (msg !== undefined) message = msg;
    finished = true;
    draw(true);
  }

  draw(true);
  return {
    update,
    report: (event: ProgressEvent) => update(event),
    done: finish,
    get state() {
      return state();
    },
    [Symbol.dispose]: () => finish(),
  };
}
