/**
 * kernel/text_stream.ts: in a notebook, one display id updated in place with the text so far;
 * outside, the pieces written as they come.
 */
import { assertEquals } from "./assert.ts";
import { type JupyterApi, textStream } from "../kernel/mod.ts";

Deno.test("textStream: display_data, then update_display_data with the accumulated text", () => {
  const sent: { type: string; content: any }[] = [];
  const api: JupyterApi = {
    display: () => Promise.reject(new Error("textStream must use broadcast")),
    broadcast: (type, content) => void sent.push({ type, content }),
  };
  const out = textStream({ label: "dense:", jupyter: api });
  out.append(" the");
  out.append("");
  out.append(" <United>");
  assertEquals(sent.map((m) => m.type), ["display_data", "update_display_data", "update_display_data"]);
  assertEquals(new Set(sent.map((m) => m.content.transient.display_id)).size, 1);
  assertEquals(sent[2].content.data["text/plain"], "dense:  the <United>");
  assertEquals(sent[2].content.data["text/html"].includes("the &lt;United&gt;"), true);
  assertEquals(out.text, " the <United>");
});

Deno.test("textStream outside a notebook writes each piece", () => {
  const written: string[] = [];
  const out = textStream({ label: "x:", jupyter: undefined, write: (t) => void written.push(t) });
  out.append("a");
  out.append("b");
  assertEquals(written, ["x: ", "a", "b"]);
});
