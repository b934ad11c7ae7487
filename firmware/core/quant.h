/* Integer primitives of docs/model-format.md §1 and §4.1 (TFLite reference semantics), inline so the
 * kernels stay fast. No undefined behaviour for any int32 input: the wrapping left shift is done on
 * uint32, products are int64, and the only signed right shifts are arithmetic (GCC's documented
 * behaviour for >> on negative values, which the spec relies on). */
#ifndef HIL_QUANT_H
#define HIL_QUANT_H

#include <stdint.h>

/* Saturating rounding doubling high multiply (gemmlowp): round(a*b / 2^31), ties toward +infinity. */
static inline int32_t hil_srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  int64_t ab = (int64_t)a * (int64_t)b;
  int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C division truncates toward zero */
}

/* Rounding divide by 2^e, 0 <= e <= 31, ties away from zero. */
static inline int32_t hil_rdbpot(int32_t x, int e) {
  int32_t mask = (int32_t)(((uint32_t)1 << e) - 1u);
  int32_t rem = x & mask;
  int32_t thr = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (rem > thr ? 1 : 0);
}

/* Two's complement wrap of x * 2^left, 0 <= left <= 31. */
static inline int32_t hil_wrap_shl(int32_t x, int left) {
  return (int32_t)((uint32_t)x << left);
}

/* Multiply by a quantized multiplier: x * M * 2^(shift - 31), shift in [-31, 31]. */
static inline int32_t hil_mbqm(int32_t x, int32_t m, int shift) {
  int left = shift > 0 ? shift : 0;
  int right = shift > 0 ? 0 : -shift;
  return hil_rdbpot(hil_srdhm(hil_wrap_shl(x, left), m), right);
}

/* Two's complement wrap-around addition (the exporter guarantees it never wraps; a hostile blob may). */
static inline int32_t hil_add_wrap(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t hil_sub_wrap(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a - (uint32_t)b);
}

static inline int8_t hil_clamp8(int64_t v, int32_t lo, int32_t hi) {
  return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* rsr(x, s) = floor((x + 2^(s-1)) / 2^s), s >= 1. */
static inline int64_t hil_rsr64(int64_t x, int s) {
  return (x + ((int64_t)1 << (s - 1))) >> s;
}

static inline int16_t hil_sat16(int64_t x) {
  return (int16_t)(x < -32768 ? -32768 : x > 32767 ? 32767 : x);
}

/* TFLite's 64-bit MultiplyByQuantizedMultiplier (the 16x8 kernels'), §4.1: M rounded to 16 bits, then one
 * rounding shift by 15 - shift. shift in [-31, 7] and |x| < 2^41 (validated), so nothing overflows. */
static inline int64_t hil_mbqm64(int64_t x, int32_t m, int shift) {
  const int64_t reduced = m < 0x7FFF0000 ? ((int64_t)m + 32768) >> 16 : 0x7FFF;
  const int t = 15 - shift;
  return (x * reduced + ((int64_t)1 << (t - 1))) >> t;
}

/* The LUT16 lookup (§5): 513 entries over the int16 range, linear interpolation in 1/128 steps. */
static inline int16_t hil_lut16_lookup(const int16_t *table, int16_t x) {
  const int32_t u = (int32_t)x + 32768;
  const int32_t base = table[u >> 7];
  return (int16_t)(base + (((table[(u >> 7) + 1] - base) * (u & 127) + 64) >> 7));
}

#endif
