import { isCorruptedMessage } from "../kernel/run_notebooks.ts";
import { assertEquals } from "./assert.ts";

Deno.test("only a corrupted kernel message makes the runner execute a notebook again", () => {
  const trace = (last: string) =>
    `Traceback (most recent call last):\n  File "/usr/lib/python3/dist-packages/jupyter_client/session.py", line 1060, in deserialize\n${last}`;
  assertEquals(isCorruptedMessage(trace("ValueError: Invalid Signature: b'ab78'")), true);
  assertEquals(isCorruptedMessage(trace("json.decoder.JSONDecodeError: Invalid control character at: line 1")), true);
  // a notebook's own failures are never retried
  assertEquals(
    isCorruptedMessage("nbclient.exceptions.CellExecutionError: RangeError: Expected sparsity in [0, 1)"),
    false,
  );
  assertEquals(isCorruptedMessage("JSONDecodeError raised by the notebook's own code"), false);
});
