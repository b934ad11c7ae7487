/* DSP-extension variants of the FC kernels, for cores with the 32-bit SIMD instructions but no Helium:
 * the Cortex-M4 and M7 (Armv7E-M) and the Cortex-M33 (Armv8-M Mainline with DSP). In the CMSIS-NN manner,
 * each optimised kernel sits beside its portable reference (kernels.c, hil_fc_<encoding>_scalar) and takes
 * the same argument struct (hil_fc_args_t plus the encoding's own), so the engine swaps one for the other
 * per encoding (kernels.h) and the self-test calls both on the same layer.
 *
 * The dual 16-bit MAC: four int8 values in a word w = [w0 w1 w2 w3] become two halfword pairs, SXTB16(w) =
 * (w0, w2) and SXTB16(w ROR 8) = (w1, w3); doing the same to x, SMLAD adds w0*x0 + w2*x2 and then
 * w1*x1 + w3*x3 to the accumulator, so one word of weights costs one load, two extends and two SMLADs.
 * x's extends are shared by the rows computed together (four, in the dense kernel).
 *
 * Bit-exact with the scalar kernels: each product is exact in 16 x 16 bits, SMLAD's sum is taken modulo
 * 2^32 (it only sets the Q flag where a wider sum would differ), and int32 addition modulo 2^32 does not
 * depend on order, so every dot product equals the scalar one; requantisation is the shared
 * hil_fc_requant. firmware/bench/selftest.c compares both under QEMU, byte for byte. Weights and x are
 * read a word at a time at any alignment (these cores allow unaligned LDR). */
#include <string.h>
#include "kernels.h"

#if HIL_KERNELS_DSP

#define INLINE static inline __attribute__((always_inline))

