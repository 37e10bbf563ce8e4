/**
 * What a WGSL kernel takes, read from its source: the `struct Params` uniform block and the
 * `@group(0) @binding(n) var<…> name` declarations. The source is the single description of a
 * kernel's arguments; {@link encodeParams} and {@link bindingEntries} check named launch records
 * against it, so a wrapper cannot silently pass a stride where the shader reads an offset.
 *
 * Rules the shaders follow (and this parser enforces):
 * - `struct Params` holds only 4-byte scalars (`u32`, `i32`, `f32`), laid out at 4·i in
 *   declaration order (WGSL's uniform layout for such a struct), padded to 16 bytes;
 * - all bindings are in group 0; the uniform, when present, is a `var<uniform> NAME: Params`;
 * - shared helpers live in `shaders/lib/NAME.wgsl` and are pulled in by a line
 *   `// #include "lib/NAME.wgsl"`, expanded once per module (nested includes allowed), with a
 *   line map so compiler messages name the original file and line;
 * - a kernel states what it takes once, in its header comment, and the loader declares it from
 *   there (nothing else may write `struct Params` or `@binding`):
 *   `// #params { rows, cols: u32, eps: f32 }` (names share the type written after them; the braces
 *   may span comment lines) becomes `struct Params { rows: u32, cols: u32, eps: f32 }` and
 *   `@group(0) @binding(0) var<uniform> p: Params;`, and each
 *   `// #binding x: array<f32>, read   [rows, cols] …` (free text after the access mode) becomes
 *   `@group(0) @binding(n) var<storage, read> x: array<f32>;`, numbered in the order written from 1
 *   (from 0 when there is no #params). A module shared by kernels of one interface may hold the
 *   directives.
 *
 * @module
 */

/** One scalar field of a kernel's `struct Params`. */
export interface ParamField {
  readonly name: string;
  readonly type: "u32" | "i32" | "f32";
  /** Byte offset in the uniform block. */
  readonly offset: number;
}

/** One `@group(0) @binding(n)` declaration. */
export interface BindingDecl {
  readonly name: string;
  readonly binding: number;
  /** `uniform`, `storage, read` or `storage, read_write` as written (spaces normalised), or `texture`. */
  readonly space: string;
  readonly type: string;
}

/** A kernel's parsed interface. */
export interface ShaderInterface {
  readonly shader: string;
  /** Fields of `struct Params` in declaration order (empty when the kernel has none). */
  readonly params: readonly ParamField[];
  /** Binding of the `Params` uniform, or null when the kernel has none. */
  readonly paramsBinding: number | null;
  /** Storage-buffer and texture bindings (every binding but the uniform) in binding order. */
  readonly storage: readonly BindingDecl[];
}

/** Expanded WGSL source plus, for each of its lines, the file and line it came from. */
export interface ExpandedSource {
  readonly code: string;
  /** `lines[i]` is the origin of line i + 1 of `code`. */
  readonly lines: readonly { file: string; line: number }[];
}

const INCLUDE = /^\s*\/\/\s*#include\s+"([^"]+)"\s*$/;

/**
 * Expands `// #include "lib/NAME.wgsl"` lines of `shaders/<name>.wgsl`, each module once.
 *
 * @param name the shader's file name without `.wgsl` (used in messages and the line map)
 * @param read returns the text of a file relative to `shaders/` (e.g. `lib/order_key.wgsl`)
 * @returns the expanded source and its line map
 * @throws Error naming the including file and line when an include is missing or cyclic
 */
export function expandIncludes(name: string, read: (file: string) => string): ExpandedSource {
  const out: string[] = [];
  const lines: { file: string; line: number }[] = [];
  const done = new Set<string>();
  const visit = (file: string, text: string, stack: string[]) => {
    text.split("\n").forEach((line, i) => {
      const m = INCLUDE.exec(line);
      if (!m) {
        out.push(line);
        lines.push({ file, line: i + 1 });
        return;
      }
      const target = m[1];
      if (stack.includes(target)) {
        throw new Error(`${file}:${i + 1}: #include "${target}" is cyclic (${[...stack, target].join(" -> ")})`);
      }
      if (done.has(target)) return;
      done.add(target);
      let body: string;
      try {
        body = read(target);
      } catch (err) {
        throw new Error(`${file}:${i + 1}: #include "${target}" cannot be read: ${(err as Error).message}`);
      }
      visit(target, body, [...stack, target]);
    });
  };
  const main = `${name}.wgsl`;
  visit(main, read(main), [main]);
  declareInterface(out, lines);
  return { code: out.join("\n"), lines };
}

const PARAMS = /^\s*\/\/\s*#params\b(.*)$/;
const BINDING = /^\s*\/\/\s*#binding\b(.*)$/;
const BINDING_DECL = /^\s+(\w+)\s*:\s*(array<(?:[^<>]|<[^<>]*>)+>)\s*,\s*(read_write|read)(?:\s.*)?$/;
/** `name: texture_2d<f32>` or `name: texture_storage_2d<rgba32float, write|read>`, free text after. */
const TEXTURE_DECL =
  /^\s+(\w+)\s*:\s*(texture_2d<f32>|texture_storage_2d<\s*rgba32float\s*,\s*(?:write|read)\s*>)(?:\s.*)?$/;

