/**
 * Pipeline cache: WGSL is loaded from `shaders/<name>.wgsl`, compiled once, and one compute
 * pipeline is kept per (shader, override constants). Compilation errors are rethrown naming the
 * shader file and line.
 *
 * @module
 */

/** A compiled compute kernel: a pipeline plus the shader name used in error messages. */
export interface Kernel {
  readonly name: string;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

/** Override constants of a kernel, e.g. `{ WG: 64 }` (set through the pipeline's `constants`). */
export type Constants = Record<string, number>;

const SHADER_DIR = new URL("../../shaders/", import.meta.url);
const sourceCache = new Map<string, string>();

/**
 * The WGSL source of `shaders/<name>.wgsl`.
 * @throws Error naming the file when it does not exist
 */
export function shaderSource(name: string): string {
  let code = sourceCache.get(name);
  if (code === undefined) {
    const url = new URL(`${name}.wgsl`, SHADER_DIR);
    try {
      code = Deno.readTextFileSync(url);
    } catch (err) {
      throw new Error(`Shader "${name}" not found at ${url.pathname}: ${(err as Error).message}`);
    }
    sourceCache.set(name, code);
  }
  return code;
}

export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #modules = new Map<string, Promise<GPUShaderModule>>();
  readonly #kernels = new Map<string, Promise<Kernel>>();

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /**
   * The compute pipeline of `shaders/<name>.wgsl` (entry point `main`) with the given constants.
   * @example
   * ```ts
   * const k = await gpu.pipelines.get("fill", { WG: 256 });
   * ```
   */
  get(name: string, constants: Constants = {}): Promise<Kernel> {
    const key = `${name}|${JSON.stringify(Object.entries(constants).sort())}`;
    let kernel = this.#kernels.get(key);
    if (!kernel) {
      kernel = this.#build(name, constants);
      kernel.catch(() => this.#kernels.delete(key));
      this.#kernels.set(key, kernel);
    }
    return kernel;
  }

  async #build(name: string, constants: Constants): Promise<Kernel> {
    const module = await this.#module(name);
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
        `Shader "${name}.wgsl": creating the pipeline with constants ${JSON.stringify(constants)} failed: ${error.message}`,
      );
    }
    return { name, pipeline, layout: pipeline.getBindGroupLayout(0) };
  }

  #module(name: string): Promise<GPUShaderModule> {
    let module = this.#modules.get(name);
    if (!module) {
      module = this.#compile(name);
      module.catch(() => this.#modules.delete(name));
      this.#modules.set(name, module);
    }
    return module;
  }

  async #compile(name: string): Promise<GPUShaderModule> {
    const code = shaderSource(name);
    const device = this.#device;
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ label: name, code });
    const error = await device.popErrorScope();
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0 || error) {
      const where = errors.map((m) => `  ${name}.wgsl:${m.lineNum}:${m.linePos}: ${m.message}`).join("\n");
      throw new Error(`Shader "${name}.wgsl" failed to compile:\n${where || error?.message}`);
    }
    return module;
  }
}
