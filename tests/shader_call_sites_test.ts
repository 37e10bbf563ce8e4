/**
 * Every `launch(gpu, "shader", { bindings }, { params: { … } })` call in thanos/ names exactly the
 * storage bindings and Params fields its shader declares — read from the TypeScript source, so a
 * field deleted from a kernel's `// #params` or a renamed `// #binding` fails here, naming the
 * shader, the call site and the field, even for a kernel whose own test does not run it with those
 * options.
 * (At run time `launch` checks the same and more: value kinds, binding sizes.)
 *
 * A call whose shader is not a string literal must be listed in DYNAMIC with the shaders it may
 * launch; bindings and params must be object literals (spreads of a `const` literal of the same
 * file are followed).
 */
import { assert, assertEquals } from "./assert.ts";
import { shaderInterface } from "../thanos/gpu/pipelines.ts";

/** call sites (file:shader expression) whose shader is chosen at run time, and the shaders it may be */
const DYNAMIC: Record<string, readonly string[]> = {
  "thanos/linalg/matmul.ts:shader": ["matmul_register", "matmul_register_vec4", "matmul_tiled"],
  "thanos/linalg/matmul.ts:kernel": ["matmul_texture", "matmul_texture_vec4"],
  "thanos/model/ops.ts:shader": ["nll", "token_logprob"],
  "thanos/model/ops.ts:kernel": ["attention_texture", "attention_texture_hd32"],
  "thanos/model/ops.ts:ropeKernel": ["rope", "rope_vec4"],
  "thanos/model/ops.ts:addKernel": ["residual_add", "residual_add_vec4"],
  "thanos/linalg/select.ts:histogramKernel": ["select_histogram", "select_histogram_vec4"],
  "thanos/linalg/select.ts:tieCountKernel": ["select_tie_count", "select_tie_count_vec4"],
  "thanos/linalg/select.ts:maskKernel": ["select_mask", "select_mask_vec4"],
  "thanos/linalg/select.ts:bracketKernel": ["select_bracket", "select_bracket_vec4"],
  "thanos/linalg/mask.ts:scoresKernel": ["wanda_scores", "wanda_scores_vec4"],
  "thanos/linalg/mask.ts:applyKernel": ["apply_mask", "apply_mask_vec4"],
  "thanos/linalg/mask.ts:countKernel": ["count_mask", "count_mask_vec4"],
  "thanos/prune/ops.ts:setsKernel": ["removal_sets", "removal_sets_vec4"],
};

interface CallSite {
  file: string;
  line: number;
  shader: string;
  bindings: string[] | null;
  params: string[] | null;
}

/**
 * The characters of `text` from `from` on that lie outside string literals, with the bracket depth
 * after each (an opening bracket counts in its own depth, a closing one does not).
 */
function* unquoted(text: string, from = 0): Generator<{ i: number; c: string; depth: number }> {
  let depth = 0, quote: string | null = null;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    yield { i, c, depth };
  }
}

/** The top-level comma-separated parts of `text` (brackets and strings respected). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (const { i, c, depth } of unquoted(text)) {
    if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Index just past the bracket that closes the one at `open`. */
function closing(text: string, open: number): number {
  for (const { i, c, depth } of unquoted(text, open)) {
    if (")]}".includes(c) && depth === 0) return i + 1;
  }
  throw new Error(`unbalanced brackets from offset ${open}`);
}

/** `text` without its line and block comments (strings respected). */
function stripComments(text: string): string {
  let out = "", quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      out += c;
      if (c === "\\") out += text[++i];
      else if (c === quote) quote = null;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2) + 2;
      out += text.slice(i, end).replace(/[^\n]/g, ""); // keep the line numbers
      i = end - 1;
    } else {
      if (c === '"' || c === "'" || c === "`") quote = c;
      out += c;
    }
  }
  return out;
}

/**
 * Keys of an object literal `{ a, b: x, "c": y, ...v }`, where a spread `...v` names a
 * `const v = { … }` literal of the same file; null for anything else.
 */