/**
 * Replaces the `// #params` and `// #binding` directives of an expanded source by the WGSL
 * declarations they stand for, one generated line per directive line (continuation lines of a
 * #params block become empty), so the line map still holds.
 *
 * @throws Error naming the file and line of a malformed directive, a second #params, or a
 *   `struct Params` / `@binding` declaration written by hand
 */
function declareInterface(out: string[], lines: readonly { file: string; line: number }[]): void {
  const where = (i: number) => `${lines[i].file}:${lines[i].line}`;
  const hasParams = out.some((l) => PARAMS.test(l));
  let next = hasParams ? 1 : 0;
  let paramsAt = -1;
  for (let i = 0; i < out.length; i++) {
    const code = out[i].replace(/\/\/.*$/, "");
    if (/\bstruct\s+Params\b|@binding\s*\(/.test(code)) {
      throw new Error(`${where(i)}: declares "${code.trim()}" by hand; state it with // #params or // #binding`);
    }
    const pm = PARAMS.exec(out[i]);
    if (pm) {
      if (paramsAt >= 0) throw new Error(`${where(i)}: a second #params (the first is at ${where(paramsAt)})`);
      paramsAt = i;
      let text = pm[1];
      let end = i;
      while (!text.includes("}") && end + 1 < out.length && /^\s*\/\//.test(out[end + 1])) {
        end++;
        text += " " + out[end].replace(/^\s*\/\//, "");
      }
      const m = /^\s*\{([^}]*)\}/.exec(text);
      if (!m) throw new Error(`${where(i)}: #params expects { name, …: type, … }, got "${text.trim()}"`);
      const fields = paramFields(m[1], where(i));
      out[i] = `struct Params { ${fields.join(", ")} } @group(0) @binding(0) var<uniform> p: Params;`;
      for (let j = i + 1; j <= end; j++) out[j] = "";
      i = end;
      continue;
    }
    const bm = BINDING.exec(out[i]);
    if (bm) {
      const d = BINDING_DECL.exec(bm[1]);
      const t = d ? null : TEXTURE_DECL.exec(bm[1]);
      if (!d && !t) {
        throw new Error(
          `${where(i)}: #binding expects "name: array<T>, read|read_write [shape …]", "name: texture_2d<f32>" ` +
            `or "name: texture_storage_2d<rgba32float, write|read>", got "${bm[1].trim()}"`,
        );
      }
      out[i] = d
        ? `@group(0) @binding(${next++}) var<storage, ${d[3]}> ${d[1]}: ${d[2]};`
        : `@group(0) @binding(${next++}) var ${t![1]}: ${t![2].replace(/\s+/g, "").replace(",", ", ")};`;
    }
  }
}

/** `a, b: u32, c: f32` -> `["a: u32", "b: u32", "c: f32"]` (names take the next type written). */
function paramFields(list: string, where: string): string[] {
  const fields: string[] = [];
  let pending: string[] = [];
  for (const item of list.split(",").map((s) => s.trim()).filter((s) => s.length > 0)) {
    const m = /^(\w+)(?:\s*:\s*(\w+))?$/.exec(item);
    if (!m) throw new Error(`${where}: #params item "${item}" is not "name" or "name: type"`);
    pending.push(m[1]);
    if (m[2] !== undefined) {
      fields.push(...pending.map((n) => `${n}: ${m[2]}`));
      pending = [];
    }
  }
  if (pending.length > 0) throw new Error(`${where}: #params names ${pending.join(", ")} have no type`);
  return fields;
}

/** Removes `//` and `/* … *\/` comments, keeping line breaks so positions stay meaningful. */
function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " ")).replace(/\/\/[^\n]*/g, "");
}

const SCALARS = new Set(["u32", "i32", "f32"]);

/**
 * Parses a kernel's `struct Params` and group-0 bindings from its (expanded) WGSL.
 *
 * @param shader the shader's name, for messages
 * @param code the expanded WGSL source
 * @throws Error naming the shader and the offending declaration when a Params field is not a
 *   4-byte scalar, a binding is outside group 0, or two bindings share a number
 */
