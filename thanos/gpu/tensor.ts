/**
 * A small tensor handle: a shape, an element type and a GPUBuffer from the pool.
 *
 * Tensors are row-major and contiguous. Element types are 32-bit (`f32` for values, `u32` for
 * masks and indices, `i32` where a sign is needed) because WGSL storage arrays are 32-bit.
 * A tensor owns its buffer unless it is a view (`reshape`); `release()` (or `using`) returns an
 * owned buffer to the pool.
 *
 * @module
 */

import { getGpu, type Gpu } from "./device.ts";
import { TENSOR_USAGE } from "./pool.ts";

export type DType = "f32" | "u32" | "i32";
export type TypedArrayOf<D extends DType> = D extends "f32" ? Float32Array
  : D extends "u32" ? Uint32Array
  : Int32Array;

/** Number of elements of a shape; throws on negative or fractional dimensions. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`Invalid tensor shape [${shape}]`);
    n *= d;
  }
  return n;
}

export class Tensor<D extends DType = DType> {
  readonly gpu: Gpu;
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
  readonly dtype: D;
  readonly label: string;
  readonly #owner: boolean;
  #released = false;

  constructor(gpu: Gpu, buffer: GPUBuffer, shape: readonly number[], dtype: D, label: string, owner = true) {
    this.gpu = gpu;
    this.buffer = buffer;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.label = label;
    this.#owner = owner;
  }

  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }
  /** Bytes of data (4 per element). */
  get byteLength(): number {
    return this.size * 4;
  }
  get released(): boolean {
    return this.#released;
  }

  /** A view with another shape of the same number of elements; it does not own the buffer. */
  reshape(shape: readonly number[]): Tensor<D> {
    this.#check();
    if (numel(shape) !== this.size) {
      throw new RangeError(`Cannot reshape "${this.label}" of shape [${this.shape}] to [${shape}]`);
    }
    return new Tensor(this.gpu, this.buffer, shape, this.dtype, this.label, false);
  }

  /** Returns the buffer to the pool. Using the tensor afterwards is an error. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#owner) this.gpu.pool.release(this.buffer);
  }

  [Symbol.dispose](): void {
    this.release();
  }

  #check(): void {
    if (this.#released) throw new Error(`Tensor "${this.label}" was used after release()`);
  }

  /** Throws unless the tensor is alive (used by kernel wrappers before binding it). */
  assertAlive(): void {
    this.#check();
  }

  /** Copies the data back to the CPU (waits for all recorded work). */
  async read(): Promise<TypedArrayOf<D>> {
    this.#check();
    const bytes = await this.gpu.recorder.read(this.buffer, 0, this.byteLength);
    return arrayOf(this.dtype, bytes) as TypedArrayOf<D>;
  }

  /** Overwrites the data from the CPU (same number of elements). */
  write(data: TypedArrayOf<D>): void {
    this.#check();
    if (data.length !== this.size) {
      throw new RangeError(`Cannot write ${data.length} elements into "${this.label}" of shape [${this.shape}]`);
    }
    this.gpu.recorder.write(this.buffer, 0, data);
  }

  toString(): string {
    return `Tensor<${this.dtype}>[${this.shape.join("x")}] "${this.label}"`;
  }
}

/**
 * Reads several tensors back with one GPU round trip (each `read()` costs one; ~10 ms on llvmpipe).
 * @example
 * ```ts
 * const [dots, counts] = await readAll(dotsTensor, countsTensor);
 * ```
 */
export async function readAll<T extends readonly Tensor[]>(
  ...tensors: T
): Promise<{ [K in keyof T]: T[K] extends Tensor<infer D> ? TypedArrayOf<D> : never }> {
  if (tensors.length === 0) return [] as never;
  for (const t of tensors) t.assertAlive();
  const bytes = await tensors[0].gpu.recorder.readMany(
    tensors.map((t) => ({ buffer: t.buffer, offset: 0, size: t.byteLength })),
  );
  return tensors.map((t, i) => arrayOf(t.dtype, bytes[i])) as never;
}

