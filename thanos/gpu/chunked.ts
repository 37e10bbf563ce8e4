/**
 * Tensors larger than one storage binding: the one mechanism every kernel gets for free.
 *
 * A tensor lives in one GPUBuffer up to the device's `maxBufferSize` (2 GiB on llvmpipe, more on most
 * GPUs), but a shader can bind at most `maxStorageBufferBindingSize` bytes of it at once (128 MiB on
 * llvmpipe and in browsers by default): Llama-2-7B's MLP weights (11008 x 4096 f32, 180 MB) and its
 * down-projection Hessian (11008² f32, 485 MB) exceed it. When a launch binds a buffer larger than the
 * limit, it binds that buffer as K consecutive ranges of `chunkBytes` (a multiple of the offset
 * alignment) on K bindings, and compiles a variant of the kernel in which the one declaration
 * `var<storage, …> name: array<T>` became K declarations `name_c0 … name_c{K-1}` and every access
 * `name[i]` an accessor call: `name_ld(i)` for a read, `name_st(i, v)` for a store, a compound
 * assignment `name[i] op= v` both. The accessor picks the chunk (`i / C`, C elements a chunk: a shift
 * when C is a power of two, as it is at the real limits) and indexes it; the arithmetic is unchanged,
 * so a kernel's results are bit for bit those of the unsplit kernel. Kernels are written as if every
 * tensor fit; the variant is made only where one does not.
 *
 * What a kernel must follow for this (the shaders do; {@link splitBindings} throws otherwise, naming
 * the shader and the binding): a storage binding is accessed only by indexing it by name — no
 * `&name[i]` (atomics stay on small status/counter buffers), no in-place write of a component
 * (`name[i].x = v`), no function-scope name that shadows it; `arrayLength(&name)` is supported.
 * Element types: 4-byte scalars and vectors of them.
 *
 * The variant's lines are those of the original source (declarations and accessors are added on the
 * declaration's line and after the last line), so compiler messages keep pointing at the right file
 * and line.
 *
 * @module
 */

/** How one storage binding is split: `chunks` ranges of `chunkBytes` bytes (the last may be shorter). */
export interface BindingSplit {
  /** the binding's name in the shader */
  readonly name: string;
  /** number of chunks K ≥ 2 */
  readonly chunks: number;
}

/** A kernel variant: which bindings are split, and the chunk size they share. */
export interface SplitPlan {
  /** bytes of each chunk but the last, a multiple of 256 (the storage offset alignment) */
  readonly chunkBytes: number;
  readonly splits: readonly BindingSplit[];
}

/** The binding numbers of one split binding's chunks (chunk 0 keeps the original number). */
export interface ChunkBindings {
  readonly name: string;
  readonly bindings: readonly number[];
}

/** Cache key of a variant (empty for the unsplit kernel). */
export function splitKey(plan: SplitPlan | undefined): string {
  if (!plan || plan.splits.length === 0) return "";
  return `${plan.chunkBytes}:${plan.splits.map((s) => `${s.name}*${s.chunks}`).join(",")}`;
}

const DECL =
  /@group\(0\)\s*@binding\((\d+)\)\s*var\s*<\s*storage\s*,\s*(read|read_write)\s*>\s*(\w+)\s*:\s*array<([^;]+)>\s*;/g;

/** Bytes of one element of a storage array type (`f32`, `vec4f`, `vec4<f32>`, …); null if unsupported. */
export function elementBytes(type: string): number | null {
  const t = type.replace(/\s+/g, "");
  if (/^(f32|u32|i32)$/.test(t)) return 4;
  const v = /^vec([234])(?:[fiu]|<(?:f32|u32|i32)>)$/.exec(t);
  if (v) return { 2: 8, 3: 16, 4: 16 }[v[1] as "2" | "3" | "4"]!;
  return null;
}

/**
 * The WGSL of `shader` with the bindings of `plan` split into chunks, and the binding numbers of the
 * chunks. New bindings are numbered after the largest one the shader uses.
 *
 * @param shader the shader's name, for messages
 * @param code its expanded WGSL
 * @throws Error naming the shader and the binding when a binding cannot be split (not a runtime-sized
 *   array of a supported type, taken by address, written by component, or shadowed)
 */