export function parseShaderInterface(shader: string, code: string): ShaderInterface {
  const src = stripComments(code);
  const params: ParamField[] = [];
  const struct = /\bstruct\s+Params\s*\{([^}]*)\}/.exec(src);
  if (struct) {
    for (const decl of struct[1].split(",").map((s) => s.trim()).filter((s) => s.length > 0)) {
      const m = /^(?:@[\w()]+\s+)*(\w+)\s*:\s*([\w<>]+)$/.exec(decl);
      if (!m || !SCALARS.has(m[2])) {
        throw new Error(
          `Shader "${shader}.wgsl": struct Params field "${decl}" is not a 4-byte scalar (expected u32, i32 or f32)`,
        );
      }
      params.push({ name: m[1], type: m[2] as ParamField["type"], offset: 4 * params.length });
    }
  }
  const decls: BindingDecl[] = [];
  // `var<space> name: T;`, or `var name: texture_…;` (textures take no address space)
  const re = /@group\((\d+)\)\s*@binding\((\d+)\)\s*var\s*(?:<([^>]*)>)?\s*(\w+)\s*:\s*([^;]+);/g;
  for (const m of src.matchAll(re)) {
    const [, group, binding, space = "texture", name, type] = m;
    if (group !== "0") throw new Error(`Shader "${shader}.wgsl": binding "${name}" is in group ${group}, expected 0`);
    const decl = {
      name,
      binding: Number(binding),
      space: space.split(",").map((s) => s.trim()).join(", "),
      type: type.trim(),
    };
    const clash = decls.find((d) => d.binding === decl.binding);
    if (clash) {
      throw new Error(`Shader "${shader}.wgsl": bindings "${clash.name}" and "${name}" share binding ${binding}`);
    }
    decls.push(decl);
  }
  decls.sort((a, b) => a.binding - b.binding);
  const uniforms = decls.filter((d) => d.space === "uniform");
  if (uniforms.length > 1) throw new Error(`Shader "${shader}.wgsl": more than one uniform binding`);
  if (uniforms.length === 1 && uniforms[0].type !== "Params") {
    throw new Error(
      `Shader "${shader}.wgsl": uniform "${uniforms[0].name}" has type ${uniforms[0].type}, expected Params`,
    );
  }
  if (uniforms.length === 0 && params.length > 0) {
    throw new Error(`Shader "${shader}.wgsl": declares struct Params but binds no var<uniform> of it`);
  }
  return {
    shader,
    params,
    paramsBinding: uniforms.length === 1 ? uniforms[0].binding : null,
    storage: decls.filter((d) => d.space !== "uniform"),
  };
}

/** A value for one Params field. */
export type ParamValue = number;

function names(list: readonly { name: string }[]): string {
  return `{ ${list.map((f) => f.name).join(", ")} }`;
}

/**
 * Encodes a named Params record in the shader's declaration order.
 *
 * @returns the uniform bytes (a multiple of 16), or null when the shader has no Params
 * @throws RangeError naming the shader, the field and the expected fields on a missing, extra or
 *   misspelt field, or a value of the wrong kind (non-finite f32; negative, fractional or too
 *   large u32; out-of-range i32)
 */
export function encodeParams(
  iface: ShaderInterface,
  values: Readonly<Record<string, ParamValue>> | undefined,
): ArrayBuffer | null {
  const { shader, params: fields } = iface;
  if (fields.length === 0) {
    if (values !== undefined && Object.keys(values).length > 0) {
      throw new RangeError(
        `Shader "${shader}": has no struct Params but was given params ${
          names(Object.keys(values).map((name) => ({ name })))
        }`,
      );
    }
    return null;
  }
  if (values === undefined) throw new RangeError(`Shader "${shader}": params missing, expected ${names(fields)}`);
  for (const key of Object.keys(values)) {
    if (!fields.some((f) => f.name === key)) {
      throw new RangeError(`Shader "${shader}": unknown param "${key}", expected ${names(fields)}`);
    }
  }
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil((4 * fields.length) / 16) * 16));
  const view = new DataView(bytes);
  for (const f of fields) {
    const v = values[f.name];
    if (v === undefined) {
      throw new RangeError(`Shader "${shader}": param "${f.name}" missing, expected ${names(fields)}`);
    }
    const bad = (what: string) =>
      new RangeError(`Shader "${shader}": param "${f.name}" (${f.type}) is ${v}, expected ${what}`);
    if (typeof v !== "number") throw bad("a number");
    if (f.type === "f32") {
      if (!Number.isFinite(v)) throw bad("a finite number");
      view.setFloat32(f.offset, v, true);
    } else if (f.type === "u32") {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw bad("an integer in [0, 2^32)");
      view.setUint32(f.offset, v, true);
    } else {
      if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw bad("an integer in [-2^31, 2^31)");
      view.setInt32(f.offset, v, true);
    }
  }
  return bytes;
}

/**
 * Matches named storage buffers to the shader's bindings.
 *
 * @returns `[binding, buffer]` pairs in binding order
 * @throws RangeError naming the shader, the binding and the expected list on a missing, extra or
 *   misspelt name
 */
export function bindingEntries<T>(iface: ShaderInterface, buffers: Readonly<Record<string, T>>): [number, T][] {
  const { shader, storage } = iface;
  for (const key of Object.keys(buffers)) {
    if (!storage.some((b) => b.name === key)) {
      throw new RangeError(`Shader "${shader}": unknown binding "${key}", expected ${names(storage)}`);
    }
  }
  return storage.map((b) => {
    const buffer = buffers[b.name];
    if (buffer === undefined) {
      throw new RangeError(`Shader "${shader}": binding "${b.name}" missing, expected ${names(storage)}`);
    }
    return [b.binding, buffer];
  });
}
