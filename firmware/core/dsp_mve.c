/* The FFT of docs/model-format.md §2 with Helium (MVE), for Armv8.1-M cores such as the Cortex-M55.
 *
 * Bit-exact with the scalar hil_fft (dsp.c), by construction and by test (the engine vectors run through
 * both on the emulated M55, firmware/bench/enginetest.c, and firmware/bench/selftest.c compares the two
 * FFTs on random and extreme inputs):
 *  - The work buffer holds the spectrum interleaved (re, im, re, im, ...), so one vector is two complex
 *    values.
 *  - Bit reversal and the first two stages are one scalar pass: their twiddles are 1 and -+i exactly
 *    (TW_COS[0] = 32768 and TW_COS[N/4] = 0, TW_SIN[N/4] = 32768, so rsr(x * 32768, 15) = x), so they
 *    are additions and swaps, with the inverse's per-stage rsr(., 1) after each.
 *  - The other stages do two butterflies per vector. VQRDMLADH / VQRDMLSDH compute, in the even lanes,
 *    floor((2 (n0 m0 +- n1 m1) + 2^31) / 2^32), and their X forms the exchanged products in the odd lanes,
 *    with one rounding of the exact 64-bit sum. With n the b values doubled and m the twiddles times 2^15,
 *    that is floor((re wr +- im wi + 2^14) / 2^15) = the spec's tr and ti. No saturation: |x| < 2^25
 *    everywhere (the spec's bound on the partial DFTs), so the doubled products stay under 2^56.
 *  - a + t and a - t cannot overflow int32 for the same reason, and the inverse's halving is VRSHR #1,
 *    floor((x + 1) / 2) = rsr(x, 1).
 * The twiddles of each stage are laid out contiguously (x 2^15, interleaved) once, by hil_fft_mve_init,
 * which the engine calls when a model is loaded. */
#include "dsp.h"

#if HIL_DSP_MVE
#include <arm_mve.h>
#include "tables.h"

#define N HIL_FFT_N

static int32_t g_z[2 * N] __attribute__((aligned(16)));      /* the spectrum, interleaved */
static int32_t g_tw[2 * (N - 4)] __attribute__((aligned(16))); /* stages len = 8 .. N: (cos, sin) x 2^15 */
static int g_tw_ready;

void hil_fft_mve_init(void) {
  if (g_tw_ready) return;
  int32_t *t = g_tw;
  for (uint32_t len = 8; len <= N; len <<= 1) {
    const uint32_t half = len >> 1, step = N / len;
    for (uint32_t j = 0; j < half; j++) {
      *t++ = hil_tw_cos[j * step] * 32768; /* |TW| <= 32768: at most 2^30 */
      *t++ = hil_tw_sin[j * step] * 32768;
    }
  }
  g_tw_ready = 1;
}

/* rsr(x, 1) = floor((x + 1) / 2): SRSHR, MVE's scalar rounding shift (|x| < 2^26, no overflow). Not
 * GCC 12's srshr intrinsic, which goes through 64-bit temporaries on the stack. */
static inline int32_t rsr1(int32_t x) {
  __asm("srshr %0, #1" : "+r"(x));
  return x;
}

static inline uint32_t rbit(uint32_t x) { /* GCC 12's arm_acle.h has no __rbit for this target */
  uint32_t r;
  __asm("rbit %0, %1" : "=r"(r) : "r"(x));
  return r;
}

/* Bit reversal and stages len = 2 and 4, from re/im into z. Position 4g + k holds input bitrev9(4g + k) =
 * bitrev7(g) + {0, 256, 128, 384}[k]. Stage 2's second butterfly multiplies by dir * i: t = (im, -re)
 * forward, (-im, re) inverse. */
