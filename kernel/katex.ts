/**
 * KaTeX for exported notebook pages that work offline.
 *
 * The notebooks' markdown cells write their equations as `$…$` (inline) and `$$…$$` (display).
 * nbconvert leaves them as TeX source; {@link katexPageHtml} is the snippet the headless runner
 * (run_notebooks.ts) puts at the end of an exported page's body: KaTeX's stylesheet with its fonts
 * inlined as `data:` URLs, KaTeX itself and its auto-render extension (npm `katex`, pinned in
 * deno.json, MIT licence), and a call that typesets the markdown cells — and only them, so a `$` in
 * a code cell or an output stays as it is. No CDN: the page needs no network.
 *
 * The call marks `<html data-thanos-math="done">` when it finished (the page check waits for it) and
 * reports every formula KaTeX cannot parse as a console error (which fails the page check).
 *
 * @module
 */

import katexSource from "katex/dist/katex.min.js" with { type: "text" };
import autoRenderSource from "katex/dist/contrib/auto-render.min.js" with { type: "text" };
import katexCss from "katex/dist/katex.min.css" with { type: "text" };
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { escapeScript } from "./plotly.ts";

/** The pinned KaTeX version (deno.json's `katex/` import). */
export const KATEX_VERSION = "0.19.1";

/** CSS selector of the elements typeset: the rendered markdown cells of nbconvert's lab template. */
export const MATH_SCOPE = ".jp-MarkdownOutput";

/** The delimiters the notebooks use (and GitHub's markdown understands), display ones first. */
const DELIMITERS = [
  { left: "$$", right: "$$", display: true },
  { left: "$", right: "$", display: false },
  { left: "\\[", right: "\\]", display: true },
  { left: "\\(", right: "\\)", display: false },
];

/** KaTeX's stylesheet with each `@font-face` reduced to its woff2 file, inlined. */
function inlineFontsCss(): string {
  const require = createRequire(import.meta.url);
  const fontsDir = join(dirname(require.resolve("katex/dist/katex.min.css")), "fonts");
  return katexCss.replace(/src:url\(fonts\/([\w-]+\.woff2)\) format\("woff2"\)[^;}]*/g, (_, file: string) => {
    const bytes = Deno.readFileSync(join(fontsDir, file));
    return `src:url(data:font/woff2;base64,${Buffer.from(bytes).toString("base64")}) format("woff2")`;
  });
}

let cached: string | undefined;

/**
 * The `<style>` and `<script>` elements that typeset a notebook page's equations.
 *
 * @returns HTML for the end of the page's body (about 0.8 MB, fonts included)
 * @example
 * ```ts
 * const page = html.replace("</body>", katexPageHtml() + "</body>");
 * ```
 */
export function katexPageHtml(): string {
  if (cached) return cached;
  const css = inlineFontsCss();
  if (/url\(fonts\//.test(css)) throw new Error("katex.min.css: a font is not in the expected woff2 form");
  cached = `<style>/* KaTeX ${KATEX_VERSION} (MIT license) */\n${css.replace(/<\/style/gi, "<\\/style")}</style>
<script type="text/javascript">
/* KaTeX ${KATEX_VERSION} and its auto-render extension (MIT license), inlined by thanos-webgpu kernel/ */
(function () {
  var module, exports, define; // keep the bundles' UMD wrappers on their browser path
${escapeScript(katexSource)}
${escapeScript(autoRenderSource)}
})();
(function () {
  var scopes = document.querySelectorAll(${JSON.stringify(MATH_SCOPE)});
  for (var i = 0; i < scopes.length; i++) {
    window.renderMathInElement(scopes[i], {
      delimiters: ${JSON.stringify(DELIMITERS)},
      throwOnError: false,
      errorCallback: function (msg, err) { console.error("KaTeX: " + msg + " " + err); },
    });
  }
  var bad = document.querySelectorAll(".katex-error");
  for (var j = 0; j < bad.length; j++) console.error("KaTeX could not typeset: " + bad[j].getAttribute("title"));
  document.documentElement.setAttribute("data-thanos-math", "done");
})();
</script>`;
  return cached;
}
