/**
 * Buffer pool keyed by (byte size, usage). Released buffers are kept and handed out again to the
 * next request of the same key, so that loops over blocks and layers stop allocating after the
 * first iteration. Also tracks the bytes the project holds on the GPU (live and peak), which the
 * benchmarks report.
 *
 * Reuse is safe without fences because every CPU → GPU write (`queue.writeBuffer`) is issued only
 * after the recorder has submitted the work recorded so far (see `Recorder.submit`), and the
 * queue executes in order.
 *
 * @module
 */

/** Usage of every tensor buffer: bindable as storage, copyable both ways. */
export const TENSOR_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Buffer sizes are rounded up to this many bytes (also WebGPU's copy alignment). */
const ALIGN = 16;

export class BufferPool {
  readonly #device: GPUDevice;
  readonly #free = new Map<string, GPUBuffer[]>();
  #liveBytes = 0;
  #pooledBytes = 0;
  #peakBytes = 0;
  #peakLiveBytes = 0;
  #largestLive = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Bytes currently handed out (not counting the pooled spares). */
  get liveBytes(): number {
    return this.#liveBytes;
  }
  /** Bytes allocated on the device: live plus pooled. */
  get allocatedBytes(): number {
    return this.#liveBytes + this.#pooledBytes;
  }
  /** Largest `allocatedBytes` seen since creation or the last `resetPeak()`. */
  get peakBytes(): number {
    return this.#peakBytes;
  }
  /**
   * Largest `liveBytes` seen since creation or the last `resetPeak()`: what the work itself held at
   * once, independent of how many spares the pool kept (the memory plan is checked against this).
   */
  get peakLiveBytes(): number {
    return this.#peakLiveBytes;
  }
  /** Largest single buffer handed out since creation or the last `resetPeak()`, in bytes. */
  get largestBufferBytes(): number {
    return this.#largestLive;
  }
  resetPeak(): void {
    this.#peakBytes = this.allocatedBytes;
    this.#peakLiveBytes = this.#liveBytes;
    this.#largestLive = 0;
  }

  /**
   * A buffer of at least `byteLength` bytes (rounded up to 16) with the given usage.
   * @param byteLength requested size in bytes (> 0)
   * @param usage GPUBufferUsage flags
   * @param label shown in GPU error messages
   */
  acquire(byteLength: number, usage: number, label: string): GPUBuffer {
    const size = Math.max(ALIGN, Math.ceil(byteLength / ALIGN) * ALIGN);
    const maxBufferSize = this.#device.limits.maxBufferSize;
    if (size > maxBufferSize) {
      throw new RangeError(
        `Cannot allocate "${label}": ${size} bytes exceeds the device's maxBufferSize of ${maxBufferSize} bytes`,
      );
    }
    const key = `${size}:${usage}`;
    const spare = this.#free.get(key)?.pop();
    if (spare) {
      this.#pooledBytes -= size;
      this.#liveBytes += size;
      this.#noteLive(size);
      spare.label = label;
      return spare;
    }
    const buffer = this.#device.createBuffer({ size, usage, label });
    this.#liveBytes += size;
    this.#noteLive(size);
    this.#peakBytes = Math.max(this.#peakBytes, this.allocatedBytes);
    return buffer;
  }

  #noteLive(size: number): void {
    if (this.#liveBytes > this.#peakLiveBytes) this.#peakLiveBytes = this.#liveBytes;
    if (size > this.#largestLive) this.#largestLive = size;
  }

  /** Returns a buffer obtained from `acquire` to the pool. */
  release(buffer: GPUBuffer): void {
    const key = `${buffer.size}:${buffer.usage}`;
    let list = this.#free.get(key);
    if (!list) this.#free.set(key, list = []);
    list.push(buffer);
    this.#liveBytes -= buffer.size;
    this.#pooledBytes += buffer.size;
  }

  /** Bytes of the pooled spares (released, kept for reuse). */
  get spareBytes(): number {
    return this.#pooledBytes;
  }

  /**
   * Destroys every pooled spare buffer (live ones are untouched) and returns the bytes freed. A
   * spare may still be named by recorded but unsubmitted work: call `Gpu.releaseSpares()`, which
   * submits first, unless nothing is recorded.
   */
  trim(): number {
    for (const list of this.#free.values()) for (const b of list) b.destroy();
    this.#free.clear();
    const freed = this.#pooledBytes;
    this.#pooledBytes = 0;
    return freed;
  }
}