static inline __attribute__((always_inline)) void pass12(const int32_t *re, const int32_t *im, int32_t *z,
                                                         const int inverse) {
  for (uint32_t g = 0; g < N / 4; g++, z += 8) {
    const uint32_t b = rbit(g) >> 25;
    const int32_t r0 = re[b], i0 = im[b], r1 = re[b + 256], i1 = im[b + 256];
    const int32_t r2 = re[b + 128], i2 = im[b + 128], r3 = re[b + 384], i3 = im[b + 384];
    int32_t ar0 = r0 + r1, ai0 = i0 + i1, ar1 = r0 - r1, ai1 = i0 - i1;
    int32_t ar2 = r2 + r3, ai2 = i2 + i3, ar3 = r2 - r3, ai3 = i2 - i3;
    if (inverse) {
      ar0 = rsr1(ar0); ai0 = rsr1(ai0); ar1 = rsr1(ar1); ai1 = rsr1(ai1);
      ar2 = rsr1(ar2); ai2 = rsr1(ai2); ar3 = rsr1(ar3); ai3 = rsr1(ai3);
    }
    const int32_t tr = inverse ? -ai3 : ai3, ti = inverse ? ar3 : -ar3;
    int32_t y0r = ar0 + ar2, y0i = ai0 + ai2, y1r = ar1 + tr, y1i = ai1 + ti;
    int32_t y2r = ar0 - ar2, y2i = ai0 - ai2, y3r = ar1 - tr, y3i = ai1 - ti;
    if (inverse) {
      y0r = rsr1(y0r); y0i = rsr1(y0i); y1r = rsr1(y1r); y1i = rsr1(y1i);
      y2r = rsr1(y2r); y2i = rsr1(y2i); y3r = rsr1(y3r); y3i = rsr1(y3i);
    }
    z[0] = y0r; z[1] = y0i; z[2] = y1r; z[3] = y1i;
    z[4] = y2r; z[5] = y2i; z[6] = y3r; z[7] = y3i;
  }
}

/* Stages len = 8 .. N on z, two butterflies per vector. */
static inline __attribute__((always_inline)) void stages(int32_t *z, const int inverse) {
  const int32_t *tw = g_tw;
  for (uint32_t len = 8; len <= N; len <<= 1) {
    const uint32_t half = len >> 1;
    for (uint32_t s = 0; s < N; s += len) {
      int32_t *pa = z + 2u * s, *pb = pa + 2u * half;
      const int32_t *w = tw;
      for (uint32_t j = 0; j < half; j += 2, pa += 4, pb += 4, w += 4) {
        const int32x4_t a = vld1q_s32(pa), b = vld1q_s32(pb), wv = vld1q_s32(w);
        const int32x4_t b2 = vaddq_s32(b, b);
        int32x4_t t;
        if (!inverse) { /* tr = re wr + im sin, ti = im wr - re sin (wi = -sin) */
          t = vqrdmladhq_s32(b2, b2, wv);
          t = vqrdmlsdhxq_s32(t, b2, wv);
        } else { /* tr = re wr - im sin, ti = im wr + re sin (wi = +sin) */
          t = vqrdmlsdhq_s32(b2, b2, wv);
          t = vqrdmladhxq_s32(t, b2, wv);
        }
        int32x4_t x = vaddq_s32(a, t), y = vsubq_s32(a, t);
        if (inverse) {
          x = vrshrq_n_s32(x, 1);
          y = vrshrq_n_s32(y, 1);
        }
        vst1q_s32(pa, x);
        vst1q_s32(pb, y);
      }
    }
    tw += 2u * half;
  }
}

/* Without SLP vectorisation: GCC 12 would gather pass12's eight results into a vector through the stack. */
#define NO_SLP __attribute__((noinline, optimize("no-tree-slp-vectorize")))
static NO_SLP void fft_fwd(int32_t *re, int32_t *im) {
  pass12(re, im, g_z, 0);
  stages(g_z, 0);
}
static NO_SLP void fft_inv(int32_t *re, int32_t *im) {
  pass12(re, im, g_z, 1);
  stages(g_z, 1);
}

void hil_fft_mve(int32_t *re, int32_t *im, int inverse) {
  hil_fft_mve_init();
  if (inverse) fft_inv(re, im); else fft_fwd(re, im);
  for (uint32_t k = 0; k < N; k += 4) { /* de-interleave */
    const int32x4x2_t v = vld2q_s32(g_z + 2u * k);
    vst1q_s32(re + k, v.val[0]);
    vst1q_s32(im + k, v.val[1]);
  }
}

/* ---- the steps around the FFTs ---- */

/* Steps 1-2. |inbuf * win_a| < 2^30, so the product is exact in 32 bits and VRSHR #15 is rsr(., 15). */
void hil_dsp_analysis_mve(int16_t *inbuf, const int16_t *in, uint32_t hop, const int16_t *win_a, int32_t *re,
                          int32_t *im) {
  uint32_t k = 0;
  for (; k + 8u <= N - hop; k += 8u) vst1q_s16(inbuf + k, vld1q_s16(inbuf + hop + k)); /* hop is 128 or 256 */
  for (uint32_t j = 0; j < hop; j += 8u) vst1q_s16(inbuf + N - hop + j, vld1q_s16(in + j));
  const int32x4_t zero = vdupq_n_s32(0);
  for (k = 0; k < N; k += 4u) {
    vst1q_s32(re + k, vrshrq_n_s32(vmulq_s32(vldrhq_s32(inbuf + k), vldrhq_s32(win_a + k)), 15));
    vst1q_s32(im + k, zero);
  }
}

