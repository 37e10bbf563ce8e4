/**
 * Kernel launch: binds named tensors and a named uniform parameter record, and records one dispatch.
 *
 * The shader's WGSL is the one description of its arguments: the loader parses its `struct Params`
 * (4-byte scalars) and its `@group(0) @binding(n) var<…> name` declarations
 * ({@link shaderInterface}), and a launch is checked against them: a missing, extra or misspelt
 * binding or param, or a value of the wrong kind, throws naming the shader, the name and the
 * expected list — before anything is recorded.
 *
 * @module
 */

import type { BindingSplit, SplitPlan } from "./chunked.ts";
import type { Gpu } from "./device.ts";
import { type Constants, shaderInterface } from "./pipelines.ts";
import type { BufferEntry } from "./recorder.ts";
import { bindingEntries, encodeParams, type ShaderInterface } from "./shader_interface.ts";
import type { Tensor } from "./tensor.ts";

/** Named storage buffers (and texture views, for `texture` bindings) of a launch, keyed by the shader's binding names. */
export type Bindings = Readonly<Record<string, Tensor | GPUBuffer | GPUTextureView>>;

/** Named uniform values of a launch, keyed by the shader's `struct Params` field names. */
export type ParamRecord = Readonly<Record<string, number>>;

export interface LaunchOptions {
  /** Workgroup counts; y and z default to 1. Use {@link grid1d} for long 1-D work. */
  grid: readonly [number, number?, number?];
  /** The `struct Params` fields by name (omit for kernels without a Params struct). */
  params?: ParamRecord;
  /** Values for the shader's `override` constants (each distinct set is its own pipeline). */
  constants?: Constants;
  /**
   * Take the workgroup counts from the GPU instead of `grid` (which then only documents the most
   * the kernel may be launched with): three u32 at byte `offset` of `buffer` (a buffer with INDIRECT
   * usage, e.g. from {@link indirectArgs}), written by an earlier kernel. A count of 0 skips the
   * dispatch without the CPU knowing in advance.
   */
  indirect?: { buffer: GPUBuffer; offset: number };
}

/**
 * Records one dispatch of `shaders/<shader>.wgsl`. The work runs at the next submission; read a
 * tensor (or call `gpu.sync()`) to wait for it.
 *
 * @param gpu the shared GPU context
 * @param shader shader file name without `.wgsl`
 * @param bindings storage buffers by the shader's binding names
 * @param options grid, params by field name, and override constants
 * @throws RangeError naming the shader and the field or binding when the records do not match it
 * @example
 * ```ts
 * await launch(gpu, "fill", { x }, { grid: grid1d(gpu, x.size, 256), params: { n: x.size, value: 1 } });
 * ```
 */
export async function launch(gpu: Gpu, shader: string, bindings: Bindings, options: LaunchOptions): Promise<void> {
  const iface = shaderInterface(shader);
  const buffers: [number, GPUBuffer][] = [];
  const entries: BufferEntry[] = [];
  for (const [binding, t] of bindingEntries(iface, bindings)) {
    const decl = iface.storage.find((d) => d.binding === binding)!;
    if ((decl.space === "texture") !== t instanceof GPUTextureView) {
      throw new RangeError(
        `Shader "${shader}": binding "${decl.name}" is ${decl.type}; expected ${
          decl.space === "texture" ? "a GPUTextureView" : "a tensor or GPUBuffer"
        }`,
      );
    }
    if (t instanceof GPUTextureView) entries.push([binding, t]);
    else if ("assertAlive" in t) {
      t.assertAlive();
      buffers.push([binding, t.buffer]);
    } else buffers.push([binding, t]);
  }
  const bytes = encodeParams(iface, options.params);
  const split = splitPlan(gpu, iface, buffers);
  const kernel = await gpu.pipelines.get(shader, options.constants, split ?? undefined);
  for (const [binding, buffer] of buffers) {
    const chunks = kernel.chunks?.find((c) => c.name === iface.storage.find((d) => d.binding === binding)!.name);
    if (!chunks) {
      entries.push([binding, buffer]);
      continue;
    }
    const step = split!.chunkBytes;
    chunks.bindings.forEach((b, i) => entries.push([b, buffer, i * step, Math.min(step, buffer.size - i * step)]));
  }
  const [x, y = 1, z = 1] = options.grid;
  const uniform = bytes === null ? null : { binding: iface.paramsBinding!, bytes };
  const indirect = options.indirect;
  if (indirect && (indirect.offset % 4 !== 0 || indirect.offset + 12 > indirect.buffer.size)) {
    throw new RangeError(
      `Shader "${shader}": indirect arguments at byte ${indirect.offset} of a ${indirect.buffer.size}-byte buffer; ` +
        `expected a multiple of 4 with 12 bytes after it`,
    );
  }
  if (gpu.profile === null) return gpu.recorder.dispatch(kernel, entries, uniform, [x, y, z], indirect);
  await gpu.sync(); //                                   profiling: this dispatch alone, waited for
  const cpuUsage = await processCpuUsage();
  const started = performance.now(), cpu = cpuUsage();
  gpu.recorder.dispatch(kernel, entries, uniform, [x, y, z], indirect);
  await gpu.sync();
  const used = cpuUsage(cpu);
  const entry = gpu.profile.get(shader) ?? { launches: 0, seconds: 0, cpuSeconds: 0 };
  gpu.profile.set(shader, {
    launches: entry.launches + 1,
    seconds: entry.seconds + (performance.now() - started) / 1000,
    cpuSeconds: entry.cpuSeconds + (used.user + used.system) / 1e6,
  });
}

