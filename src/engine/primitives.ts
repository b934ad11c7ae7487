/**
 * Integer primitives of docs/model-format.md §1 and §4.1, exact in IEEE doubles. A product of two int32
 * (up to 2^62) does not fit a double's 53-bit mantissa, so srdhm splits one factor into 16-bit halves;
 * every intermediate then stays below 2^48 and every division is by a power of two (exact). The unit tests
 * compare these against BigInt over random and edge-case inputs.
 */

const TWO_15 = 32768;
const TWO_16 = 65536;
const TWO_30 = 1073741824;
const TWO_31 = 2147483648;
export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/** Saturating rounding doubling high multiply: round(a·b / 2^31), ties toward +∞ (gemmlowp). */
export function srdhm(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  // a·b = p1·2^16 + p0 with p1 = a·bh, p0 = a·bl, bl in [0, 2^16).
  const bh = b >> 16;
  const bl = b & 0xffff;
  const p1 = a * bh;
  const p0 = a * bl;
  // p1 = q1·2^15 + r1, so a·b = q1·2^31 + (r1·2^16 + p0).
  const q1 = Math.floor(p1 / TWO_15);
  const r1 = p1 - q1 * TWO_15;
  const negative = a !== 0 && b !== 0 && a < 0 !== b < 0;
  const t = r1 * TWO_16 + p0 + (negative ? 1 - TWO_30 : TWO_30);
  // (a·b + nudge) has the sign of a·b; C's division truncates toward zero.
  // The result fits int32; `| 0` also turns Math.ceil's −0 into 0.
  return (q1 + (negative ? Math.ceil(t / TWO_31) : Math.floor(t / TWO_31))) | 0;
}

/** Rounding divide by 2^e (0 ≤ e ≤ 31), ties away from zero. x is int32. */
export function rdbpot(x: number, e: number): number {
  const mask = e === 31 ? 0x7fffffff : (1 << e) - 1;
  const rem = x & mask;
  const thr = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (rem > thr ? 1 : 0);
}

/** x · M · 2^(shift − 31) the TFLite way; x int32, shift in [−31, 31]. */
export function mbqm(x: number, m: number, shift: number): number {
  if (shift > 0) return rdbpot(srdhm(x << shift, m), 0);
  return rdbpot(srdhm(x | 0, m), -shift);
}

/** floor((x + 2^(s−1)) / 2^s) for s ≥ 1; exact while |x| < 2^53. */
export function rsr(x: number, s: number): number {
  const p = 2 ** s;
  return Math.floor((x + p / 2) / p);
}

export function sat16(x: number): number {
  return x < -32768 ? -32768 : x > 32767 ? 32767 : x;
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** BigInt references of the spec's pseudo-code, for tests (slow, obviously right). */
export const reference = {
  srdhm(a: number, b: number): number {
    if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
    const ab = BigInt(a) * BigInt(b);
    const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
    return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, like C
  },
  rdbpot(x: number, e: number): number {
    const X = BigInt(x);
    const mask = (1n << BigInt(e)) - 1n;
    const rem = X & mask;
    const thr = (mask >> 1n) + (X < 0n ? 1n : 0n);
    return Number((X >> BigInt(e)) + (rem > thr ? 1n : 0n));
  },
  mbqm(x: number, m: number, shift: number): number {
    const left = shift > 0 ? shift : 0;
    const right = shift > 0 ? 0 : -shift;
    const wrapped = Number(BigInt.asIntN(32, BigInt(x) << BigInt(left)));
    return reference.rdbpot(reference.srdhm(wrapped, m), right);
  },
};

/**
 * TFLite's 64-bit MultiplyByQuantizedMultiplier (the 16x8 kernels'): M rounded to 16 bits, then one
 * rounding shift by 15 − shift (docs/model-format.md §4.1). `x` is exact (|x| < 2^41 after validation);
 * the product needs 57 bits, so it is a BigInt.
 */
export function mbqm64(x: number, m: number, shift: number): number {
  const reduced = m < 0x7fff0000 ? Math.floor((m + 32768) / 65536) : 0x7fff;
  const t = BigInt(15 - shift);
  return Number((BigInt(x) * BigInt(reduced) + (1n << (t - 1n))) >> t);
}

/** The LUT16 lookup (§5): 513 entries over the int16 range, linear interpolation in 1/128 steps. */
export function lut16(table: Int16Array, x: number): number {
  const u = x + 32768;
  const i = u >> 7;
  const base = table[i];
  return base + (((table[i + 1] - base) * (u & 127) + 64) >> 7);
}