/* Steps 4-6. The power and log2q per bin in scalar code (64-bit), then mbqm four at a time (as the FC
 * kernels do: VQRDMULH is srdhm, the fix-up makes VRSHL's ties go away from zero), zero point, clamp. */
void hil_dsp_features_mve(const int32_t *re, const int32_t *im, uint32_t nb, int32_t zp, int32_t mult,
                          int shift, int8_t *feat) {
  int32_t l[N / 2 + 4];
  for (uint32_t k = 0; k < nb; k++) {
    const uint64_t p = (uint64_t)((int64_t)re[k] * re[k]) + (uint64_t)((int64_t)im[k] * im[k]);
    l[k] = hil_log2q_inline(p + 1u);
  }
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : shift;
  const int32x4_t lo = vdupq_n_s32(-128), hi = vdupq_n_s32(127);
  for (uint32_t k = 0; k < nb; k += 4u) {
    const mve_pred16_t p = vctp32q(nb - k);
    int32x4_t v = vqrdmulhq_n_s32(vshlq_r_s32(vldrwq_z_s32(l + k, p), left), mult);
    if (right) v = vqaddq_s32(v, vshrq_n_s32(v, 31));
    v = vrshlq_n_s32(v, right);
    vstrbq_p_s32(feat + k, vminq_s32(vmaxq_s32(vqaddq_n_s32(v, zp), lo), hi), p);
  }
}

/* Step 8. rsr(x * g, 8) with g in [0, 255] is VRMULH (floor((a b + 2^31) / 2^32)) of 2x and g * 2^23:
 * |2x| < 2^26 and g * 2^23 < 2^31, so nothing overflows. The mirror reads bins 255 .. 1 backwards, four
 * at a time through a gather with descending offsets. */
void hil_dsp_mask_mve(int32_t *re, int32_t *im, const int8_t *mask, uint32_t nb) {
  for (uint32_t k = 0; k < nb; k += 4u) {
    const mve_pred16_t p = vctp32q(nb - k);
    const int32x4_t g = vshlq_n_s32(vaddq_n_s32(vldrbq_z_s32(mask + k, p), 128), 23);
    const int32x4_t r = vldrwq_z_s32(re + k, p), i = vldrwq_z_s32(im + k, p);
    vstrwq_p_s32(re + k, vrmulhq_s32(vaddq_s32(r, r), g), p);
    vstrwq_p_s32(im + k, vrmulhq_s32(vaddq_s32(i, i), g), p);
  }
  const uint32x4_t down = {3, 2, 1, 0};
  for (uint32_t k = nb; k < N; k += 4u) { /* re[k + j] = re[N - k - j] for j < 4, while k + j < N */
    const mve_pred16_t p = vctp32q(N - k);
    const uint32_t from = N - k - 3u; /* >= 0; inactive lanes read nothing */
    const int32x4_t r = vldrwq_gather_shifted_offset_z_s32(re + from, down, p);
    const int32x4_t i = vldrwq_gather_shifted_offset_z_s32(im + from, down, p);
    vstrwq_p_s32(re + k, r, p);
    vstrwq_p_s32(im + k, vnegq_s32(i), p);
  }
}

/* Steps 10-11. rsr(y * w, 15) = VQRDMULH(y, w * 2^16) = floor((y w 2^17 + 2^31) / 2^32): exact, and it
 * saturates only for two INT32_MIN, which |y| < 2^25 rules out. */
void hil_dsp_synthesis_mve(int32_t *ola, const int32_t *re, const int16_t *win_s, uint32_t hop, int16_t *out) {
  for (uint32_t k = 0; k < N; k += 4u) {
    const int32x4_t t = vqrdmulhq_s32(vld1q_s32(re + k), vshlq_n_s32(vldrhq_s32(win_s + k), 16));
    vst1q_s32(ola + k, vaddq_s32(vld1q_s32(ola + k), t));
  }
  const int32x4_t lo = vdupq_n_s32(-32768), hi = vdupq_n_s32(32767);
  for (uint32_t k = 0; k < hop; k += 4u) vstrhq_s32(out + k, vminq_s32(vmaxq_s32(vld1q_s32(ola + k), lo), hi));
  uint32_t k = 0;
  for (; k < N - hop; k += 4u) vst1q_s32(ola + k, vld1q_s32(ola + hop + k));
  const int32x4_t zero = vdupq_n_s32(0);
  for (; k < N; k += 4u) vst1q_s32(ola + k, zero);
}

#endif
