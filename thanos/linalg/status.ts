/**
 * Failure status of GPU factorizations: a tiny u32 buffer that kernels write when a pivot is not
 * positive, read back only when the caller chooses to (`check()`), so that loops over blocks never
 * wait on the GPU and a non-positive-definite matrix still never passes silently.
 *
 * Every operation that records into a status gets a sequence number (its "op", 1, 2, … in
 * recording order, which is also execution order). Kernels report with the op and a key (the pivot
 * index, or `row·512 + pivot` for batched solves) and the status keeps the FIRST failing op and the
 * SMALLEST key within it — deterministic however the GPU schedules the work:
 *
 *   status[0] = ~op of the first failing op       (atomicMax of the complement; 0 = no failure)
 *   status[1] = ~key, smallest key of that op      (atomicMax of the complement)
 *   status[2] = bits of the failing pivot (f32)    (meaningful where one invocation reports)
 *
 * The shaders that report (chol_panel.wgsl, gathered_solve.wgsl) share this protocol.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";
import { type Tensor, zeros } from "../gpu/tensor.ts";

/** What a kernel found: the key it reported and the pivot value (NaN where not recorded). */
export interface PivotFailure {
  key: number;
  pivot: number;
}

/** Formats the error message of one recorded operation from the failure it reported. */
export type FailureMessage = (failure: PivotFailure) => string;

/**
 * Records the first non-positive pivot met by the factorizations recorded into it.
 *
 * @example
 * ```ts
 * const status = new FactorStatus(gpu);
 * for (const block of blocks) await spdInverse(block, { status });
 * await status.check(); // one readback; throws naming the first failing operation
 * ```
 */
export class FactorStatus {
  readonly gpu: Gpu;
  /** u32 [4], see the module documentation */
  readonly tensor: Tensor<"u32">;
  #messages: FailureMessage[] = [];

  /**
   * @param gpu the GPU context
   * @param label label of the status buffer (shown in GPU errors)
   */
  constructor(gpu: Gpu, label = "factorStatus") {
    this.gpu = gpu;
    this.tensor = zeros(gpu, [4], "u32", label);
  }

  /**
   * Registers one operation about to be recorded; the returned op number goes into its kernels'
   * parameters. Used by the kernel wrappers, not by callers.
   *
   * @param message formats this operation's error from what its kernels reported
   * @returns the op number (≥ 1)
   */
  register(message: FailureMessage): number {
    this.tensor.assertAlive();
    this.#messages.push(message);
    if (this.#messages.length >= 0xffffffff) throw new RangeError("FactorStatus: too many operations; reset() it");
    return this.#messages.length;
  }

  /**
   * Reads the status back (waits for the GPU).
   * @returns the message of the first failure, or null when every pivot was positive
   */
  async failure(): Promise<string | null> {
    const [op, key, pivotBits] = await this.tensor.read();
    if (op === 0) return null;
    const index = (~op >>> 0) - 1;
    const pivot = new Float32Array(new Uint32Array([pivotBits]).buffer)[0];
    const message = this.#messages[index];
    const failure = { key: ~key >>> 0, pivot };
    return message ? message(failure) : `factorization ${index + 1} failed (key ${failure.key})`;
  }

  /**
   * Reads the status back and throws if any recorded factorization met a non-positive pivot.
   * @throws Error with the failing operation's message, e.g.
   *   `cholesky: "H"[0:4, 0:4] (4x4) is not positive definite (pivot j = 2 is -1, expected > 0)`
   */
  async check(): Promise<void> {
    const message = await this.failure();
    if (message !== null) throw new Error(message);
  }

  /** Clears the status (recorded after the work so far) and forgets the registered operations. */
  reset(): void {
    this.tensor.assertAlive();
    this.gpu.recorder.clear(this.tensor.buffer, this.tensor.byteLength);
    this.#messages = [];
  }

  /** Returns the buffer to the pool. */
  release(): void {
    this.tensor.release();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * Runs `record` with `status` if the caller gave one (the caller checks it later), else with a
 * fresh status that is checked, and released, before returning: a readback that throws on failure.
 */
export async function withStatus<T>(
  gpu: Gpu,
  status: FactorStatus | undefined,
  record: (status: FactorStatus) => Promise<T>,
): Promise<T> {
  if (status) return await record(status);
  const own = new FactorStatus(gpu);
  try {
    const result = await record(own);
    await own.check();
    return result;
  } finally {
    own.release();
  }
}
