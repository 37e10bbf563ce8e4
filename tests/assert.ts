/**
 * Assertions in the style of Deno's std/assert (JSR is unreachable here), built on node:assert.
 * `assertThrows`/`assertRejects` check the error class and that the message contains `includes`.
 */
import nodeAssert from "node:assert/strict";

export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, message);
}

// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;

function check(err: unknown, cls: ErrorClass | undefined, includes: string | undefined): Error {
  if (!(err instanceof Error)) throw new Error(`Expected an Error to be thrown but got ${String(err)}`);
  if (cls && !(err instanceof (cls as ErrorClass))) {
    throw new Error(`Expected ${cls.name} but got ${(err as Error).constructor.name}: ${(err as Error).message}`);
  }
  if (includes !== undefined && !err.message.includes(includes)) {
    throw new Error(`Expected the message to include:\n  ${includes}\nbut it was:\n  ${err.message}`);
  }
  return err;
}

export function assertThrows(fn: () => unknown, cls?: ErrorClass, includes?: string): Error {
  try {
    fn();
  } catch (err) {
    return check(err, cls, includes);
  }
  throw new Error(`Expected the function to throw${includes ? ` "${includes}"` : ""}`);
}

export async function assertRejects(
  fn: () => PromiseLike<unknown>,
  cls?: ErrorClass,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return check(err, cls, includes);
  }
  throw new Error(`Expected the promise to reject${includes ? ` with "${includes}"` : ""}`);
}