function literalKeys(text: string, file = ""): string[] | null {
  const t = text.trim();
  if (!t.startsWith("{") || closing(t, 0) !== t.length) return null;
  const keys: string[] = [];
  for (const entry of splitTopLevel(t.slice(1, -1))) {
    if (entry.startsWith("...")) {
      const decl = new RegExp(`\\bconst ${entry.slice(3).trim()} = \\{`).exec(file);
      const spread = decl
        ? literalKeys(file.slice(decl.index + decl[0].length - 1, closing(file, decl.index + decl[0].length - 1)), file)
        : null;
      if (!spread) return null;
      keys.push(...spread);
      continue;
    }
    const m = /^["']?([A-Za-z_$][\w$]*)["']?\s*(:|$)/.exec(entry);
    if (!m) return null;
    keys.push(m[1]);
  }
  return keys;
}

function callSites(file: string): CallSite[] {
  const text = stripComments(Deno.readTextFileSync(new URL(`../${file}`, import.meta.url)));
  const sites: CallSite[] = [];
  for (const m of text.matchAll(/\blaunch\(/g)) {
    const open = m.index! + "launch".length;
    const args = splitTopLevel(text.slice(open + 1, closing(text, open) - 1));
    if (args.length < 4) continue; // the definition, or a call this test cannot read
    const line = text.slice(0, m.index).split("\n").length;
    const literal = /^"([\w]+)"$/.exec(args[1]);
    const options = splitTopLevel(args[3].trim().replace(/^\{|\}$/g, ""));
    const paramsEntry = options.find((o) => /^params\s*:/.test(o));
    sites.push({
      file,
      line,
      shader: literal ? literal[1] : args[1],
      bindings: literalKeys(args[2], text),
      params: paramsEntry === undefined ? [] : literalKeys(paramsEntry.replace(/^params\s*:/, ""), text),
    });
  }
  return sites;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(new URL(`../${dir}/`, import.meta.url))) {
    if (e.isDirectory) out.push(...sourceFiles(`${dir}/${e.name}`));
    else if (e.name.endsWith(".ts")) out.push(`${dir}/${e.name}`);
  }
  return out.sort();
}

const SITES = sourceFiles("thanos").filter((f) => f !== "thanos/gpu/launch.ts").flatMap(callSites);

Deno.test("launch call sites are found", () => {
  assert(SITES.length >= 40, `found only ${SITES.length} launch calls in thanos/`);
});

Deno.test("every launch call site names exactly its shader's bindings and Params fields", () => {
  const problems: string[] = [];
  for (const site of SITES) {
    const where = `${site.file}:${site.line}`;
    const shaders = /^\w+$/.test(site.shader) && !(`${site.file}:${site.shader}` in DYNAMIC)
      ? [site.shader]
      : DYNAMIC[`${site.file}:${site.shader}`];
    if (!shaders) {
      problems.push(`${where}: shader ${site.shader} is chosen at run time; list its shaders in DYNAMIC`);
      continue;
    }
    if (site.bindings === null || site.params === null) {
      problems.push(`${where}: launch of ${shaders.join("/")} passes bindings or params that are not object literals`);
      continue;
    }
    for (const shader of shaders) {
      const iface = shaderInterface(shader);
      const compare = (what: string, given: string[], declared: string[]) => {
        for (const name of declared) {
          if (!given.includes(name)) {
            problems.push(`${where}: shader "${shader}" declares ${what} "${name}", not passed`);
          }
        }
        for (const name of given) {
          if (!declared.includes(name)) {
            problems.push(`${where}: shader "${shader}" has no ${what} "${name}" (it declares ${declared.join(", ")})`);
          }
        }
      };
      compare("binding", site.bindings, iface.storage.map((b) => b.name));
      compare("Params field", site.params, iface.params.map((f) => f.name));
    }
  }
  assertEquals(problems, []);
});

Deno.test("the checker reads call sites as written", () => {
  assertEquals(literalKeys("{ x, y: v.tensor, 'z': 1 }"), ["x", "y", "z"]);
  assertEquals(literalKeys("{ ...b }"), null);
  assertEquals(literalKeys("{ ...view, k }", "const view = { n, cols: 1 };"), ["n", "cols", "k"]);
  assertEquals(stripComments('a, // b\n c /* d */ "//e"'), 'a, \n c  "//e"');
  assertEquals(splitTopLevel('a, f(b, c), { d, e }, "f,g"'), ["a", "f(b, c)", "{ d, e }", '"f,g"']);
});
