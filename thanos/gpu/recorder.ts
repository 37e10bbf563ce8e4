/**
 * Command recorder: batches many dispatches and buffer copies into one command encoder and submits
 * them together, which is what makes thousands of small kernels per layer affordable (on llvmpipe a
 * submission costs far more than a dispatch inside it).
 *
 * Errors: bind-group validation is checked per dispatch (the message names the shader);
 * encoder/submit validation is checked per submission (the message names the shaders in it).
 * Both surface at the next `flush()` — i.e. at the latest when a result is read back.
 *
 * @module
 */

import type { Kernel } from "./pipelines.ts";
import type { BufferPool } from "./pool.ts";

/** Submit automatically after this many recorded commands, to bound encoder size. */
const MAX_COMMANDS_PER_SUBMIT = 512;

type PendingError = Promise<{ where: string; error: GPUError | null }>;

/** Bytes of the first uniform arena of a submission; each further one doubles, up to the maximum. */
const FIRST_ARENA_BYTES = 4096;
const MAX_ARENA_BYTES = 65536;

/** A uniform buffer mapped while a submission is recorded; dispatches take slots of it in order. */
interface UniformArena {
  readonly buffer: GPUBuffer;
  readonly mapped: Uint8Array;
  /** bytes taken (a multiple of align) */
  used: number;
  /** the device's minUniformBufferOffsetAlignment */
  readonly align: number;
}

/** A storage buffer bound at `binding`: the whole buffer, or `size` bytes from `offset`; or a texture view. */
export type BufferEntry = readonly [
  binding: number,
  buffer: GPUBuffer | GPUTextureView,
  offset?: number,
  size?: number,
];

function resource([, buffer, offset, size]: BufferEntry): GPUBufferBinding | GPUTextureView {
  if (buffer instanceof GPUTextureView) return buffer;
  return offset === undefined ? { buffer } : { buffer, offset, size };
}

/** A bind group kept by a {@link BindGroupCache}, with its own uniform buffer. */
interface CachedBinding {
  readonly bindGroup: GPUBindGroup;
  readonly uniform: GPUBuffer | null;
  /** the uniform's current bytes */
  bytes: Uint8Array | null;
  /** the submission (Recorder.submitCount) that last recorded it */
  usedIn: number;
}

/** Identity of a GPU buffer inside cache keys. */
const bufferIds = new WeakMap<GPUBuffer | GPUTextureView, number>();
let nextBufferId = 1;
function bufferId(b: GPUBuffer | GPUTextureView): number {
  let id = bufferIds.get(b);
  if (id === undefined) bufferIds.set(b, id = nextBufferId++);
  return id;
}

/**
 * Bind groups (and their uniform buffers) reused across repeated dispatches of the same kernel on the
 * same buffers — the work of a decode step, recorded again for every token. While a cache is active
 * ({@link Recorder.withBindGroupCache}) a dispatch whose kernel and buffers were seen before reuses that
 * bind group: unchanged params cost nothing, changed ones one `writeBuffer` of the uniform (ordered
 * before the commands recorded after it). A dispatch whose params differ from those of the same bind
 * group already recorded in the current submission gets a fresh, uncached one, so no recorded command
 * sees another's params. Creating a bind group and a uniform buffer costs more than the dispatch itself
 * on llvmpipe's GL backend, and so does binding a bind group the first time.
 */
export class BindGroupCache implements Disposable {
  readonly entries = new Map<string, CachedBinding>();
  /** bind groups reused / created (for tests and benchmarks) */
  hits = 0;
  misses = 0;

  /** Frees the uniform buffers. */
  [Symbol.dispose](): void {
    for (const e of this.entries.values()) e.uniform?.destroy();
    this.entries.clear();
  }
}

export class Recorder {
  readonly #device: GPUDevice;
  readonly #pool: BufferPool;
  #encoder: GPUCommandEncoder | null = null;
  #commands = 0;
  #shaders = new Set<string>();
  #arenas: UniformArena[] = [];
  #errors: PendingError[] = [];
  #unwaited = false;
  #bindCache: BindGroupCache | null = null;
  /** Dispatches recorded since creation (for benchmarks and tests). */
  dispatchCount = 0;
  /** Submissions made since creation. */
  submitCount = 0;
  /** Readbacks (GPU → CPU round trips, each `read`/`readMany`) since creation. */
  readbackCount = 0;

