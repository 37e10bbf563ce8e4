/**
 * Jupyter's display protocol as Deno's kernel speaks it.
 *
 * An object is shown in a notebook through a method keyed by `Symbol.for("Jupyter.display")` that
 * returns a MIME bundle (`{"text/plain": …, "text/html": …, …}`); Deno's kernel calls it when the
 * object is a cell's last expression or is passed to `Deno.jupyter.display`. Every helper in
 * kernel/ returns such an object, so figures and tables are plain values that tests can inspect
 * without a kernel.
 *
 * `Deno.jupyter` exists only inside `deno jupyter` (elsewhere reading it throws), so it is reached
 * through {@link jupyter}, which returns `undefined` outside a notebook.
 *
 * @module
 */

/** The key of the display method (`Deno.jupyter.$display` inside a kernel). */
export const $display: unique symbol = Symbol.for("Jupyter.display");

/** MIME type → representation, e.g. `{"text/plain": "…", "text/html": "<b>…</b>"}`. */
export type MimeBundle = Record<string, unknown>;

/** Anything Deno's kernel can show through the display protocol. */
export interface Displayable {
  [$display](): MimeBundle | Promise<MimeBundle>;
}

/** Options of `Deno.jupyter.display` (Deno 2.9). */
export interface JupyterDisplayOptions {
  /** `obj` is already a MIME bundle (default false: it is formatted through its display method). */
  raw?: boolean;
  /** Send `update_display_data` for an existing `display_id` instead of a new `display_data`. */
  update?: boolean;
  /** Id that later updates refer to. */
  display_id?: string;
}

/** The part of Deno 2.9's `Deno.jupyter` namespace that kernel/ uses. */
export interface JupyterApi {
  /** Formats `obj` and publishes it as `display_data` (or `update_display_data`). */
  display(obj: unknown, options?: JupyterDisplayOptions): Promise<void>;
  /**
   * Publishes a message on the IOPub channel; synchronous in Deno 2.9 (older releases returned a
   * promise), so messages sent inside a busy loop leave immediately.
   */
  broadcast(
    msgType: string,
    content: Record<string, unknown>,
    extra?: { metadata?: Record<string, unknown>; buffers?: ArrayBuffer[] },
  ): void | Promise<void>;
}

/**
 * `Deno.jupyter` when running inside Deno's Jupyter kernel, else `undefined`.
 *
 * @returns the kernel's display API, or `undefined` outside a notebook
 * @example
 * ```ts
 * const api = jupyter();
 * if (api) await api.display(heatmap([[1, 2], [3, 4]]));
 * ```
 */
export function jupyter(): JupyterApi | undefined {
  try {
    return (Deno as unknown as { jupyter?: JupyterApi }).jupyter;
  } catch {
    return undefined; // the getter throws outside `deno jupyter`
  }
}

/** True inside Deno's Jupyter kernel. */
export function isNotebook(): boolean {
  return jupyter() !== undefined;
}

/** True when `value` has a display method. */
export function isDisplayable(value: unknown): value is Displayable {
  return typeof value === "object" && value !== null && typeof (value as Displayable)[$display] === "function";
}

/**
 * The MIME bundle of a displayable object.
 *
 * @param value an object with a display method
 * @returns its bundle
 * @example
 * ```ts
 * const bundle = await mimeBundle(table([{ a: 1 }]));
 * console.log(bundle["text/plain"]);
 * ```
 */
export async function mimeBundle(value: Displayable): Promise<MimeBundle> {
  return await value[$display]();
}

/**
 * Shows each item: in a notebook as rich output (one `display_data` each, so several figures can
 * come out of one cell), elsewhere as its `text/plain` on stdout.
 *
 * @param items figures, tables or any value
 * @returns when every item has been published
 * @example
 * ```ts
 * await show(heatmap(w, { title: "W" }), heatmap(mask, { title: "mask" }));
 * ```
 */
export async function show(...items: unknown[]): Promise<void> {
  const api = jupyter();
  for (const item of items) {
    if (api) {
      await api.display(item);
    } else if (isDisplayable(item)) {
      const text = (await mimeBundle(item))["text/plain"];
      console.log(typeof text === "string" ? text : String(item));
    } else {
      console.log(item);
    }
  }
}
