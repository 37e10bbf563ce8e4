/**
 * How a kernel reads its input, on this adapter: y = 2·x over 4M floats with x read from a storage
 * buffer one f32 an invocation, one vec4 an invocation, or from a read-only storage texture
 * (`texture_storage_2d<rgba32float, read>`, one texel an invocation) — alone, and after the
 * copyBufferToTexture that fills it from the buffer — against a kernel that only writes. Every path
 * writes y to storage the same way, so the differences are the reads.
 *
 * Why: on llvmpipe (Mesa 22.3) a storage load whose address is not a compile-time constant becomes a
 * loop over the SIMD lanes, while a storage-texture fetch is straight-line SIMD code. Measured
 * 2026-12-07 (load ~0.7, two runs): f32 reads 56–57 Melem/s, vec4 145–155, texture 312–327 (with the
 * copy that fills it 216–236), writing alone 341–354 — reading from a texture runs at the speed of
 * writing, 2x the vec4 storage read and 5.7x the f32 one. The elementwise kernels (RMSNorm, SiLU·up,
 * RoPE, residual add) still read storage. The probe checks y after the warm-up and after the timed
 * runs, so a path that skipped work (or read a texture that was never filled) fails instead of
 * looking fast.
 *
 * The kernels are inline WGSL on purpose: they measure the adapter's read paths, not this
 * project's kernels (those live in shaders/ with their tests).
 *
 * @module
 */

import type { Gpu } from "../../thanos/gpu/device.ts";
import type { BenchRow } from "./row.ts";

const W = 256, H = 16384, N = W * H; // 4M floats; the texture is 64 x 16384 texels
const TEXELS_A_ROW = W / 4;

/** y = 2·x (or y = i for "write"), one workgroup of 64 per 64 items, as a flat grid over x then y. */
const KERNELS = {
  "storage f32": `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
  let i = g.x + g.y * n.x * 64u;
  if (i < ${N}u) { y[i] = x[i] * 2.0; }
}`,
  "storage vec4": `@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4f>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
  let i = g.x + g.y * n.x * 64u;
  if (i < ${N / 4}u) { y[i] = x[i] * 2.0; }
}`,
  "storage texture": `@group(0) @binding(0) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4f>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
  let i = g.x + g.y * n.x * 64u;
  if (i < ${N / 4}u) { y[i] = textureLoad(x, vec2u(i % ${TEXELS_A_ROW}u, i / ${TEXELS_A_ROW}u)) * 2.0; }
}`,
  "write only": `@group(0) @binding(1) var<storage, read_write> y: array<vec4f>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
  let i = g.x + g.y * n.x * 64u;
  if (i < ${N / 4}u) { let v = f32(4u * i); y[i] = vec4f(v, v + 1.0, v + 2.0, v + 3.0) * 2.0; }
}`,
} as const;

type Path = keyof typeof KERNELS | "copy + storage texture";

export async function bench(gpu: Gpu): Promise<BenchRow[]> {
  const device = gpu.device;
  const host = new Float32Array(N).map((_, i) => i % 7);
  const src = device.createBuffer({
    size: N * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(src, 0, host);
  const dst = device.createBuffer({ size: N * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: N * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const tex = device.createTexture({
    size: [TEXELS_A_ROW, H],
    format: "rgba32float",
    usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST,
  });
  const fill = (enc: GPUCommandEncoder) =>
    enc.copyBufferToTexture({ buffer: src, bytesPerRow: W * 4 }, { texture: tex }, [TEXELS_A_ROW, H]);
  const rows: BenchRow[] = [];
  try {
    const paths: Path[] = gpu.info.readsStorageTextures
      ? ["storage f32", "storage vec4", "storage texture", "copy + storage texture", "write only"]
      : ["storage f32", "storage vec4", "write only"]; // WGSL without read-only storage textures
    for (const path of paths) {
      const kernel = path === "copy + storage texture" ? "storage texture" : path;
      const pipeline = device.createComputePipeline({
        layout: "auto",
        compute: { module: device.createShaderModule({ code: KERNELS[kernel] }), entryPoint: "main" },
      });
      const input = kernel === "storage texture" ? tex.createView() : { buffer: src };
      const entries = kernel === "write only" ? [] : [{ binding: 0, resource: input }];
      const bindGroup = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [...entries, { binding: 1, resource: { buffer: dst } }],
      });
      const items = kernel === "storage f32" ? N : N / 4;
      const groups = Math.ceil(items / 64), gx = Math.min(groups, 65535), gy = Math.ceil(groups / gx);
      const once = (withCopy = path === "copy + storage texture") => {
        const enc = device.createCommandEncoder();
        if (withCopy) fill(enc);
        const pass = enc.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(gx, gy);
        pass.end();
        device.queue.submit([enc.finish()]);
      };
      once(kernel === "storage texture"); // compiles (and fills the texture, in the same submission)
      await device.queue.onSubmittedWorkDone();
      await check(device, dst, readback, path);
      // best of 3 batches of 4 runs (a readback or wait costs ~10 ms in Deno: batch to amortise it)
      let best = Infinity;
      for (let r = 0; r < 3; r++) {
        const t = performance.now();
        for (let i = 0; i < 4; i++) once();
        await device.queue.onSubmittedWorkDone();
        best = Math.min(best, (performance.now() - t) / 4 / 1000);
      }
      await check(device, dst, readback, path); // the timed runs computed the same
      rows.push({
        kernel: `y = 2x, x read from ${path}`,
        size: `${N} floats`,
        seconds: best,
        rate: N / best / 1e6,
        unit: "Melem/s",
      });
    }
  } finally {
    for (const b of [src, dst, readback]) b.destroy();
    tex.destroy();
  }
  return rows;
}

/** y must be 2·x (x[i] = i mod 7), or 2·i for the write-only kernel; else the rate would mean nothing. */
async function check(device: GPUDevice, dst: GPUBuffer, readback: GPUBuffer, path: Path): Promise<void> {
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(dst, 0, readback, 0, N * 4);
  device.queue.submit([enc.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  try {
    const y = new Float32Array(readback.getMappedRange());
    for (let i = 0; i < N; i++) {
      const want = path === "write only" ? 2 * i : 2 * (i % 7);
      if (y[i] !== want) throw new Error(`bench reads: ${path}: y[${i}] is ${y[i]}, expected ${want}`);
    }
  } finally {
    readback.unmap();
  }
}