  constructor(device: GPUDevice, pool: BufferPool) {
    this.#device = device;
    this.#pool = pool;
  }

  #currentEncoder(): GPUCommandEncoder {
    if (this.#encoder === null) this.#encoder = this.#device.createCommandEncoder();
    return this.#encoder;
  }

  /**
   * Records one dispatch of `kernel`: `params` (uniform bytes) at binding `paramsBinding`, and each
   * `[binding, buffer, offset?, size?]` of `buffers`.
   */
  dispatch(
    kernel: Kernel,
    buffers: readonly BufferEntry[],
    params: { binding: number; bytes: ArrayBuffer } | null,
    grid: readonly [number, number, number],
    indirect?: { buffer: GPUBuffer; offset: number },
  ): void {
    const max = this.#device.limits.maxComputeWorkgroupsPerDimension;
    if (grid.some((g) => !Number.isInteger(g) || g < 0 || g > max)) {
      throw new RangeError(
        `Dispatch of "${kernel.name}": workgroup grid [${grid}] must be integers in [0, ${max}]`,
      );
    }
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return; // nothing to do
    const device = this.#device;
    const cached = this.#bindCache ? this.#cachedBindGroup(this.#bindCache, kernel, buffers, params) : null;
    if (cached) {
      this.#record(kernel, cached, grid, indirect);
      return;
    }
    const entries: GPUBindGroupEntry[] = [];
    if (params !== null) entries.push({ binding: params.binding, resource: this.#uniformSlot(params.bytes) });
    for (const b of buffers) entries.push({ binding: b[0], resource: resource(b) });
    device.pushErrorScope("validation");
    const bindGroup = device.createBindGroup({ layout: kernel.layout, entries, label: kernel.name });
    this.#errors.push(device.popErrorScope().then((error) => ({ where: `shader "${kernel.name}"`, error })));

    this.#record(kernel, bindGroup, grid, indirect);
  }

  /**
   * A slot of this submission's uniform arena holding `bytes`: one mapped buffer of many slots per
   * submission instead of a buffer per dispatch (creating, unmapping and destroying a small buffer
   * cost llvmpipe's GL backend ~0.06 ms a dispatch, a third of a small kernel's whole cost).
   */
  #uniformSlot(bytes: ArrayBuffer): GPUBufferBinding {
    const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
    let arena = this.#arenas.at(-1);
    if (arena === undefined || arena.used + size > arena.mapped.byteLength) {
      const align = this.#device.limits.minUniformBufferOffsetAlignment;
      const previous = arena?.mapped.byteLength ?? 0;
      const capacity = Math.max(size, Math.min(MAX_ARENA_BYTES, Math.max(FIRST_ARENA_BYTES, 2 * previous)));
      const buffer = this.#device.createBuffer({
        size: Math.ceil(capacity / align) * align,
        usage: GPUBufferUsage.UNIFORM,
        mappedAtCreation: true,
        label: "params",
      });
      arena = { buffer, mapped: new Uint8Array(buffer.getMappedRange()), used: 0, align };
      this.#arenas.push(arena);
    }
    const offset = arena.used;
    arena.mapped.set(new Uint8Array(bytes), offset);
    arena.used = Math.ceil((offset + size) / arena.align) * arena.align;
    return { buffer: arena.buffer, offset, size };
  }

  #record(
    kernel: Kernel,
    bindGroup: GPUBindGroup,
    grid: readonly [number, number, number],
    indirect?: { buffer: GPUBuffer; offset: number },
  ): void {
    const pass = this.#currentEncoder().beginComputePass({ label: kernel.name });
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    if (indirect) pass.dispatchWorkgroupsIndirect(indirect.buffer, indirect.offset);
    else pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    pass.end();
    this.#shaders.add(kernel.name);
    this.dispatchCount++;
    if (++this.#commands >= MAX_COMMANDS_PER_SUBMIT) this.submit();
  }

  /**
   * Runs `record` with `cache` active: the dispatches it records reuse the cache's bind groups
   * (see {@link BindGroupCache}). Not re-entrant; other work must not record meanwhile.
   */
  async withBindGroupCache<T>(cache: BindGroupCache, record: () => Promise<T>): Promise<T> {
    if (this.#bindCache) throw new Error("Recorder.withBindGroupCache: a cache is already active");
    this.#bindCache = cache;
    try {
      return await record();
    } finally {
      this.#bindCache = null;
    }
  }

  /** The cached bind group for this dispatch (params written if they changed), or null to make a fresh one. */
  #cachedBindGroup(
    cache: BindGroupCache,
    kernel: Kernel,
    buffers: readonly BufferEntry[],
    params: { binding: number; bytes: ArrayBuffer } | null,
  ): GPUBindGroup | null {
    const key = `${kernel.name}#${kernelId(kernel)}|${
      buffers.map(([b, buf, offset = 0]) => `${b}:${bufferId(buf)}@${offset}`).join(",")
    }`;
    const bytes = params ? new Uint8Array(params.bytes) : null;
    const now = this.submitCount;
    const hit = cache.entries.get(key);
    if (hit) {
      const same = !bytes || (hit.bytes !== null && sameBytes(hit.bytes, bytes));
      if (!same) {
        if (hit.usedIn === now) return null; // recorded in the pending submission with other params: not shareable
        // queue order: submitted commands keep the old bytes, everything submitted after this sees the new ones
        this.#device.queue.writeBuffer(
          hit.uniform!,
          0,
          bytes!.buffer as ArrayBuffer,
          bytes!.byteOffset,
          bytes!.byteLength,
        );
        hit.bytes = bytes!.slice();
      }
      hit.usedIn = this.submitCount;
      cache.hits++;
      return hit.bindGroup;
    }
    const device = this.#device;
    const entries: GPUBindGroupEntry[] = [];
    let uniform: GPUBuffer | null = null;
    if (params !== null) {
      const size = Math.max(16, Math.ceil(params.bytes.byteLength / 16) * 16);
      uniform = device.createBuffer({
        size,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        mappedAtCreation: true,
        label: `${kernel.name}.params (cached)`,
      });
      new Uint8Array(uniform.getMappedRange()).set(bytes!);
      uniform.unmap();
      entries.push({ binding: params.binding, resource: { buffer: uniform } });
    }
    for (const b of buffers) entries.push({ binding: b[0], resource: resource(b) });
    device.pushErrorScope("validation");
    const bindGroup = device.createBindGroup({ layout: kernel.layout, entries, label: kernel.name });
    this.#errors.push(device.popErrorScope().then((error) => ({ where: `shader "${kernel.name}"`, error })));
    cache.entries.set(key, { bindGroup, uniform, bytes: bytes?.slice() ?? null, usedIn: this.submitCount });
    cache.misses++;
    return bindGroup;
  }

  /** Records a buffer-to-buffer copy (byte offsets and size multiples of 4). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    if (size === 0) return;
    this.#currentEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
    this.#shaders.add("copyBufferToBuffer");
    if (++this.#commands >= MAX_COMMANDS_PER_SUBMIT) this.submit();
  }

  /**
   * Records copying `height` rows of `width` rgba32float texels from `src` (row r at byte
   * `srcOffset + r·bytesPerRow`; `srcOffset` a multiple of 16, `bytesPerRow` of 256) into the
   * texels [y0, y0 + height) x [0, width) of `texture`.
   */
  copyToTexture(
    src: GPUBuffer,
    srcOffset: number,
    bytesPerRow: number,
    texture: GPUTexture,
    width: number,
    height: number,
    y0 = 0,
  ): void {
    if (width === 0 || height === 0) return;
    this.#currentEncoder().copyBufferToTexture(
      { buffer: src, offset: srcOffset, bytesPerRow },
      { texture, origin: { x: 0, y: y0 } },
      [width, height],
    );
    this.#shaders.add("copyBufferToTexture");
    if (++this.#commands >= MAX_COMMANDS_PER_SUBMIT) this.submit();
  }

  /** Records filling the first `size` bytes of `buffer` with zeros (size a multiple of 4). */
  clear(buffer: GPUBuffer, size: number, offset = 0): void {
    if (size === 0) return;
    this.#currentEncoder().clearBuffer(buffer, offset, Math.ceil(size / 4) * 4);
    this.#shaders.add("clearBuffer");
    if (++this.#commands >= MAX_COMMANDS_PER_SUBMIT) this.submit();
  }

  /** True when commands are recorded but not submitted. */
  get pending(): boolean {
    return this.#encoder !== null;
  }

  /** Submits what has been recorded (without waiting for the GPU). */
  submit(): void {
    if (this.#encoder === null) return;
    const device = this.#device;
    const where = `submission of [${[...this.#shaders].join(", ")}]`;
    for (const a of this.#arenas) a.buffer.unmap();
    device.pushErrorScope("validation");
    device.queue.submit([this.#encoder.finish()]);
    this.#errors.push(device.popErrorScope().then((error) => ({ where, error })));
    for (const a of this.#arenas) a.buffer.destroy(); // freed once the submitted work completes
    this.#arenas = [];
    this.#encoder = null;
    this.#commands = 0;
    this.#shaders.clear();
    this.submitCount++;
    this.#unwaited = true;
  }

  /** True when work was submitted (or written) since the GPU was last known to be idle. */
  get unwaited(): boolean {
    return this.#unwaited;
  }

  /** Records that everything submitted so far has completed (after a wait or a readback). */
  markIdle(): void {
    if (this.#encoder === null) this.#unwaited = false;
  }

  /**
   * Submits what has been recorded and rethrows the first GPU validation error since the last
   * flush, naming the shader (or the shaders of the submission) it came from.
   */
  async flush(): Promise<void> {
    this.submit();
    const pending = this.#errors;
    this.#errors = [];
    for (const { where, error } of await Promise.all(pending)) {
      if (error) throw new Error(`WebGPU validation error in ${where}: ${error.message}`);
    }
  }

  /** Writes CPU data into a GPU buffer, after everything recorded so far (see BufferPool). */
  write(buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
    this.submit();
    this.#device.queue.writeBuffer(buffer, offset, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    this.#unwaited = true;
  }

  /** Reads `size` bytes of `buffer` from `offset` back to the CPU (waits for the GPU). */
  async read(buffer: GPUBuffer, offset: number, size: number): Promise<ArrayBuffer> {
    const [out] = await this.readMany([{ buffer, offset, size }]);
    return out;
  }

  /**
   * Reads several buffer ranges back with one mapping. A readback costs a round trip to the GPU's
   * poll loop (~10 ms on llvmpipe even when idle), so callers that need several small results read
   * them together.
   */
  async readMany(parts: readonly { buffer: GPUBuffer; offset: number; size: number }[]): Promise<ArrayBuffer[]> {
    const offsets: number[] = [];
    let total = 0;
    for (const p of parts) {
      offsets.push(total);
      total += Math.ceil(p.size / 4) * 4;
    }
    if (total === 0) return parts.map(() => new ArrayBuffer(0));
    this.readbackCount++;
    const staging = this.#pool.acquire(total, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, "readback");
    try {
      const encoder = this.#currentEncoder();
      parts.forEach((p, i) => {
        if (p.size > 0) encoder.copyBufferToBuffer(p.buffer, p.offset, staging, offsets[i], Math.ceil(p.size / 4) * 4);
      });
      await this.flush();
      await staging.mapAsync(GPUMapMode.READ, 0, total);
      const mapped = staging.getMappedRange(0, total);
      const out = parts.map((p, i) => mapped.slice(offsets[i], offsets[i] + p.size));
      staging.unmap();
      this.markIdle(); // the mapping completed after every earlier submission
      return out;
    } finally {
      this.#pool.release(staging);
    }
  }
}

/** Identity of a compiled kernel (one per shader and override constants) inside cache keys. */
const kernelIds = new WeakMap<Kernel, number>();
let nextKernelId = 1;
function kernelId(k: Kernel): number {
  let id = kernelIds.get(k);
  if (id === undefined) kernelIds.set(k, id = nextKernelId++);
  return id;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