function arrayOf(dtype: DType, bytes: ArrayBuffer): Float32Array | Uint32Array | Int32Array {
  switch (dtype) {
    case "f32":
      return new Float32Array(bytes);
    case "u32":
      return new Uint32Array(bytes);
    case "i32":
      return new Int32Array(bytes);
  }
}

function dtypeOf(data: Float32Array | Uint32Array | Int32Array): DType {
  if (data instanceof Float32Array) return "f32";
  if (data instanceof Uint32Array) return "u32";
  return "i32";
}

/**
 * Returns `t` once `write(t)` has finished, and disposes of `t` if it throws: the ownership rule of
 * a function that returns a new tensor (or other disposable): the caller owns it; on an error
 * nobody does, so it is freed.
 * @example
 * ```ts
 * const y = await filledBy(empty(gpu, [rows, cols]), (out) => gatherRows(ids, table, out));
 * ```
 */
export async function filledBy<T extends Disposable>(t: T, write: (t: T) => Promise<unknown> | unknown): Promise<T> {
  try {
    await write(t);
    return t;
  } catch (err) {
    t[Symbol.dispose]();
    throw err;
  }
}

/** Allocates an uninitialised tensor (contents are whatever the pooled buffer held). */
export function empty<D extends DType = "f32">(
  gpu: Gpu,
  shape: readonly number[],
  dtype: D = "f32" as D,
  label = "tensor",
): Tensor<D> {
  const t = allocate(gpu, shape, dtype, label);
  if (gpu.poisonEmpty) {
    // debugging aid: every byte 0xFF (NaN as f32, 2³²−1 as u32, −1 as i32), written after all
    // recorded work, so a kernel that reads a part of an empty tensor it never wrote shows up
    gpu.recorder.write(t.buffer, 0, new Uint8Array(t.buffer.size).fill(0xff));
  }
  return t;
}

/** A tensor on a pooled buffer, as is: for `empty` and for the allocators that overwrite it whole. */
function allocate<D extends DType>(gpu: Gpu, shape: readonly number[], dtype: D, label: string): Tensor<D> {
  // larger than one storage binding is fine: launches bind such a buffer in chunks (gpu/chunked.ts)
  const bytes = numel(shape) * 4;
  const maxBuffer = gpu.limits.maxBufferSize;
  if (bytes > maxBuffer) {
    throw new RangeError(
      `Tensor "${label}" of shape [${shape}] needs ${bytes} bytes, more than the device's ` +
        `maxBufferSize of ${maxBuffer} bytes`,
    );
  }
  return new Tensor(gpu, gpu.pool.acquire(bytes, TENSOR_USAGE, label), shape, dtype, label);
}

/** Allocates a tensor filled with zeros. */
export function zeros<D extends DType = "f32">(
  gpu: Gpu,
  shape: readonly number[],
  dtype: D = "f32" as D,
  label = "zeros",
): Tensor<D> {
  const t = allocate(gpu, shape, dtype, label);
  // clearBuffer is recorded like a dispatch, so it is ordered with the surrounding work
  gpu.recorder.clear(t.buffer, t.byteLength);
  return t;
}

/**
 * Uploads CPU data as a new tensor.
 * @param data values, row-major; its type sets the dtype
 * @param shape defaults to `[data.length]`
 * @example
 * ```ts
 * const gpu = await getGpu();
 * const a = upload(gpu, new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], "A");
 * console.log(await a.read());
 * ```
 */
export function upload<A extends Float32Array | Uint32Array | Int32Array>(
  gpu: Gpu,
  data: A,
  shape: readonly number[] = [data.length],
  label = "upload",
): Tensor<A extends Float32Array ? "f32" : A extends Uint32Array ? "u32" : "i32"> {
  if (numel(shape) !== data.length) {
    throw new RangeError(`upload "${label}": ${data.length} values do not fill shape [${shape}]`);
  }
  const t = allocate(gpu, shape, dtypeOf(data), label);
  gpu.recorder.write(t.buffer, 0, data);
  return t as never;
}

/** Convenience: the shared GPU plus `upload`, for notebooks and tests. */
export async function tensor(
  data: Float32Array | Uint32Array | Int32Array,
  shape?: readonly number[],
  label?: string,
): Promise<Tensor> {
  return upload(await getGpu(), data, shape, label);
}