type CpuUsage = (previous?: { user: number; system: number }) => { user: number; system: number };
let cpuUsageFn: CpuUsage | null = null;

/** node:process's cpuUsage, loaded on the first profiled launch (the module costs a process ~28 ms). */
async function processCpuUsage(): Promise<CpuUsage> {
  cpuUsageFn ??= (await import("node:process")).default.cpuUsage;
  return cpuUsageFn;
}

/**
 * Storage bindings a launch over buffers of these byte sizes takes, those larger than
 * `gpu.bindingLimit` bound in chunks (as {@link launch} does).
 */
export function storageBindingsFor(gpu: Gpu, sizes: readonly number[]): number {
  const chunkBytes = chunkBytesOf(gpu);
  return sizes.reduce((n, size) => n + (size <= gpu.bindingLimit ? 1 : Math.ceil(size / chunkBytes)), 0);
}

/**
 * Whether a launch over buffers of these byte sizes fits the device's storage bindings once the large
 * ones are chunked: callers with a fused kernel that binds more buffers fall back to the unfused
 * kernels where it does not (WebGPU guarantees 8 a stage; llvmpipe has more).
 */
export function fitsStorageBindings(gpu: Gpu, sizes: readonly number[]): boolean {
  return storageBindingsFor(gpu, sizes) <= gpu.limits.maxStorageBuffersPerShaderStage;
}

function chunkBytesOf(gpu: Gpu): number {
  const align = Math.max(gpu.limits.minStorageBufferOffsetAlignment, 16);
  return Math.floor(gpu.bindingLimit / align) * align;
}

/**
 * Which of a launch's buffers exceed `gpu.bindingLimit` and so are bound in chunks (gpu/chunked.ts),
 * or null when all fit.
 * @throws RangeError naming the shader when the chunks need more storage bindings than the device has
 */
function splitPlan(gpu: Gpu, iface: ShaderInterface, buffers: readonly [number, GPUBuffer][]): SplitPlan | null {
  const limit = gpu.bindingLimit;
  const chunkBytes = chunkBytesOf(gpu);
  const splits: BindingSplit[] = [];
  for (const [binding, buffer] of buffers) {
    if (buffer.size <= limit) continue;
    splits.push({
      name: iface.storage.find((d) => d.binding === binding)!.name,
      chunks: Math.ceil(buffer.size / chunkBytes),
    });
  }
  if (splits.length === 0) return null;
  const needed = buffers.length + splits.reduce((n, s) => n + s.chunks - 1, 0);
  const max = gpu.limits.maxStorageBuffersPerShaderStage;
  if (needed > max) {
    throw new RangeError(
      `Shader "${iface.shader}": its buffers need ${needed} storage bindings in chunks of ${chunkBytes} bytes ` +
        `(${splits.map((s) => `${s.name}: ${s.chunks}`).join(", ")}), more than the device's ` +
        `maxStorageBuffersPerShaderStage of ${max}`,
    );
  }
  return { chunkBytes, splits };
}

/**
 * Workgroup grid covering `count` invocations of a 1-D kernel with workgroup size `wg`, folded
 * into y when it exceeds the per-dimension limit. Shaders recover the linear index as
 * `gid.x + gid.y * (nwg.x * WG)` with `@builtin(num_workgroups) nwg` and must bounds-check it.
 */
export function grid1d(gpu: Gpu, count: number, wg: number): [number, number, number] {
  const groups = Math.ceil(count / wg);
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1, 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y, 1];
}

/**
 * A small buffer of indirect dispatch arguments (`words` u32, STORAGE | INDIRECT) from the pool, for
 * a kernel to write workgroup counts that later launches read ({@link LaunchOptions.indirect}).
 * Return it with `gpu.pool.release` once the launches that use it are recorded.
 */
export function indirectArgs(gpu: Gpu, words: number, label: string): GPUBuffer {
  return gpu.pool.acquire(4 * words, GPUBufferUsage.STORAGE | GPUBufferUsage.INDIRECT | GPUBufferUsage.COPY_DST, label);
}
