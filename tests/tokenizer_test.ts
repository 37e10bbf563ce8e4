/**
 * tokenizer.json loading through @huggingface/tokenizers, on a tiny byte-level BPE tokenizer built
 * here (GPT-2 layout: ids 0..255 are the bytes, then one id per merge, then <|endoftext|>), and on
 * the fixture model's tokenizer when models/tiny-llama exists.
 */
import { join } from "node:path";
import { assertEquals, assertRejects } from "./assert.ts";
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { byteTokenizerJson } from "./tiny_models.ts";

/** Three merges ("th", "the", "Ġthe") and <|endoftext|> (id 259) on top of the 256 bytes. */
function tinyTokenizer(postProcessor: unknown = null) {
  return byteTokenizerJson({
    merges: [["t", "h"], ["th", "e"], ["Ġ", "the"]],
    special: ["<|endoftext|>"],
    postProcessor,
  });
}

/** A post-processor that prepends <|endoftext|> as a BOS, like Llama's template. */
const BOS_TEMPLATE = {
  type: "TemplateProcessing",
  single: [{ SpecialToken: { id: "<|endoftext|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
  pair: [{ Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
  special_tokens: { "<|endoftext|>": { id: "<|endoftext|>", ids: [259], tokens: ["<|endoftext|>"] } },
};

Deno.test("a byte-level BPE tokenizer.json encodes with its merges and round-trips text", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify(tinyTokenizer()));
  const tok = await loadTokenizer(dir);
  assertEquals(tok.path, join(dir, "tokenizer.json"));
  assertEquals(tok.vocabSize, 260);
  assertEquals(tok.encode("the cat the"), [257, 32, 99, 97, 116, 258]); // "the", " c a t", " the"
  assertEquals(tok.decode([257, 32, 99, 97, 116, 258]), "the cat the");
  for (const text of ["Fellow-Citizens of the Senate , and House .", "naïve ☃ — 1790\n\n  x", ""]) {
    assertEquals(tok.decode(tok.encode(text)), text);
  }
  assertEquals(tok.encode("a<|endoftext|>the"), [97, 259, 257]);
  assertEquals(tok.decode([97, 259, 257], { skipSpecialTokens: true }), "athe");
  assertEquals([tok.tokenToId("Ġthe"), tok.idToToken(256)], [258, "th"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("special tokens are added only when asked", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify(tinyTokenizer(BOS_TEMPLATE)));
  const tok = await loadTokenizer(join(dir, "tokenizer.json"));
  assertEquals(tok.encode("the"), [257]);
  assertEquals(tok.encode("the", { addSpecialTokens: true }), [259, 257]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("tokenizer_config.json beside the file is honoured (clean_up_tokenization_spaces)", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify(tinyTokenizer()));
  const text = "Senate , and House .";
  assertEquals((await loadTokenizer(dir)).decode((await loadTokenizer(dir)).encode(text)), text);
  await Deno.writeTextFile(join(dir, "tokenizer_config.json"), JSON.stringify({ clean_up_tokenization_spaces: true }));
  const tok = await loadTokenizer(dir);
  assertEquals(tok.decode(tok.encode(text)), "Senate, and House.");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a GPT-2-style repository without tokenizer.json (vocab.json + merges.txt) tokenizes the same", async () => {
  const dir = await Deno.makeTempDir();
  const json = tinyTokenizer();
  await Deno.writeTextFile(join(dir, "vocab.json"), JSON.stringify(json.model.vocab));
  await Deno.writeTextFile(join(dir, "merges.txt"), "#version: 0.2\n" + json.model.merges.join("\n") + "\n");
  // as facebook/opt-*: a BOS added by the slow tokenizer, special tokens spelled as strings or {content}
  await Deno.writeTextFile(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({ add_bos_token: true, bos_token: { content: "<|endoftext|>" }, eos_token: "<|endoftext|>" }),
  );
  const slow = await loadTokenizer(dir);
  assertEquals(slow.path, join(dir, "vocab.json"));
  assertEquals(slow.vocabSize, 260);
  assertEquals(slow.encode("the cat the"), [257, 32, 99, 97, 116, 258]);
  assertEquals(slow.encode("the", { addSpecialTokens: true }), [259, 257]);
  assertEquals(slow.encode("a<|endoftext|>the"), [97, 259, 257]);
  assertEquals(slow.decode(slow.encode("naïve ☃ — 1790")), "naïve ☃ — 1790");
  assertEquals((await loadTokenizer(join(dir, "vocab.json"))).encode("the"), [257]);
  await Deno.remove(join(dir, "merges.txt"));
  await assertRejects(
    () => loadTokenizer(join(dir, "vocab.json")),
    Error,
    `loadTokenizer: ${join(dir, "merges.txt")} not found`,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a missing or broken tokenizer.json is a clear error", async () => {
  const dir = await Deno.makeTempDir();
  await assertRejects(
    () => loadTokenizer(dir),
    Error,
    `loadTokenizer: tokenizer file ${join(dir, "tokenizer.json")} not found`,
  );
  await assertRejects(
    () => loadTokenizer(join(dir, "x.json")),
    Error,
    `loadTokenizer: tokenizer file ${join(dir, "x.json")} not found`,
  );
  await Deno.writeTextFile(join(dir, "tokenizer.json"), "{");
  await assertRejects(
    () => loadTokenizer(dir),
    Error,
    `loadTokenizer: ${join(dir, "tokenizer.json")} is not valid JSON`,
  );
  await Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify({ model: { type: "Nonsense" } }));
  await assertRejects(
    () => loadTokenizer(dir),
    Error,
    `loadTokenizer: ${join(dir, "tokenizer.json")} could not be built`,
  );
  await Deno.remove(dir, { recursive: true });
});

const FIXTURE = new URL("../models/tiny-llama/tokenizer.json", import.meta.url).pathname;
const hasFixture = (() => {
  try {
    return Deno.statSync(FIXTURE).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "the fixture model's tokenizer round-trips State of the Union text",
  ignore: !hasFixture,
  fn: async () => {
    const tok = await loadTokenizer(FIXTURE);
    const text = "Fellow-Citizens of the Senate and House of Representatives: I embrace with great satisfaction…";
    const ids = tok.encode(text);
    assertEquals(ids.length < text.length, true);
    assertEquals(tok.decode(ids), text);
  },
});
