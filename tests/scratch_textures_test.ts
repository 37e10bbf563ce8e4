/**
 * gpu/scratch_textures.ts: one texture per role, reused while it is large enough, grown to the larger
 * of old and new sizes, the replaced one destroyed only at collect(); sizes outside the adapter's
 * texture limit are refused naming the role and the limit.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { ScratchTextures } from "../thanos/gpu/scratch_textures.ts";
import { gpuTest } from "./util.ts";

gpuTest("scratch textures are reused while large enough and grow to the larger of old and new", (gpu) => {
  const textures = new ScratchTextures(gpu.device);
  const a = textures.view("A", 8, 16);
  assertEquals(textures.view("A", 4, 16), a);
  assertEquals(textures.bytes, 8 * 16 * 16);
  const b = textures.view("A", 2, 32); // taller: a new texture of 8 x 32 texels, the old one retired
  assert(b !== a);
  assertEquals(textures.bytes, (8 * 16 + 8 * 32) * 16);
  assertEquals(textures.view("A", 8, 32), b);
  const other = textures.view("B", 1, 1);
  assert(other !== b);
  textures.collect();
  assertEquals(textures.bytes, (8 * 32 + 1) * 16);
  const max = gpu.limits.maxTextureDimension2D;
  assertThrows(
    () => textures.view("A", max + 1, 1),
    RangeError,
    `A texture of ${max + 1} x 1 texels; expected 1..${max}`,
  );
  assertThrows(() => textures.view("A", 0, 1), RangeError, "expected 1..");
});
