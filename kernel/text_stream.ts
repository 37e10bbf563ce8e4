/**
 * Text that grows in place as it is produced — generated tokens streamed into a cell's output.
 *
 * In a notebook it is one output replaced as text arrives (a `display_data` message with a
 * `display_id`, then `update_display_data` for that id, sent with `Deno.jupyter.broadcast` like
 * {@link progress}). Outside a notebook the pieces are written to stdout as they come.
 *
 * @module
 */

import { jupyter, type JupyterApi, type MimeBundle } from "./display.ts";
import { escapeHtml } from "./figure.ts";

/** Options of {@link textStream}. */
export interface TextStreamOptions {
  /** shown in bold before the text */
  label?: string;
  /** the kernel's display API (default: `Deno.jupyter`; none outside a notebook) */
  jupyter?: JupyterApi;
  /** sink outside a notebook (default: stdout) */
  write?: (text: string) => void;
}

/** A live text output. */
export interface TextStream {
  /** Adds text (a decoded token) and redraws. */
  append(text: string): void;
  /** All text so far. */
  readonly text: string;
}

let nextId = 0;

/** The notebook rendering: the label and the text so far, whitespace kept. */
export function textStreamBundle(label: string, text: string): MimeBundle {
  const head = label ? `<b>${escapeHtml(label)}</b> ` : "";
  return {
    "text/plain": label ? `${label} ${text}` : text,
    "text/html": `<div style="font-family:monospace;white-space:pre-wrap">${head}${escapeHtml(text)}</div>`,
  };
}

/**
 * Starts a text output that {@link TextStream.append} extends in place.
 *
 * @example
 * ```ts
 * const out = textStream({ label: "dense:" });
 * await generate(model, tokenizer, "The state of the Union is", { onToken: (_id, text) => out.append(text) });
 * ```
 */
export function textStream(options: TextStreamOptions = {}): TextStream {
  const api = options.jupyter ?? jupyter();
  const label = options.label ?? "";
  const write = options.write ?? ((t: string) => void Deno.stdout.writeSync(new TextEncoder().encode(t)));
  const displayId = `thanos-text-${Deno.pid}-${nextId++}`;
  let text = "";
  const draw = (type: "display_data" | "update_display_data") => {
    const sent = api!.broadcast(type, {
      data: textStreamBundle(label, text),
      metadata: {},
      transient: { display_id: displayId },
    });
    if (sent instanceof Promise) sent.catch((err) => console.error(`textStream: display failed: ${err}`));
  };
  if (api) draw("display_data");
  else if (label) write(`${label} `);
  return {
    append(piece: string) {
      if (piece === "") return;
      text += piece;
      if (api) draw("update_display_data");
      else write(piece);
    },
    get text() {
      return text;
    },
  };
}
