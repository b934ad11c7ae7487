/* The fixed-point front and back end of docs/model-format.md §2-3: the FFT and log2q. */
#ifndef HIL_DSP_H
#define HIL_DSP_H

#include <stdint.h>
#include "tables.h"

#define HIL_FFT_N 512
#define HIL_FFT_LOG2N 9

/* In-place radix-2 DIT complex FFT of size HIL_FFT_N (§2). inverse = 0: forward, unscaled;
 * inverse = 1: inverse with per-stage halving (the result is divided by N). On cores with integer MVE
 * this is hil_fft_mve (dsp_mve.c), bit-exact with the scalar code. */
void hil_fft(int32_t *re, int32_t *im, int inverse);

/* Set-up the FFT does once (its twiddle layout); the engine calls it when a model is loaded, so that no
 * frame pays for it. Does nothing on cores without MVE. */
void hil_dsp_init(void);

/* The portable versions, which the functions above are on cores without MVE (and the reference the MVE
 * versions are tested against). */
void hil_fft_scalar(int32_t *re, int32_t *im, int inverse);
void hil_dsp_analysis_scalar(int16_t *inbuf, const int16_t *in, uint32_t hop, const int16_t *win_a,
                             int32_t *re, int32_t *im);
void hil_dsp_features_scalar(const int32_t *re, const int32_t *im, uint32_t nb, int32_t zp, int32_t mult,
                             int shift, int8_t *feat);
void hil_dsp_mask16(int32_t *re, int32_t *im, const int16_t *mask, uint32_t nb);
void hil_dsp_mask_scalar(int32_t *re, int32_t *im, const int8_t *mask, uint32_t nb);
void hil_dsp_synthesis_scalar(int32_t *ola, const int32_t *re, const int16_t *win_s, uint32_t hop, int16_t *out);

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define HIL_DSP_MVE 1
void hil_fft_mve(int32_t *re, int32_t *im, int inverse);
void hil_fft_mve_init(void);
void hil_dsp_analysis_mve(int16_t *inbuf, const int16_t *in, uint32_t hop, const int16_t *win_a, int32_t *re,
                          int32_t *im);
void hil_dsp_features_mve(const int32_t *re, const int32_t *im, uint32_t nb, int32_t zp, int32_t mult,
                          int shift, int8_t *feat);
void hil_dsp_mask_mve(int32_t *re, int32_t *im, const int8_t *mask, uint32_t nb);
void hil_dsp_synthesis_mve(int32_t *ola, const int32_t *re, const int16_t *win_s, uint32_t hop, int16_t *out);
#else
#define HIL_DSP_MVE 0
#endif

/* log2(v) in Q10 for 1 <= v < 2^53 (§3); returns 0 for v = 0 (never asked by the pipeline: it adds 1). */
int32_t hil_log2q(uint64_t v);

/* The same, inline (for the per-bin loops). The exponent from the leading zeros (CLZ where the compiler
 * has it), the Q30 mantissa in 32 bits. */
static inline int hil_clz32(uint32_t x) { /* x != 0 */
#if defined(__GNUC__)
  return __builtin_clz(x);
#else
  int n = 0;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    n++;
  }
  return n;
#endif
}
static inline int32_t hil_log2q_inline(uint64_t v) {
  if (v == 0) return 0;
  const uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
  const int e = hi ? 63 - hil_clz32(hi) : 31 - hil_clz32(lo);
  /* e <= 30: v < 2^31 is lo, and lo * 2^(30-e) < 2^31; otherwise bits e-30 .. e of v. */
  const uint32_t m = e <= 30 ? lo << (30 - e) : (uint32_t)(v >> (e - 30));
  const uint32_t f = m - ((uint32_t)1 << 30), i = f >> 24, r = f & 0xFFFFFFu;
  const int32_t t0 = hil_log2_tab[i], t1 = hil_log2_tab[i + 1];
  /* The table rises by 11..23 per step (round(1024 log2(1 + 1/64)) = 23), so the product is < 2^29. */
  return 1024 * e + t0 + (int32_t)(((uint32_t)(t1 - t0) * r) >> 24);
}

/* The other steps of docs/model-format.md §1 around the FFTs, for n = HIL_FFT_N; each has an MVE
 * version in dsp_mve.c, bit-exact with the portable one.
 * Steps 1-2: shift the hop of new samples into inbuf, window it into re, zero im. */
void hil_dsp_analysis(int16_t *inbuf, const int16_t *in, uint32_t hop, const int16_t *win_a, int32_t *re,
                      int32_t *im);
/* Steps 4-6: feat[k] = clamp(zp + mbqm(log2q(re[k]^2 + im[k]^2 + 1), mult, shift)), k < nb. */
void hil_dsp_features(const int32_t *re, const int32_t *im, uint32_t nb, int32_t zp, int32_t mult, int shift,
                      int8_t *feat);
/* Step 8: re, im = rsr(re * g, 8), rsr(im * g, 8) with g = mask + 128 for k < nb, then the mirror. */
void hil_dsp_mask(int32_t *re, int32_t *im, const int8_t *mask, uint32_t nb);
/* Steps 10-11: ola += rsr(re * win_s, 15); out = sat16(ola[0 .. hop)); shift ola by hop. */
void hil_dsp_synthesis(int32_t *ola, const int32_t *re, const int16_t *win_s, uint32_t hop, int16_t *out);

#endif
