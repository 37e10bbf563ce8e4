/**
 * The KV cache of a decoder: for every block, the keys and values of every position decoded so far,
 * preallocated on the GPU for `maxLength` positions.
 *
 * A block's keys are a [maxLength, kvHeads·headDim] matrix stored as position chunks, each small
 * enough for one storage binding (like embedding tables, see `RowChunks`), so a long context never
 * needs one binding larger than the device allows; the decode kernels take one chunk per dispatch.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { empty, type Tensor } from "../gpu/tensor.ts";
import { rowsPerBinding } from "../model/ops.ts";
import type { CacheSlice } from "./ops.ts";

/** One position chunk of a block's cache: positions lo .. lo + rows − 1. */
export interface CacheChunk {
  readonly lo: number;
  /** f32 [rows, kvHeads·headDim] */
  readonly k: Tensor;
  /** f32 [rows, kvHeads·headDim] */
  readonly v: Tensor;
}

/** Per-block key/value storage for `maxLength` positions (see the module documentation). */
export class KvCache implements Disposable {
  readonly maxLength: number;
  /** kvHeads·headDim: the values of one position of one block */
  readonly width: number;
  /** chunks[b] = block b's position chunks, in order */
  readonly chunks: readonly (readonly CacheChunk[])[];
  /** positions per chunk (the last chunk may hold fewer) */
  readonly chunkRows: number;

  /**
   * @param gpu the device
   * @param blocks number of decoder blocks
   * @param maxLength positions to hold
   * @param width kvHeads·headDim
   * @param maxChunkBytes largest chunk tensor (default the device's storage binding limit)
   */
  constructor(gpu: Gpu, blocks: number, maxLength: number, width: number, maxChunkBytes?: number) {
    this.maxLength = maxLength;
    this.width = width;
    this.chunkRows = Math.min(maxLength, rowsPerBinding(gpu, width, maxChunkBytes));
    const chunks: CacheChunk[][] = [];
    try {
      for (let b = 0; b < blocks; b++) {
        const list: CacheChunk[] = [];
        chunks.push(list);
        for (let lo = 0; lo < maxLength; lo += this.chunkRows) {
          const rows = Math.min(this.chunkRows, maxLength - lo);
          const k = empty(gpu, [rows, width], "f32", `kv cache ${b}.k[${lo}:]`);
          const v = empty(gpu, [rows, width], "f32", `kv cache ${b}.v[${lo}:]`);
          list.push({ lo, k, v });
        }
      }
    } catch (err) {
      for (const list of chunks) for (const c of list) c.k.release(), c.v.release();
      throw err;
    }
    this.chunks = chunks;
  }

  /** The chunk of block `b` that holds position `pos`. */
  chunkAt(b: number, pos: number): CacheChunk {
    if (!Number.isInteger(pos) || pos < 0 || pos >= this.maxLength) {
      throw new RangeError(`KvCache: position ${pos} is outside the cache of ${this.maxLength} positions`);
    }
    return this.chunks[b][Math.floor(pos / this.chunkRows)];
  }

  /** The key (or value) slices of block `b` that cover positions 0 .. length − 1. */
  slices(b: number, length: number, which: "k" | "v"): CacheSlice[] {
    const out: CacheSlice[] = [];
    for (const c of this.chunks[b]) {
      if (c.lo >= length) break;
      out.push({ tensor: c[which], lo: c.lo, n: Math.min(c[which].shape[0], length - c.lo) });
    }
    return out;
  }

  /** Frees every chunk. */
  release(): void {
    for (const list of this.chunks) for (const c of list) c.k.release(), c.v.release();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