export function splitBindings(
  shader: string,
  code: string,
  plan: SplitPlan,
): { code: string; chunks: ChunkBindings[] } {
  const fail = (name: string, why: string) =>
    new Error(`Shader "${shader}.wgsl": binding "${name}" cannot be split across storage bindings: ${why}`);
  // comments out (newlines kept, so line numbers stay), then the declarations
  let src = code.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " ")).replace(/\/\/[^\n]*/g, "");
  let next = 1 + Math.max(-1, ...[...src.matchAll(/@binding\((\d+)\)/g)].map((m) => Number(m[1])));
  const chunks: ChunkBindings[] = [];
  const accessors: string[] = [];
  for (const { name, chunks: k } of plan.splits) {
    if (!Number.isInteger(k) || k < 2) throw fail(name, `${k} chunks; expected an integer ≥ 2`);
    const decl = [...src.matchAll(DECL)].find((m) => m[3] === name);
    if (!decl) throw fail(name, "expected a declaration `var<storage, read|read_write> name: array<T>`");
    const [whole, binding, access, , type] = decl;
    const bytes = elementBytes(type);
    if (bytes === null) throw fail(name, `element type ${type.trim()} (expected a 4-byte scalar or a vector of them)`);
    if (plan.chunkBytes % 256 !== 0 || plan.chunkBytes <= 0) {
      throw fail(name, `chunks of ${plan.chunkBytes} bytes (expected a positive multiple of 256)`);
    }
    const c = plan.chunkBytes / bytes;
    const shadow = new RegExp(`\\b(?:let|var|const)\\s+${name}\\b|[(,]\\s*${name}\\s*:`);
    if (shadow.test(src.replace(whole, ""))) throw fail(name, "a function-scope name shadows it");
    const numbers = [Number(binding)];
    for (let i = 1; i < k; i++) numbers.push(next++);
    chunks.push({ name, bindings: numbers });
    const decls = numbers.map((b, i) =>
      `@group(0) @binding(${b}) var<storage, ${access}> ${name}_c${i}: array<${type}>;`
    );
    src = src.replace(whole, decls.join(" "));
    const t = type.trim();
    const cases = (body: (i: number, j: string) => string) =>
      numbers.map((_, i) => {
        const j = i === 0 ? "i" : `i - ${i * c}u`;
        return i < k - 1 ? `    case ${i}u: { ${body(i, j)} }` : `    default: { ${body(i, j)} }`;
      }).join("\n");
    accessors.push(
      `fn ${name}_ld(i: u32) -> ${t} {\n  switch i / ${c}u {\n${
        cases((x, j) => `return ${name}_c${x}[${j}];`)
      }\n  }\n}`,
      `fn ${name}_len() -> u32 {\n  return ${(k - 1) * c}u + arrayLength(&${name}_c${k - 1});\n}`,
    );
    if (access === "read_write") {
      accessors.push(
        `fn ${name}_st(i: u32, v: ${t}) {\n  switch i / ${c}u {\n${
          cases((x, j) => `${name}_c${x}[${j}] = v;`)
        }\n  }\n}`,
      );
    }
  }
  const names = plan.splits.map((s) => s.name);
  for (const name of names) {
    src = src.replace(new RegExp(`arrayLength\\s*\\(\\s*&\\s*${name}\\s*\\)`, "g"), `${name}_len()`);
  }
  return { code: `${rewriteAccesses(src, names, fail)}\n\n${accessors.join("\n\n")}\n`, chunks };
}

/** Replaces every `name[expr]` of the split bindings by accessor calls (recursively inside `expr`). */
function rewriteAccesses(src: string, names: readonly string[], fail: (name: string, why: string) => Error): string {
  const access = new RegExp(`(?<![\\w.])(${names.join("|")})\\s*\\[`, "g");
  let out = "";
  let at = 0;
  for (;;) {
    access.lastIndex = at;
    const m = access.exec(src);
    if (!m) break;
    const name = m[1];
    const open = m.index + m[0].length - 1;
    const close = matching(src, open);
    if (close < 0) throw fail(name, `unbalanced brackets after ${name}[`);
    if (/&\s*$/.test(src.slice(0, m.index))) throw fail(name, `its address is taken (&${name}[…])`);
    const index = `u32(${rewriteAccesses(src.slice(open + 1, close), names, fail)})`;
    out += src.slice(at, m.index);
    const rest = src.slice(close + 1);
    const assign = /^\s*(\+|-|\*|\/|%|&|\||\^|<<|>>)?=(?!=)/.exec(rest);
    if (assign) {
      const end = statementEnd(src, close + 1 + assign[0].length);
      if (end < 0) throw fail(name, `no ';' after an assignment to ${name}[…]`);
      const value = rewriteAccesses(src.slice(close + 1 + assign[0].length, end), names, fail).trim();
      out += assign[1]
        ? `{ let i_${name} = ${index}; ${name}_st(i_${name}, ${name}_ld(i_${name}) ${assign[1]} (${value})); }`
        : `${name}_st(${index}, ${value});`;
      at = end + 1;
      continue;
    }
    const component = /^(\s*(\.\s*\w+|\[[^\]]*\]))+\s*(\+|-|\*|\/|%|&|\||\^|<<|>>)?=(?!=)/.exec(rest);
    if (component) throw fail(name, `a component of ${name}[…] is written in place (load, modify and store it whole)`);
    out += `${name}_ld(${index})`;
    at = close + 1;
  }
  return out + src.slice(at);
}

/** Index of the bracket closing the one at `open`, counting () and []; −1 if none. */
function matching(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const ch = s[i];
    if (ch === "[" || ch === "(") depth++;
    else if (ch === "]" || ch === ")") {
      if (--depth === 0) return i;
    }
  }
  return -1;
}

/** Index of the `;` ending the statement that continues at `from` (outside brackets); −1 if none. */
function statementEnd(s: string, from: number): number {
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const ch = s[i];
    if (ch === "[" || ch === "(" || ch === "{") depth++;
    else if (ch === "]" || ch === ")" || ch === "}") depth--;
    else if (ch === ";" && depth === 0) return i;
  }
  return -1;
}
