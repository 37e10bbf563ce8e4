/**
 * Kernel launch: binds tensors and a uniform parameter block, and records one dispatch.
 *
 * Binding convention shared by every shader in `shaders/`: group 0; binding 0 is the uniform
 * `Params` struct when the kernel has parameters; storage buffers follow at bindings 1, 2, … in the
 * order they are passed here. `Params` structs hold only 4-byte scalars (u32, i32, f32), written
 * in declaration order with the {@link Params} builder.
 *
 * @module
 */

import type { Gpu } from "./device.ts";
import type { Constants } from "./pipelines.ts";
import type { Tensor } from "./tensor.ts";

/** Builder for a uniform block of 4-byte scalars, in the order of the WGSL struct's fields. */
export class Params {
  #view = new DataView(new ArrayBuffer(256));
  #bytes = 0;

  #next(): number {
    if (this.#bytes + 4 > this.#view.byteLength) {
      const bigger = new DataView(new ArrayBuffer(this.#view.byteLength * 2));
      new Uint8Array(bigger.buffer).set(new Uint8Array(this.#view.buffer));
      this.#view = bigger;
    }
    const at = this.#bytes;
    this.#bytes += 4;
    return at;
  }
  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`Params.u32: ${value} is not an unsigned 32-bit integer`);
    }
    this.#view.setUint32(this.#next(), value, true);
    return this;
  }
  i32(value: number): this {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new RangeError(`Params.i32: ${value} is not a signed 32-bit integer`);
    }
    this.#view.setInt32(this.#next(), value, true);
    return this;
  }
  f32(value: number): this {
    this.#view.setFloat32(this.#next(), value, true);
    return this;
  }
  /** The bytes written so far, padded to 16. */
  bytes(): ArrayBuffer {
    return this.#view.buffer.slice(0, Math.max(16, Math.ceil(this.#bytes / 16) * 16));
  }
}

/** Starts a parameter block: `params().u32(M).u32(N).f32(alpha)`. */
export function params(): Params {
  return new Params();
}

export interface LaunchOptions {
  /** Workgroup counts; y and z default to 1. Use {@link grid1d} for long 1-D work. */
  grid: readonly [number, number?, number?];
  /** Uniform parameters at binding 0 (omit for kernels without a Params struct). */
  params?: Params;
  /** Values for the shader's `override` constants (each distinct set is its own pipeline). */
  constants?: Constants;
}

/**
 * Records one dispatch of `shaders/<shader>.wgsl`. The work runs at the next submission; read a
 * tensor (or call `gpu.sync()`) to wait for it.
 *
 * @param gpu the shared GPU context
 * @param shader shader file name without `.wgsl`
 * @param tensors storage buffers, bound at 1, 2, … (or 0, 1, … without params)
 * @param options grid, params and override constants
 * @example
 * ```ts
 * await launch(gpu, "fill", [x], { grid: grid1d(gpu, x.size, 256), params: params().u32(x.size).f32(1) });
 * ```
 */
export async function launch(
  gpu: Gpu,
  shader: string,
  tensors: readonly (Tensor | GPUBuffer)[],
  options: LaunchOptions,
): Promise<void> {
  const kernel = await gpu.pipelines.get(shader, options.constants);
  const buffers = tensors.map((t) => {
    if ("assertAlive" in t) {
      t.assertAlive();
      return t.buffer;
    }
    return t;
  });
  const [x, y = 1, z = 1] = options.grid;
  gpu.recorder.dispatch(kernel, buffers, options.params?.bytes() ?? null, [x, y, z]);
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
