/**
 * Every shader in `shaders/` parses (struct Params of 4-byte scalars, group-0 bindings, includes
 * resolved) and compiles on the adapter; launches are checked against the parsed interface.
 */
import { assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { empty, launch, shaderInterface } from "../thanos/gpu/mod.ts";
import { encodeParams, expandIncludes, parseShaderInterface } from "../thanos/gpu/shader_interface.ts";
import { gpuTest } from "./util.ts";

const SHADERS = [...Deno.readDirSync(new URL("../shaders/", import.meta.url))]
  .filter((e) => e.isFile && e.name.endsWith(".wgsl"))
  .map((e) => e.name.slice(0, -".wgsl".length))
  .sort();

const LIB = (() => {
  try {
    return [...Deno.readDirSync(new URL("../shaders/lib/", import.meta.url))]
      .filter((e) => e.isFile && e.name.endsWith(".wgsl"))
      .map((e) => `lib/${e.name}`)
      .sort();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
})();

gpuTest("every shader parses, has a Params uniform or none, and compiles on the adapter", async (gpu) => {
  for (const name of SHADERS) {
    const iface = shaderInterface(name);
    assertEquals(iface.shader, name);
    const bindings = [iface.paramsBinding, ...iface.storage.map((b) => b.binding)].filter((b) => b !== null);
    assertEquals(new Set(bindings).size, bindings.length, `${name}: binding numbers are distinct`);
    for (const b of iface.storage) {
      if (!/^(storage, (read|read_write)|texture)$/.test(b.space)) {
        throw new Error(`${name}: binding "${b.name}" is var<${b.space}>`);
      }
    }
    await gpu.pipelines.get(name); // compiles (with default override constants)
  }
});

Deno.test("every module in shaders/lib/ is included by some shader", () => {
  const used = new Set<string>();
  for (const name of SHADERS) {
    for (
      const line of expandIncludes(name, (f) => Deno.readTextFileSync(new URL(`../shaders/${f}`, import.meta.url)))
        .lines
    ) {
      used.add(line.file);
    }
  }
  for (const lib of LIB) if (!used.has(lib)) throw new Error(`shaders/${lib} is included by no shader`);
});

const FILES: Record<string, string> = {
  "k.wgsl": 'const n = 1;\n// #include "lib/a.wgsl"\n// #include "lib/b.wgsl"\nfn main() {}',
  "lib/a.wgsl": '// #include "lib/b.wgsl"\nfn a() {}',
  "lib/b.wgsl": "fn b() {}\nfn b2() {}",
  "c.wgsl": '// #include "lib/c1.wgsl"',
  "lib/c1.wgsl": '// #include "lib/c2.wgsl"',
  "lib/c2.wgsl": '// #include "lib/c1.wgsl"',
};
const read = (f: string) => {
  if (!(f in FILES)) throw new Error("no such file");
  return FILES[f];
};

Deno.test("includes expand once per module, nested, with a line map to the original files", () => {
  const { code, lines } = expandIncludes("k", read);
  assertEquals(code, "const n = 1;\nfn b() {}\nfn b2() {}\nfn a() {}\nfn main() {}");
  assertEquals(lines, [
    { file: "k.wgsl", line: 1 },
    { file: "lib/b.wgsl", line: 1 },
    { file: "lib/b.wgsl", line: 2 },
    { file: "lib/a.wgsl", line: 2 },
    { file: "k.wgsl", line: 4 },
  ]);
});

Deno.test("a cyclic or missing include is an error naming the file and line", () => {
  assertThrows(() => expandIncludes("c", read), Error, 'lib/c2.wgsl:1: #include "lib/c1.wgsl" is cyclic');
  FILES["m.wgsl"] = '\n// #include "lib/nope.wgsl"';
  assertThrows(() => expandIncludes("m", read), Error, 'm.wgsl:2: #include "lib/nope.wgsl" cannot be read');
});

Deno.test("#params and #binding directives become the declarations, one line each, numbered in order", () => {
  FILES["d.wgsl"] = [
    "// d: a kernel",
    "//   #binding x: array<f32>, read        [rows, cols] input",
    "//   #params { rows, cols: u32,",
    "//             eps: f32 }   (trailing words)",
    '// #include "lib/d.wgsl"',
    "fn main() {}",
  ].join("\n");
  FILES["lib/d.wgsl"] = "// #binding y: array<atomic<u32>>, read_write [1]";
  const { code, lines } = expandIncludes("d", read);
  assertEquals(code.split("\n"), [
    "// d: a kernel",
    "@group(0) @binding(1) var<storage, read> x: array<f32>;",
    "struct Params { rows: u32, cols: u32, eps: f32 } @group(0) @binding(0) var<uniform> p: Params;",
    "",
    "@group(0) @binding(2) var<storage, read_write> y: array<atomic<u32>>;",
    "fn main() {}",
  ]);
  assertEquals(lines[4], { file: "lib/d.wgsl", line: 1 });
  const iface = parseShaderInterface("d", code);
  assertEquals(iface.params.map((f) => `${f.name}: ${f.type}`), ["rows: u32", "cols: u32", "eps: f32"]);
  assertEquals(iface.storage.map((b) => [b.binding, b.name, b.space]), [
    [1, "x", "storage, read"],
    [2, "y", "storage, read_write"],
  ]);
  FILES["t.wgsl"] = [
    "// #binding src: texture_2d<f32>          packed operand",
    "// #binding dst: texture_storage_2d<rgba32float,write>   [h, w]",
    "// #binding ro: texture_storage_2d<rgba32float, read>    read-only",
    "fn main() {}",
  ].join("\n");
  const textures = expandIncludes("t", read).code;
  assertEquals(textures.split("\n").slice(0, 3), [
    "@group(0) @binding(0) var src: texture_2d<f32>;",
    "@group(0) @binding(1) var dst: texture_storage_2d<rgba32float, write>;",
    "@group(0) @binding(2) var ro: texture_storage_2d<rgba32float, read>;",
  ]);
  assertEquals(parseShaderInterface("t", textures).storage.map((b) => [b.binding, b.name, b.space, b.type]), [
    [0, "src", "texture", "texture_2d<f32>"],
    [1, "dst", "texture", "texture_storage_2d<rgba32float, write>"],
    [2, "ro", "texture", "texture_storage_2d<rgba32float, read>"],
  ]);
  FILES["e.wgsl"] = "// #binding x: array<f32>\nfn main() {}";
  assertThrows(() => expandIncludes("e", read), Error, 'e.wgsl:1: #binding expects "name: array<T>, read|read_write');
  FILES["e.wgsl"] = "// #binding x: texture_2d<u32>\nfn main() {}";
  assertThrows(() => expandIncludes("e", read), Error, 'e.wgsl:1: #binding expects "name: array<T>, read|read_write');
  FILES["e.wgsl"] = "// #params { a, b }";
  assertThrows(() => expandIncludes("e", read), Error, "e.wgsl:1: #params names a, b have no type");
  FILES["e.wgsl"] = "struct Params { a: u32 }";
  assertThrows(() => expandIncludes("e", read), Error, "e.wgsl:1: declares");
  FILES["e.wgsl"] = "@group(0) @binding(1) var<storage, read> x: array<f32>;";
  assertThrows(() => expandIncludes("e", read), Error, "state it with // #params or // #binding");
});

Deno.test("the parser reads Params fields, bindings, and rejects what the rule forbids", () => {
  const iface = parseShaderInterface(
    "t",
    `struct Params { a: u32, /* c */ b: i32, c: f32, }
     @group(0) @binding(0) var<uniform> p: Params;
     // @group(0) @binding(5) var<storage, read> commented: array<f32>;
     @group(0) @binding(2) var<storage, read_write> y: array<f32>;
     @group(0) @binding(1) var<storage,read> x: array<u32>;`,
  );
  assertEquals(iface.params, [
    { name: "a", type: "u32", offset: 0 },
    { name: "b", type: "i32", offset: 4 },
    { name: "c", type: "f32", offset: 8 },
  ]);
  assertEquals(iface.paramsBinding, 0);
  assertEquals(iface.storage.map((b) => [b.binding, b.name, b.space]), [[1, "x", "storage, read"], [
    2,
    "y",
    "storage, read_write",
  ]]);
  assertThrows(
    () => parseShaderInterface("t", "struct Params { a: vec2u }\n@group(0) @binding(0) var<uniform> p: Params;"),
    Error,
    'Shader "t.wgsl": struct Params field "a: vec2u" is not a 4-byte scalar',
  );
  assertThrows(
    () => parseShaderInterface("t", "@group(1) @binding(0) var<storage, read> x: array<f32>;"),
    Error,
    'binding "x" is in group 1, expected 0',
  );
  assertThrows(
    () =>
      parseShaderInterface(
        "t",
        "@group(0) @binding(1) var<storage, read> x: array<f32>;\n@group(0) @binding(1) var<storage, read> y: array<f32>;",
      ),
    Error,
    'bindings "x" and "y" share binding 1',
  );
});

Deno.test("params are encoded in declaration order and checked by name and kind", () => {
  const iface = shaderInterface("axpy");
  const ok = { rows: 2, cols: 3, offX: 0, ldX: 3, offY: 1, ldY: 4, alpha: -0.5 };
  const bytes = encodeParams(iface, ok)!;
  assertEquals(bytes.byteLength, 32);
  const v = new DataView(bytes);
  assertEquals([0, 1, 2, 3, 4, 5].map((i) => v.getUint32(4 * i, true)), [2, 3, 0, 3, 1, 4]);
  assertEquals(v.getFloat32(24, true), -0.5);
  const expected = "expected { rows, cols, offX, ldX, offY, ldY, alpha }";
  const { ldY: _, ...missing } = ok;
  assertThrows(() => encodeParams(iface, missing), RangeError, `Shader "axpy": param "ldY" missing, ${expected}`);
  assertThrows(
    () => encodeParams(iface, { ...ok, ldy: 4 }),
    RangeError,
    `Shader "axpy": unknown param "ldy", ${expected}`,
  );
  assertThrows(
    () => encodeParams(iface, { ...ok, alpha: NaN }),
    RangeError,
    'param "alpha" (f32) is NaN, expected a finite number',
  );
  assertThrows(
    () => encodeParams(iface, { ...ok, rows: -1 }),
    RangeError,
    'param "rows" (u32) is -1, expected an integer in [0, 2^32)',
  );
  assertThrows(() => encodeParams(iface, { ...ok, cols: 1.5 }), RangeError, 'param "cols" (u32) is 1.5');
  assertThrows(() => encodeParams(iface, undefined), RangeError, `Shader "axpy": params missing, ${expected}`);
  const copy = shaderInterface("copy_strided");
  const s = { rows: 1, cols: 1, offS: 0, sI: 1, sJ: 1, offD: 0, ldD: 1 };
  assertEquals(new DataView(encodeParams(copy, { ...s, sI: -3 })!).getInt32(12, true), -3);
  assertThrows(() => encodeParams(copy, { ...s, sI: 2 ** 31 }), RangeError, 'param "sI" (i32) is 2147483648');
});

gpuTest("a launch with a missing, extra or misspelt binding throws before recording", async (gpu) => {
  using x = empty(gpu, [4]);
  using y = empty(gpu, [4]);
  const params = { rows: 1, cols: 4, offX: 0, ldX: 4, offY: 0, ldY: 4, alpha: 1 };
  const before = gpu.recorder.dispatchCount;
  await assertRejects(
    () => launch(gpu, "axpy", { x }, { grid: [1], params }),
    RangeError,
    'Shader "axpy": binding "y" missing, expected { x, y }',
  );
  await assertRejects(
    () => launch(gpu, "axpy", { x, y, z: y }, { grid: [1], params }),
    RangeError,
    'Shader "axpy": unknown binding "z", expected { x, y }',
  );
  await assertRejects(
    () => launch(gpu, "axpy", { x, Y: y }, { grid: [1], params }),
    RangeError,
    'Shader "axpy": unknown binding "Y", expected { x, y }',
  );
  await assertRejects(
    () => launch(gpu, "axpy", { x, y: gpu.textures.view("test", 1, 1) }, { grid: [1], params }),
    RangeError,
    'Shader "axpy": binding "y" is array<f32>; expected a tensor or GPUBuffer',
  );
  await assertRejects(
    () =>
      launch(gpu, "pack_texture", { x, t: y }, {
        grid: [1],
        params: { rows: 1, cols: 4, off: 0, ld: 4, width: 1, height: 1 },
      }),
    RangeError,
    'Shader "pack_texture": binding "t" is texture_storage_2d<rgba32float, write>; expected a GPUTextureView',
  );
  await assertRejects(
    () => launch(gpu, "axpy", { x, y }, { grid: [1], params: { ...params, alpha: Infinity } }),
    RangeError,
    'param "alpha" (f32) is Infinity',
  );
  assertEquals(gpu.recorder.dispatchCount, before);
});
