/**
 * Static images of plotly figures, rendered by plotly.js itself in headless Chromium.
 *
 * A figure's display bundle carries its plotly JSON (JupyterLab, VS Code) and HTML that draws it
 * with JavaScript. Viewers that run no JavaScript — GitHub's notebook preview, nbviewer, the
 * markdown pages in docs/ — need a picture: {@link figurePng} draws the same JSON with
 * `Plotly.toImage` in a Chromium page and returns the PNG. One browser and one page serve a whole
 * kernel session: started on the first figure (about a second), then each figure costs one
 * `toImage` call; inside a notebook the browser starts when this module is imported, so its start
 * overlaps the notebook's first cells instead of delaying its first figure. The system Chromium is used (`/usr/bin/chromium` or `$THANOS_CHROMIUM`, started
 * with `--no-sandbox`, as in containers), through playwright-core; nothing is downloaded.
 *
 * {@link staticImagesEnabled} decides whether figures carry the image: inside a notebook by default,
 * elsewhere only when `THANOS_STATIC_FIGURES=1` (`=0` turns it off everywhere).
 *
 * @module
 */

import { type Browser, chromium, type Page } from "playwright-core";
import { isNotebook } from "./display.ts";
import type { FigureJson } from "./figure.ts";
import { plotlyLoaderHtml } from "./plotly.ts";

/** The environment variable that switches static figure images on ("1") or off ("0"). */
export const STATIC_FIGURES_ENV = "THANOS_STATIC_FIGURES";

/** Width in CSS pixels of a figure's image when its layout sets none (a notebook column). */
export const STATIC_WIDTH = 900;

/**
 * Whether figure bundles should carry a static PNG: `THANOS_STATIC_FIGURES` when set ("1"/"true"/
 * "yes" or "0"/"false"/"no"), otherwise only inside a notebook kernel.
 *
 * @returns true to render images
 */
export function staticImagesEnabled(): boolean {
  const value = Deno.env.get(STATIC_FIGURES_ENV)?.trim().toLowerCase();
  if (value === "1" || value === "true" || value === "yes") return true;
  if (value === "0" || value === "false" || value === "no") return false;
  return isNotebook();
}

interface Renderer {
  browser: Browser;
  page: Page;
}

/** The session's renderer lives on globalThis, so a module re-imported under another URL shares it. */
const RENDERER_KEY = Symbol.for("thanos.kernel.figureRenderer");
type Session = Record<symbol, Promise<Renderer> | undefined>;

async function startRenderer(): Promise<Renderer> {
  const executablePath = Deno.env.get("THANOS_CHROMIUM") ?? "/usr/bin/chromium";
  const browser = await chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  });
  try {
    const page = await browser.newPage();
    await page.route(
      "**/*",
      (route) => /^(file|data|blob|about):/.test(route.request().url()) ? route.continue() : route.abort(),
    );
    // 4.8 MB of plotly.js to parse: on a machine at load 27 that took over playwright's default 30 s
    await page.setContent(
      `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>${plotlyLoaderHtml()}</body></html>`,
      {
        timeout: 300_000,
      },
    );
    return { browser, page };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

function renderer(): Promise<Renderer> {
  const session = globalThis as unknown as Session;
  let started = session[RENDERER_KEY];
  if (!started) {
    started = startRenderer();
    session[RENDERER_KEY] = started;
    // a failed start is not cached: the next figure tries again
    started.catch(() => delete session[RENDERER_KEY]);
  }
  return started;
}

// Start the browser now when figures will need it (a failed start is reported by the first figure).
if (staticImagesEnabled()) renderer().catch(() => {});

/**
 * Draws a figure with plotly.js in headless Chromium.
 *
 * @param figure the figure's plotly JSON (`Figure.toJSON()`)
 * @param options.width CSS pixels (default: the layout's width, else {@link STATIC_WIDTH})
 * @param options.height CSS pixels (default: the layout's height, else 450)
 * @returns the PNG, base64-encoded as Jupyter's `image/png` wants it
 * @throws Error when Chromium cannot start or plotly.js cannot draw the figure
 * @example
 * ```ts
 * const png = await figurePng(lineChart([3, 1, 2]).toJSON());
 * ```
 */
export async function figurePng(
  figure: FigureJson,
  options: { width?: number; height?: number } = {},
): Promise<string> {
  const width = options.width ?? (typeof figure.layout.width === "number" ? figure.layout.width : STATIC_WIDTH);
  const height = options.height ?? (typeof figure.layout.height === "number" ? figure.layout.height : 450);
  const { page } = await renderer();
  const url = await page.evaluate(async ({ data, layout, width, height }) => {
    // deno-lint-ignore no-explicit-any
    const plotly = (globalThis as any).Plotly;
    return await plotly.toImage({ data, layout: { ...layout, width, height } }, {
      format: "png",
      width,
      height,
      scale: 1,
    });
  }, { data: figure.data, layout: figure.layout, width, height });
  const prefix = "data:image/png;base64,";
  if (typeof url !== "string" || !url.startsWith(prefix)) throw new Error("Plotly.toImage did not return a PNG");
  return url.slice(prefix.length);
}

/** Stops the session's browser, if one was started (tests; a kernel's browser ends with the kernel). */
export async function closeFigureRenderer(): Promise<void> {
  const session = globalThis as unknown as Session;
  const started = session[RENDERER_KEY];
  delete session[RENDERER_KEY];
  if (started) await (await started).browser.close().catch(() => {});
}
