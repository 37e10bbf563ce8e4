/**
 * Choosing the next token from a logits row: greedy (temperature 0), or sampling with temperature,
 * top-k and top-p (nucleus), reproducible for a seed.
 *
 * The order follows Hugging Face's `generate` warpers: logits / temperature, then top-k (keep the k
 * largest), then top-p (keep the smallest set of most probable tokens whose probability reaches
 * p), then one draw from the renormalised distribution. Ties in value are broken by the lower id,
 * so the kept set is deterministic. The random stream is Python's Mersenne Twister
 * (`random.seed(seed)`, `random.random()`, see thanos/data/python_random.ts): one draw per token.
 *
 * @module
 */

import { PythonRandom } from "../data/python_random.ts";

/** How the next token is chosen. */
export interface SamplingOptions {
  /** 0 (default): greedy argmax; > 0: sample from softmax(logits / temperature) */
  temperature?: number;
  /** keep only the k most probable tokens (0, the default: all) */
  topK?: number;
  /** keep the smallest set of most probable tokens whose probability reaches p, in (0, 1] (default 1: all) */
  topP?: number;
  /** seed of the random stream (default 0) */
  seed?: number;
}

/** {@link SamplingOptions} with every field set. */
export type ResolvedSampling = Required<SamplingOptions>;

/**
 * Checks sampling options and fills in the defaults.
 * @throws RangeError naming the option, its value and what was expected
 * @example
 * ```ts
 * resolveSampling({ temperature: 0.8, topP: 0.95 }); // { temperature: 0.8, topK: 0, topP: 0.95, seed: 0 }
 * ```
 */
export function resolveSampling(options: SamplingOptions = {}): ResolvedSampling {
  const { temperature = 0, topK = 0, topP = 1, seed = 0 } = options;
  if (typeof temperature !== "number" || !Number.isFinite(temperature) || temperature < 0) {
    throw new RangeError(`temperature is ${temperature}; expected a finite number >= 0`);
  }
  if (!Number.isInteger(topK) || topK < 0) throw new RangeError(`top-k is ${topK}; expected an integer >= 0`);
  if (typeof topP !== "number" || !(topP > 0 && topP <= 1)) {
    throw new RangeError(`top-p is ${topP}; expected a number in (0, 1]`);
  }
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed is ${seed}; expected an integer >= 0`);
  return { temperature, topK, topP, seed };
}

/** Picks tokens from logits rows with one seeded random stream (see the module documentation). */
export class Sampler {
  readonly options: ResolvedSampling;
  readonly #random: PythonRandom;

  constructor(options: SamplingOptions = {}) {
    this.options = resolveSampling(options);
    this.#random = new PythonRandom(this.options.seed);
  }

  /** True at temperature 0: the token is the argmax (which the decoder computes on the GPU). */
  get greedy(): boolean {
    return this.options.temperature === 0;
  }

  /**
   * The next token from one logits row.
   * @param logits [vocab]
   * @returns a vocabulary id
   * @example
   * ```ts
   * const sampler = new Sampler({ temperature: 0.7, topK: 50, seed: 1 });
   * const id = sampler.sample(await decoder.readLogits());
   * ```
   */
  sample(logits: Float32Array): number {
    if (this.greedy) return argmaxOf(logits);
    const { temperature, topK, topP } = this.options;
    // candidates sorted by logit, descending, ties by the lower id
    let order = Array.from(logits.keys()).filter((i) => !Number.isNaN(logits[i]));
    order.sort((a, b) => logits[b] - logits[a] || a - b);
    if (topK > 0 && topK < order.length) order = order.slice(0, topK);
    const max = logits[order[0]] / temperature;
    const weights = order.map((i) => Math.exp(logits[i] / temperature - max));
    let total = weights.reduce((s, w) => s + w, 0);
    if (topP < 1) {
      let kept = 0, cumulative = 0;
      while (kept < order.length && cumulative < topP * total) cumulative += weights[kept++];
      order = order.slice(0, Math.max(1, kept));
      weights.length = order.length;
      total = cumulative;
    }
    const u = this.#random.random() * total;
    let acc = 0;
    for (let i = 0; i < order.length; i++) {
      acc += weights[i];
      if (u < acc) return order[i];
    }
    return order[order.length - 1];
  }
}

/** The lowest index of the largest value. */
export function argmaxOf(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}
