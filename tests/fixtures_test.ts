/**
 * The fixture models the project trains itself (tools/fixtures/, issue "Fixture models"): present,
 * configs valid, every tensor shaped as the config implies, within the size budget, with a model card
 * and a golden file; the shared tokenizer encodes exactly as the Python encoder that trained it did,
 * and decodes losslessly.
 */
import { loadTokenizer } from "../thanos/data/tokenizer.ts";
import { openCheckpoint } from "../thanos/model/checkpoint.ts";
import { assert, assertEquals } from "./assert.ts";

const MODELS = { "tiny-llama": "llama", "tiny-opt": "opt", "tiny-gpt2": "gpt2" } as const;
const MAX_BYTES = 25 * 1024 * 1024;

for (const [name, family] of Object.entries(MODELS)) {
  Deno.test(`models/${name}: a valid ${family} checkpoint with card, golden file and tokenizer`, async () => {
    const dir = `models/${name}`;
    const ckpt = await openCheckpoint(dir); // validates config.json and every tensor's shape
    assertEquals(ckpt.config.family, family);
    assertEquals(ckpt.config.vocabSize, 4096);
    assertEquals(ckpt.extraTensors, []);
    for (const t of ckpt.layout.tensors) assertEquals(ckpt.tensors.entry(t.name).shape, t.shape, t.name);
    let bytes = 0;
    for (const f of ckpt.files) bytes += (await Deno.stat(f)).size;
    assert(bytes <= MAX_BYTES, `${name}: ${bytes} bytes of weights, more than 25 MB`);
    const card = await Deno.readTextFile(`${dir}/README.md`);
    for (const section of ["## Architecture", "## Data", "## Training", "## Evaluation"]) {
      assert(card.includes(section), `${name}/README.md lacks "${section}"`);
    }
    const golden = JSON.parse(await Deno.readTextFile(`${dir}/golden.json`));
    assertEquals(golden.logits.length, golden.positions.length);
    assertEquals(golden.logits[0].length, 4096);
    const tok = await loadTokenizer(dir);
    assertEquals(tok.encode(golden.text), golden.token_ids, "golden token ids");
  });
}

Deno.test("the fixture tokenizer encodes every sample exactly as the Python encoder did", async () => {
  const { samples } = JSON.parse(await Deno.readTextFile("models/tokenizer-samples.json"));
  const tok = await loadTokenizer("models/tokenizer.json");
  assertEquals(tok.vocabSize, 4096);
  assert(samples.length >= 20, "at least 20 samples");
  for (const { text, ids } of samples as { text: string; ids: number[] }[]) {
    assertEquals(tok.encode(text), ids, `encode(${JSON.stringify(text)})`);
    assertEquals(tok.decode(ids), text, `decode(encode(${JSON.stringify(text)}))`);
  }
});
