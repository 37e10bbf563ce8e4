/**
 * Loop probe (test helper): measures how much of llvmpipe's per-invocation loop budget the kernels
 * of an operation use, so tests can check the wrappers' cost models and splits against the real
 * counter (see thanos/gpu/loop_budget.ts).
 *
 * How: while {@link measureLoops} runs `fn`, every shader is compiled with its entry point turned
 * into a plain function and a new entry point that calls it and then runs a counting loop of far
 * more than 65535 trips. llvmpipe stops that loop when the invocation's counter runs out, so
 * 65535 − (trips counted) is what the kernel used. The count runs after the kernel has returned,
 * with every lane of the SIMD vector active (a count inside divergent control flow would share the
 * vector's counter with the other lanes), and the smallest count over all invocations and
 * dispatches of a shader is kept: the result is the shader's largest use (measured exactly: a kernel
 * whose only loop has t trips reads t + 1).
 *
 * On an adapter without the limit the counting loop runs to its end; {@link hasLoopLimit} says
 * whether measurements mean anything here.
 */

import type { Gpu } from "../thanos/gpu/device.ts";
import { LOOP_LIMIT } from "../thanos/gpu/loop_budget.ts";
import { type Constants, type Kernel, type PipelineCache, shaderSource } from "../thanos/gpu/pipelines.ts";
import type { Recorder } from "../thanos/gpu/recorder.ts";

/** Trips of the counting loop: far past the limit, so only the limiter ends it. */
const COUNT_TRIPS = 4 * LOOP_LIMIT;

/**
 * The WGSL of `shaders/<name>.wgsl` with its loop use counted into a new storage binding (the next
 * free binding number, returned with it).
 */
export function instrument(code: string): { code: string; binding: number } {
  const binding = Math.max(-1, ...[...code.matchAll(/@binding\((\d+)\)/g)].map((m) => Number(m[1]))) + 1;
  const entry = /(@compute\s+@workgroup_size\([^)]*\))\s*fn main\s*\(([^{]*)\)\s*\{/.exec(code);
  if (!entry) throw new Error("loop probe: no `@compute @workgroup_size(…) fn main(…) {` in the shader");
  const [header, attributes, paramText] = entry;
  // parameters split at commas outside parentheses: "@builtin(x) name: type"
  const params = paramText.split(/,(?![^(]*\))/).map((s) => s.trim()).filter((s) => s !== "");
  const plain = params.map((s) => s.replace(/@builtin\([^)]*\)\s*/, ""));
  const names = plain.map((s) => s.split(":")[0].trim());
  const body = code.slice(0, entry.index) + `fn probe_kernel(${plain.join(", ")}) {` +
    code.slice(entry.index + header.length);
  return {
    binding,
    code: `${body}
@group(0) @binding(${binding}) var<storage, read_write> probe_left: array<atomic<u32>>;
${attributes}
fn main(${params.join(", ")}) {
  probe_kernel(${names.join(", ")});
  var left = 0u;
  for (var i = 0u; i < ${COUNT_TRIPS}u; i++) {
    left++;
  }
  atomicMin(&probe_left[0], left);
}
`,
  };
}

/**
 * Runs `fn` with its kernels instrumented and returns, per shader name, the most loop iterations
 * any of its invocations used in any dispatch. Shaders that ran no invocation to the end are absent.
 * The count costs every SIMD vector up to 65535 iterations, so instrument only the shaders of
 * interest (`only`) when the others launch many invocations.
 *
 * @param gpu the shared GPU; its pipeline cache and recorder are patched for the duration of `fn`
 * @param fn the operation to measure (its dispatches are flushed before measuring)
 * @param only the shaders to instrument (default: all)
 * @example
 * ```ts
 * const used = await measureLoops(gpu, () => columnSquaredNormsAccumulate(mat(x), out, 1));
 * used.get("column_sq_norms"); // rows + 1
 * ```
 */
export async function measureLoops(
  gpu: Gpu,
  fn: () => Promise<unknown>,
  only?: readonly string[],
): Promise<Map<string, number>> {
  await gpu.sync();
  const device = gpu.device;
  const pipelines = gpu.pipelines as { get: PipelineCache["get"] };
  const recorder = gpu.recorder as { dispatch: Recorder["dispatch"] };
  const get = pipelines.get, dispatch = recorder.dispatch;
  const kernels = new Map<string, Promise<Kernel>>();
  const counters = new Map<string, GPUBuffer>();
  pipelines.get = (name: string, constants: Constants = {}) => {
    if (only && !only.includes(name)) return get.call(gpu.pipelines, name, constants);
    const key = `${name}|${JSON.stringify(Object.entries(constants).sort())}`;
    let kernel = kernels.get(key);
    if (kernel === undefined) {
      kernel = compile(device, name, constants);
      kernels.set(key, kernel);
    }
    return kernel;
  };
  recorder.dispatch = (kernel, buffers, params, grid) => {
    if (only && !only.includes(kernel.name)) return dispatch.call(gpu.recorder, kernel, buffers, params, grid);
    let counter = counters.get(kernel.name);
    if (counter === undefined) {
      counter = device.createBuffer({
        size: 16,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
        mappedAtCreation: true,
        label: `${kernel.name}.loopProbe`,
      });
      new Uint32Array(counter.getMappedRange()).fill(0xffffffff);
      counter.unmap();
      counters.set(kernel.name, counter);
    }
    const probeBinding = instrument(shaderSource(kernel.name)).binding;
    dispatch.call(gpu.recorder, kernel, [...buffers, [probeBinding, counter]], params, grid);
  };
  try {
    await fn();
    await gpu.sync();
  } finally {
    pipelines.get = get;
    recorder.dispatch = dispatch;
  }
  const used = new Map<string, number>();
  for (const [name, counter] of counters) {
    const [left] = new Uint32Array(await gpu.recorder.read(counter, 0, 4));
    if (left !== 0xffffffff) used.set(name, LOOP_LIMIT - left);
    counter.destroy();
  }
  return used;
}

async function compile(device: GPUDevice, name: string, constants: Constants): Promise<Kernel> {
  const { code } = instrument(shaderSource(name));
  const module = device.createShaderModule({ code, label: `${name} (loop probe)` });
  const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === "error");
  if (errors.length > 0) {
    throw new Error(`loop probe: ${name}.wgsl: ${errors.map((e) => `${e.lineNum}: ${e.message}`).join("; ")}`);
  }
  const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main", constants } });
  return { name, pipeline, layout: pipeline.getBindGroupLayout(0) };
}

let limited: Promise<boolean> | null = null;

/**
 * Whether this adapter ends invocations at {@link LOOP_LIMIT} iterations (llvmpipe does; GPUs do
 * not): a loop of 100000 trips is run once and its count read back.
 */
export function hasLoopLimit(gpu: Gpu): Promise<boolean> {
  limited ??= (async () => {
    const device = gpu.device;
    const module = device.createShaderModule({
      code: `@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(1)
fn main() {
  var n = 0u;
  for (var i = 0u; i < 100000u; i++) {
    n++;
  }
  out[0] = n;
}`,
    });
    const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
    const out = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: out } }],
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(1);
    pass.end();
    await gpu.sync(); // keep the recorder's order: nothing of ours is pending behind its work
    device.queue.submit([encoder.finish()]);
    const [n] = new Uint32Array(await gpu.recorder.read(out, 0, 4));
    out.destroy();
    return n < 100000;
  })();
  return limited;
}
