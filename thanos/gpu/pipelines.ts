/**
 * Pipeline cache: WGSL is loaded from `shaders/<name>.wgsl` with its `// #include`s expanded,
 * compiled once, and one compute pipeline is kept per (shader, override constants). Each shader's
 * interface (Params fields, bindings) is parsed from the same source. Compilation errors are
 * rethrown naming the original file and line (an included module's, where the error is in one).
 *
 * @module
 */

import { type ChunkBindings, splitBindings, splitKey, type SplitPlan } from "./chunked.ts";
import { type ExpandedSource, expandIncludes, parseShaderInterface, type ShaderInterface } from "./shader_interface.ts";

/** A compiled compute kernel: a pipeline plus the shader name used in error messages. */
export interface Kernel {
  readonly name: string;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /** for a variant with bindings split across storage bindings (gpu/chunked.ts): each one's chunks */
  readonly chunks?: readonly ChunkBindings[];
}

/** Override constants of a kernel, e.g. `{ WG: 64 }` (set through the pipeline's `constants`). */
export type Constants = Record<string, number>;

const SHADER_DIR = new URL("../../shaders/", import.meta.url);
const sourceCache = new Map<string, ExpandedSource>();
const interfaceCache = new Map<string, ShaderInterface>();

function readShaderFile(file: string): string {
  const url = new URL(file, SHADER_DIR);
  try {
    return Deno.readTextFileSync(url);
  } catch (err) {
    throw new Error(`Shader "${file.replace(/\.wgsl$/, "")}" not found at ${url.pathname}: ${(err as Error).message}`);
  }
}

/**
 * The WGSL source of `shaders/<name>.wgsl` with its includes expanded, and its line map.
 * @throws Error naming the file when it (or an included module) does not exist
 */
export function expandedShader(name: string): ExpandedSource {
  let src = sourceCache.get(name);
  if (src === undefined) {
    src = expandIncludes(name, readShaderFile);
    sourceCache.set(name, src);
  }
  return src;
}

/** The expanded WGSL source of `shaders/<name>.wgsl`. */
export function shaderSource(name: string): string {
  return expandedShader(name).code;
}

/**
 * The parsed interface of `shaders/<name>.wgsl`: its Params fields and bindings.
 * @example
 * ```ts
 * shaderInterface("axpy").params.map((f) => f.name); // ["rows", "cols", "offX", "ldX", "offY", "ldY", "alpha"]
 * ```
 */
export function shaderInterface(name: string): ShaderInterface {
  let iface = interfaceCache.get(name);
  if (iface === undefined) {
    iface = parseShaderInterface(name, shaderSource(name));
    interfaceCache.set(name, iface);
  }
  return iface;
}

export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #modules = new Map<string, Promise<{ module: GPUShaderModule; chunks?: ChunkBindings[] }>>();
  readonly #kernels = new Map<string, Promise<Kernel>>();

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /**
   * The compute pipeline of `shaders/<name>.wgsl` (entry point `main`) with the given constants —
   * or, with `split`, of its variant whose bindings `split` names are split across storage bindings.
   * @example
   * ```ts
   * const k = await gpu.pipelines.get("fill", { WG: 256 });
   * ```
   */
  get(name: string, constants: Constants = {}, split?: SplitPlan): Promise<Kernel> {
    const key = `${name}|${JSON.stringify(Object.entries(constants).sort())}|${splitKey(split)}`;
    let kernel = this.#kernels.get(key);
    if (!kernel) {
      kernel = this.#build(name, constants, split);
      kernel.catch(() => this.#kernels.delete(key));
      this.#kernels.set(key, kernel);
    }
    return kernel;
  }

  async #build(name: string, constants: Constants, split?: SplitPlan): Promise<Kernel> {
    const { module, chunks } = await this.#module(name, split);
    const device = this.#device;
    device.pushErrorScope("validation");
    const pipeline = device.createComputePipeline({
      label: name,
      layout: "auto",
      compute: { module, entryPoint: "main", constants },
    });
    const error = await device.popErrorScope();
    if (error) {
      throw new Error(
        `Shader "${name}.wgsl": creating the pipeline with constants ${
          JSON.stringify(constants)
        } failed: ${error.message}`,
      );
    }
    return { name, pipeline, layout: pipeline.getBindGroupLayout(0), chunks };
  }

  #module(name: string, split?: SplitPlan): Promise<{ module: GPUShaderModule; chunks?: ChunkBindings[] }> {
    const key = `${name}|${splitKey(split)}`;
    let module = this.#modules.get(key);
    if (!module) {
      module = this.#compile(name, split);
      module.catch(() => this.#modules.delete(key));
      this.#modules.set(key, module);
    }
    return module;
  }

  async #compile(name: string, split?: SplitPlan): Promise<{ module: GPUShaderModule; chunks?: ChunkBindings[] }> {
    const source = expandedShader(name);
    const { lines } = source;
    const variant = split && split.splits.length > 0 ? splitBindings(name, source.code, split) : null;
    const code = variant?.code ?? source.code;
    const device = this.#device;
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ label: name, code });
    const error = await device.popErrorScope();
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0 || error) {
      const where = errors.map((m) => {
        const at = lines[m.lineNum - 1] ?? { file: `${name}.wgsl`, line: m.lineNum };
        return `  ${at.file}:${at.line}:${m.linePos}: ${m.message}`;
      }).join("\n");
      const what = variant ? ` (split across storage bindings: ${splitKey(split)})` : "";
      throw new Error(`Shader "${name}.wgsl"${what} failed to compile:\n${where || error?.message}`);
    }
    return { module, chunks: variant?.chunks };
  }
}
