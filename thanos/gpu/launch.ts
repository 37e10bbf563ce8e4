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

import type { Gpu } from "./device.ts";
import { type Constants, shaderInterface } from "./pipelines.ts";
import { bindingEntries, encodeParams } from "./shader_interface.ts";
import type { Tensor } from "./tensor.ts";

/** Named storage buffers of a launch, keyed by the shader's binding names. */
export type Bindings = Readonly<Record<string, Tensor | GPUBuffer>>;

/** Named uniform values of a launch, keyed by the shader's `struct Params` field names. */
export type ParamRecord = Readonly<Record<string, number>>;

export interface LaunchOptions {
  /** Workgroup counts; y and z default to 1. Use {@link grid1d} for long 1-D work. */
  grid: readonly [number, number?, number?];
  /** The `struct Params` fields by name (omit for kernels without a Params struct). */
  params?: ParamRecord;
  /** Values for the shader's `override` constants (each distinct set is its own pipeline). */
  constants?: Constants;
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
  const entries = bindingEntries(iface, bindings).map(([binding, t]): [number, GPUBuffer] => {
    if ("assertAlive" in t) {
      t.assertAlive();
      return [binding, t.buffer];
    }
    return [binding, t];
  });
  const bytes = encodeParams(iface, options.params);
  const kernel = await gpu.pipelines.get(shader, options.constants);
  const [x, y = 1, z = 1] = options.grid;
  const uniform = bytes === null ? null : { binding: iface.paramsBinding!, bytes };
  gpu.recorder.dispatch(kernel, entries, uniform, [x, y, z]);
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