INLINE uint32_t ld32(const int8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4); /* one LDR: unaligned access is allowed */
  return v;
}
INLINE uint32_t lo16x2(uint32_t v) { /* (v0, v2), sign-extended to halfwords */
  uint32_t r;
  __asm("sxtb16 %0, %1" : "=r"(r) : "r"(v));
  return r;
}
INLINE uint32_t hi16x2(uint32_t v) { /* (v1, v3) */
  uint32_t r;
  __asm("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}
INLINE int32_t smlad(uint32_t a, uint32_t b, int32_t acc) {
  int32_t r;
  __asm("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}
/* acc + the four products of one word of weights with one word of x (already extended). */
INLINE int32_t mac4(int32_t acc, uint32_t w, uint32_t x02, uint32_t x13) {
  return smlad(hi16x2(w), x13, smlad(lo16x2(w), x02, acc));
}

/* ---- dense ---- */

void hil_fc_dense_dsp(const hil_fc_args_t *a, const int8_t *w) {
  const uint32_t in = a->in_features, out = a->out_features, words = in >> 2;
  const int8_t *const x = a->x;
  uint32_t o = 0;
  /* Four rows at a time: rows o and o+1 from p0, rows o+2 and o+3 from p2. */
  for (; o + 4u <= out; o += 4u) {
    const int8_t *p0 = w + o * in, *p2 = p0 + 2u * in, *xp = x;
    int32_t d0 = 0, d1 = 0, d2 = 0, d3 = 0;
    if (words) {
      /* In assembly: GCC gives each row its own pointer and spills them. Per word of x: one load and two
       * extends of x, then per row one load (rows o+1 and o+3 by register offset), two extends and two
       * SMLADs: 25 instructions for 16 MACs with the loop. */
      uint32_t k = words, t, u, x02, x13;
      __asm volatile(
          "1:\n\t"
          "ldr %[t], [%[xp]], #4\n\t"
          "sxtb16 %[x02], %[t]\n\t"
          "sxtb16 %[x13], %[t], ror #8\n\t"
          "ldr %[t], [%[p0], %[in]]\n\t"
          "sxtb16 %[u], %[t]\n\t"
          "smlad %[d1], %[u], %[x02], %[d1]\n\t"
          "sxtb16 %[u], %[t], ror #8\n\t"
          "smlad %[d1], %[u], %[x13], %[d1]\n\t"
          "ldr %[t], [%[p0]], #4\n\t"
          "sxtb16 %[u], %[t]\n\t"
          "smlad %[d0], %[u], %[x02], %[d0]\n\t"
          "sxtb16 %[u], %[t], ror #8\n\t"
          "smlad %[d0], %[u], %[x13], %[d0]\n\t"
          "ldr %[t], [%[p2], %[in]]\n\t"
          "sxtb16 %[u], %[t]\n\t"
          "smlad %[d3], %[u], %[x02], %[d3]\n\t"
          "sxtb16 %[u], %[t], ror #8\n\t"
          "smlad %[d3], %[u], %[x13], %[d3]\n\t"
          "ldr %[t], [%[p2]], #4\n\t"
          "sxtb16 %[u], %[t]\n\t"
          "smlad %[d2], %[u], %[x02], %[d2]\n\t"
          "sxtb16 %[u], %[t], ror #8\n\t"
          "smlad %[d2], %[u], %[x13], %[d2]\n\t"
          "subs %[k], %[k], #1\n\t"
          "bne 1b\n\t"
          : [d0] "+r"(d0), [d1] "+r"(d1), [d2] "+r"(d2), [d3] "+r"(d3), [p0] "+r"(p0), [p2] "+r"(p2), [xp] "+r"(xp),
            [k] "+r"(k), [t] "=&r"(t), [u] "=&r"(u), [x02] "=&r"(x02), [x13] "=&r"(x13)
          : [in] "r"(in)
          : "cc", "memory");
    }
    for (uint32_t i = words * 4u; i < in; i++) {
      const int32_t xi = x[i];
      d0 += p0[0] * xi;
      d1 += p0[in] * xi;
      d2 += p2[0] * xi;
      d3 += p2[in] * xi;
      p0++;
      p2++;
    }
    a->y[o] = hil_fc_requant(a, o, d0);
    a->y[o + 1u] = hil_fc_requant(a, o + 1u, d1);
    a->y[o + 2u] = hil_fc_requant(a, o + 2u, d2);
    a->y[o + 3u] = hil_fc_requant(a, o + 3u, d3);
  }
  for (; o < out; o++) {
    const int8_t *p = w + o * in;
    int32_t d = 0;
    for (uint32_t k = 0; k < words; k++) {
      const uint32_t xv = ld32(x + 4u * k);
      d = mac4(d, ld32(p + 4u * k), lo16x2(xv), hi16x2(xv));
    }
    for (uint32_t i = words * 4u; i < in; i++) d += p[i] * x[i];
    a->y[o] = hil_fc_requant(a, o, d);
  }
}

/* ---- block-sparse ---- */

/* Block widths that are a multiple of 4: x's slice of each block is extended once (BC/4 words, kept in
 * registers since BC is a constant here), then every row of the block is BC/4 words of weights. */
INLINE void block_rows_w4(const hil_fc_args_t *a, const hil_fc_block_t *w, const uint32_t BC) {
  const uint32_t br = w->br, out = a->out_features;
  const uint32_t nbr = (out + br - 1u) / br;
  int32_t dot[16]; /* br <= 16 (validated) */
  for (uint32_t rb = 0; rb < nbr; rb++) {
    for (uint32_t r = 0; r < br; r++) dot[r] = 0;
    const uint32_t end = w->row_ptr[rb + 1];
    for (uint32_t k = w->row_ptr[rb]; k < end; k++) {
      const int8_t *blk = w->blocks + k * br * BC;
      const int8_t *xs = a->x + (uint32_t)w->col_idx[k] * BC;
      uint32_t x02[4], x13[4]; /* BC <= 16 */
      for (uint32_t j = 0; j < BC / 4u; j++) {
        const uint32_t xv = ld32(xs + 4u * j);
        x02[j] = lo16x2(xv);
        x13[j] = hi16x2(xv);
      }
      for (uint32_t r = 0; r < br; r++) {
        int32_t d = dot[r];
        for (uint32_t j = 0; j < BC / 4u; j++) d = mac4(d, ld32(blk + 4u * j), x02[j], x13[j]);
        dot[r] = d;
        blk += BC;
      }
    }
    for (uint32_t r = 0; r < br; r++) {
      const uint32_t o = rb * br + r;
      if (o < out) a->y[o] = hil_fc_requant(a, o, dot[r]);
    }
  }
}

/* One-column blocks (br x 1): each block is one x value times a column of br weights; four rows of the
 * column are one word, multiplied by (x, x) pairs. */
static void block_col1(const hil_fc_args_t *a, const hil_fc_block_t *w) {
  const uint32_t br = w->br, out = a->out_features, words = br >> 2;
  const uint32_t nbr = (out + br - 1u) / br;
  int32_t dot[16];
  for (uint32_t rb = 0; rb < nbr; rb++) {
    for (uint32_t r = 0; r < br; r++) dot[r] = 0;
    const uint32_t end = w->row_ptr[rb + 1];
    for (uint32_t k = w->row_ptr[rb]; k < end; k++) {
      const int8_t *blk = w->blocks + k * br;
      const int32_t xi = a->x[w->col_idx[k]];
      /* (xi, 0) pairs: SMLAD with (w0, w2) gives w0*xi; with the halves swapped, w2*xi. Simpler and as
       * fast here: a 16x16 multiply per weight, four per word loaded. */
      uint32_t r = 0;
      for (uint32_t j = 0; j < words; j++, r += 4u) {
        const uint32_t wv = ld32(blk + r);
        const uint32_t w02 = lo16x2(wv), w13 = hi16x2(wv);
        dot[r] += (int16_t)w02 * xi;
        dot[r + 1u] += (int16_t)w13 * xi;
        dot[r + 2u] += (int16_t)(w02 >> 16) * xi;
        dot[r + 3u] += (int16_t)(w13 >> 16) * xi;
      }
      for (; r < br; r++) dot[r] += blk[r] * xi;
    }
    for (uint32_t r = 0; r < br; r++) {
      const uint32_t o = rb * br + r;
      if (o < out) a->y[o] = hil_fc_requant(a, o, dot[r]);
    }
  }
}

void hil_fc_block_dsp(const hil_fc_args_t *a, const hil_fc_block_t *w) {
  switch (w->bc) {
    case 4: block_rows_w4(a, w, 4u); break;
    case 8: block_rows_w4(a, w, 8u); break;
    case 12: block_rows_w4(a, w, 12u); break;
    case 16: block_rows_w4(a, w, 16u); break;
    case 1: block_col1(a, w); break;
    default: hil_fc_block_scalar(a, w); break; /* other widths: the portable kernel */
  }
}

#endif
