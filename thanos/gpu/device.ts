/**
 * The one place that touches `navigator.gpu`.
 *
 * `getGpu()` acquires the adapter and device once per process (requesting the adapter's maximum
 * buffer and workgroup limits) and returns the shared {@link Gpu}: the device, a buffer pool, a
 * pipeline cache and a command recorder that batches many dispatches into one submission.
 *
 * @module
 */

import { BufferPool } from "./pool.ts";
import { PipelineCache } from "./pipelines.ts";
import { Recorder } from "./recorder.ts";
import { ScratchTextures } from "./scratch_textures.ts";
import { envFlag } from "../util/env.ts";

/** Limits we ask for at the adapter's maximum: big buffers are the whole point of this project. */
const LIMITS_AT_ADAPTER_MAX = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxStorageBuffersPerShaderStage",
  "maxTextureDimension2D",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
] as const;

/** What the project needs to know about the adapter it runs on. */
export interface AdapterSummary {
  /** e.g. "llvmpipe (LLVM 15.0.6, 256 bits)" or "NVIDIA H200". */
  description: string;
  vendor: string;
  architecture: string;
  /** True for software adapters (llvmpipe, SwiftShader, WARP). */
  isFallback: boolean;
  /**
   * True when WGSL may read storage textures (`texture_storage_2d<…, read>`, the language feature
   * "readonly_and_readwrite_storage_textures"): the texture-read kernels (matmul_texture,
   * attention_texture) need it and are not chosen without it.
   */
  readsStorageTextures: boolean;
}

/** The shared GPU context: device, limits, buffer pool, pipeline cache and command recorder. */
export class Gpu {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly limits: GPUSupportedLimits;
  readonly info: AdapterSummary;
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly recorder: Recorder;
  /** Scratch textures of the texture-read products (gpu/scratch_textures.ts). */
  readonly textures: ScratchTextures;
  /**
   * Fill every tensor from `empty()` with 0xFF bytes (NaN) before handing it out, instead of
   * whatever its pooled buffer last held: a debugging aid that makes reads of never-written scratch
   * fail loudly (`deno task test` sets `THANOS_POISON_EMPTY=1`). Costs one extra write per tensor.
   */
  poisonEmpty: boolean;
  /**
   * When set, every launch runs alone — the work recorded before it is finished first, then the
   * dispatch is submitted and waited for — and its wall time is added to its shader's entry: a
   * per-kernel profile (`deno task bench:layer --profile`). Serialising the queue slows the run.
   * `cpuSeconds` is the process's CPU time over the same span: on a software adapter (llvmpipe,
   * whose threads run the kernel) that is the kernel's work, while the wall time also holds each
   * wait's fixed cost (~10 ms in Deno's mapAsync poll loop), which swamps short kernels.
   */
  profile: Map<string, { launches: number; seconds: number; cpuSeconds: number }> | null = null;
  #lost: string | null = null;
  #bindingLimit: number;

  constructor(adapter: GPUAdapter, device: GPUDevice) {
    this.adapter = adapter;
    this.device = device;
    this.limits = device.limits;
    const info = adapter.info;
    const description = info.description || info.device || "unknown adapter";
    this.info = {
      description,
      vendor: info.vendor,
      architecture: info.architecture,
      isFallback: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter) ||
        /llvmpipe|swiftshader|warp|software/i.test(description),
      readsStorageTextures: wgslLanguageFeatures().has("readonly_and_readwrite_storage_textures"),
    };
    this.pool = new BufferPool(device);
    this.pipelines = new PipelineCache(device);
    this.recorder = new Recorder(device, this.pool);
    this.textures = new ScratchTextures(device);
    this.poisonEmpty = envFlag("THANOS_POISON_EMPTY");
    this.#bindingLimit = this.limits.maxStorageBufferBindingSize;
    device.lost.then((reason) => {
      this.#lost = `${reason.reason}: ${reason.message}`;
    });
  }

  /**
   * Most bytes a launch binds of one buffer at once: the device's `maxStorageBufferBindingSize`, or
   * less where a test sets it so (a buffer larger than this is bound in chunks, see gpu/chunked.ts).
   * Only launches read it; tensors may be as large as `maxBufferSize`.
   */
  get bindingLimit(): number {
    return this.#bindingLimit;
  }
  set bindingLimit(bytes: number) {
    const max = this.limits.maxStorageBufferBindingSize;
    const align = this.limits.minStorageBufferOffsetAlignment;
    if (!Number.isInteger(bytes) || bytes < align || bytes > max) {
      throw new RangeError(`bindingLimit is ${bytes}; expected an integer in [${align}, ${max}]`);
    }
    this.#bindingLimit = bytes;
  }

  /** Throws if the device was lost (driver reset, out of memory on some backends). */
  checkAlive(): void {
    if (this.#lost !== null) throw new Error(`GPU device was lost (${this.#lost})`);
  }

  /** Submits everything recorded so far and waits until the GPU has finished it. */
  async sync(): Promise<void> {
    await this.recorder.flush();
    if (this.recorder.unwaited) {
      await this.device.queue.onSubmittedWorkDone();
      this.recorder.markIdle();
    }
    this.textures.collect();
    this.checkAlive();
  }

  /**
   * Frees the buffer pool's spares: waits for the recorded work (which may still name them), then
   * destroys them. The whole-model pipeline calls it where the shapes it allocates change (between
   * stages, and between linear layers of different shapes), so a 7B block's down-projection does
   * not run beside the spares of the layers before it; on a software adapter (llvmpipe) those spares
   * are host memory of this process.
   * @returns the bytes freed
   */
  async releaseSpares(): Promise<number> {
    if (this.pool.spareBytes === 0) return 0;
    await this.sync();
    return this.pool.trim();
  }
}

let shared: Promise<Gpu> | null = null;

/**
 * Returns the process-wide {@link Gpu}, acquiring adapter and device on the first call.
 *
 * @returns the shared GPU context
 * @throws Error when WebGPU is not available or no adapter is found, saying how to fix it
 * @example
 * ```ts
 * const gpu = await getGpu();
 * console.log(gpu.info.description);
 * ```
 */
export function getGpu(): Promise<Gpu> {
  if (shared === null) {
    shared = acquire().catch((err) => {
      shared = null; // a later call may retry (e.g. after the user fixes the environment)
      throw err;
    });
  }
  return shared;
}

async function acquire(): Promise<Gpu> {
  const nav = globalThis.navigator as Navigator & { gpu?: GPU };
  if (!nav?.gpu) {
    throw new Error(
      "WebGPU is not available in this runtime (navigator.gpu is undefined). " +
        "Run with Deno 2.x (`deno run -A …`); in a browser, use one with WebGPU enabled.",
    );
  }
  const adapter = await nav.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new Error(
      "No WebGPU adapter found. On Linux without a GPU install Mesa's OpenGL/EGL drivers " +
        "(Debian: `apt-get install libgl1-mesa-dri libegl1 libegl-mesa0`), which provide the llvmpipe adapter.",
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS_AT_ADAPTER_MAX) {
    const value = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof value === "number") requiredLimits[name] = value;
  }
  const device = await adapter.requestDevice({ requiredLimits });
  return new Gpu(adapter, device);
}

/** The WGSL language features of this runtime's WebGPU (empty where it does not list them). */
function wgslLanguageFeatures(): ReadonlySet<string> {
  return (navigator.gpu as { wgslLanguageFeatures?: ReadonlySet<string> }).wgslLanguageFeatures ?? new Set();
}
