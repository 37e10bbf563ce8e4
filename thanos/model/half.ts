/**
 * Exact conversions between 16-bit floats (IEEE binary16 "F16" and bfloat16 "BF16") and float32.
 *
 * Widening (16 → 32 bits) is exact for every input, NaN payloads included. Narrowing (32 → 16 bits)
 * rounds to nearest, ties to even — the rounding of `torch.Tensor.half()` / `.bfloat16()` — so
 * values past the 16-bit range become ±Infinity and NaN stays NaN (quiet).
 *
 * All functions work on raw bit patterns in a `Uint16Array`, which is what a safetensors file holds.
 *
 * @module
 */

let f16Table: Float32Array | null = null;

/** float32 value of every binary16 bit pattern (built once, 256 KiB). */
function f16ToF32Table(): Float32Array {
  if (f16Table !== null) return f16Table;
  const table = new Float32Array(65536);
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    let mant = h & 0x3ff;
    if (exp === 0x1f) {
      bits[h] = sign | 0x7f800000 | (mant << 13); // Inf / NaN (payload kept)
    } else if (exp !== 0) {
      bits[h] = sign | ((exp + 112) << 23) | (mant << 13); // normal: rebias 15 → 127
    } else if (mant === 0) {
      bits[h] = sign; // ±0
    } else {
      // subnormal: value = mant · 2^-24; normalise the mantissa
      let e = 113; // exponent field of 2^-14 in float32
      while ((mant & 0x400) === 0) {
        mant <<= 1;
        e--;
      }
      bits[h] = sign | (e << 23) | ((mant & 0x3ff) << 13);
    }
  }
  f16Table = table;
  return table;
}

/**
 * Widens binary16 bit patterns to float32 (exact).
 * @param half raw F16 bits
 * @returns a new Float32Array of the same length
 * @example
 * ```ts
 * f16ToF32(new Uint16Array([0x3c00, 0xc000])); // Float32Array [1, -2]
 * ```
 */
export function f16ToF32(half: Uint16Array): Float32Array {
  const table = f16ToF32Table();
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) out[i] = table[half[i]];
  return out;
}

/**
 * Widens bfloat16 bit patterns to float32 (exact: bfloat16 is the top half of a float32).
 * @param half raw BF16 bits
 * @returns a new Float32Array of the same length
 * @example
 * ```ts
 * bf16ToF32(new Uint16Array([0x3f80])); // Float32Array [1]
 * ```
 */
export function bf16ToF32(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < half.length; i++) bits[i] = half[i] << 16;
  return out;
}

/**
 * Narrows float32 values to binary16, rounding to nearest with ties to even.
 * @param values float32 values
 * @returns raw F16 bits (overflow → ±Infinity, NaN → quiet NaN with the sign kept)
 * @example
 * ```ts
 * f32ToF16(new Float32Array([1, 65520])); // Uint16Array [0x3c00, 0x7c00]
 * ```
 */
export function f32ToF16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) out[i] = f32BitsToF16(bits[i]);
  return out;
}

/**
 * One float32 bit pattern → binary16 bits, round to nearest even.
 * @param x the float32's bits as an unsigned 32-bit integer
 * @returns the binary16 bits
 * @example
 * ```ts
 * f32BitsToF16(0x3f800000); // 0x3c00 (1.0)
 * ```
 */
function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0); // Inf / NaN
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // result is subnormal or zero: shift the full significand (implicit 1) right, round half to even
    if (e < -10) return sign; // below half the smallest subnormal: rounds to ±0
    const full = mant | 0x800000;
    const shift = 14 - e; // 14..24
    const kept = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    const up = rest > half || (rest === half && (kept & 1) === 1) ? 1 : 0;
    return sign | (kept + up); // a carry into bit 10 correctly yields the smallest normal
  }
  const kept = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  const up = rest > 0x1000 || (rest === 0x1000 && (kept & 1) === 1) ? 1 : 0;
  return sign | (kept + up); // a carry may overflow the exponent into 0x7c00 = Inf, as it should
}

/**
 * Narrows float32 values to bfloat16, rounding to nearest with ties to even.
 * @param values float32 values
 * @returns raw BF16 bits (overflow → ±Infinity, NaN → quiet NaN with the sign kept)
 * @example
 * ```ts
 * f32ToBf16(new Float32Array([1])); // Uint16Array [0x3f80]
 * ```
 */
export function f32ToBf16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i];
    if ((x & 0x7fffffff) > 0x7f800000) {
      out[i] = ((x >>> 16) & 0x8000) | 0x7fc0; // NaN
    } else {
      out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16; // wraps to Inf on overflow, as it should
    }
  }
  return out;
}
