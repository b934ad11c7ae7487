/* docs/model-format.md §2-3. Integer only; the twiddles and the log table are data (tables.c). */
/* dsp.h decides (from the command line's target) whether hil_fft is the MVE one of dsp_mve.c. The scalar
 * code here does not use Helium, and with MVE enabled GCC 12 allocates registers worse for its int64
 * code, so it is compiled without (the pragma comes after dsp.h, before the other includes, so that their
 * inline functions are compiled for the same target). */
#include "dsp.h"
#if defined(__ARM_FEATURE_MVE)
#pragma GCC target("arch=armv8.1-m.main+fp.dp")
#endif
#include <string.h>
#include "quant.h"
#include "tables.h"

#if HIL_TW_N != HIL_FFT_N
#error "tables.c was generated for another FFT size"
#endif

static uint32_t bitreverse(uint32_t i, int bits) {
  uint32_t r = 0;
  for (int b = 0; b < bits; b++) {
    r = (r << 1) | (i & 1u);
    i >>= 1;
  }
  return r;
}

void hil_dsp_init(void) {
#if HIL_DSP_MVE
  hil_fft_mve_init();
#endif
}

void hil_fft(int32_t *re, int32_t *im, int inverse) {
#if HIL_DSP_MVE
  hil_fft_mve(re, im, inverse);
#else
  hil_fft_scalar(re, im, inverse);
#endif
}

void hil_fft_scalar(int32_t *re, int32_t *im, int inverse) {
  const uint32_t n = HIL_FFT_N;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t j = bitreverse(i, HIL_FFT_LOG2N);
    if (i < j) {
      int32_t t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  const int32_t dir = inverse ? 1 : -1;
  for (uint32_t len = 2; len <= n; len <<= 1) {
    const uint32_t half = len >> 1, step = n / len;
    for (uint32_t s = 0; s < n; s += len) {
      for (uint32_t j = 0; j < half; j++) {
        const int64_t wr = hil_tw_cos[j * step];
        const int64_t wi = dir * hil_tw_sin[j * step];
        const uint32_t a = s + j, b = a + half;
        const int64_t tr = hil_rsr64((int64_t)re[b] * wr - (int64_t)im[b] * wi, 15);
        const int64_t ti = hil_rsr64((int64_t)re[b] * wi + (int64_t)im[b] * wr, 15);
        int64_t br = re[a] - tr, bi = im[a] - ti, ar = re[a] + tr, ai = im[a] + ti;
        if (inverse) {
          br = hil_rsr64(br, 1); bi = hil_rsr64(bi, 1); ar = hil_rsr64(ar, 1); ai = hil_rsr64(ai, 1);
        }
        re[b] = (int32_t)br; im[b] = (int32_t)bi; re[a] = (int32_t)ar; im[a] = (int32_t)ai;
      }
    }
  }
}

int32_t hil_log2q(uint64_t v) { return hil_log2q_inline(v); }

void hil_dsp_analysis(int16_t *inbuf, const int16_t *in, uint32_t hop, const int16_t *win_a, int32_t *re,
                      int32_t *im) {
#if HIL_DSP_MVE
  hil_dsp_analysis_mve(inbuf, in, hop, win_a, re, im);
#else
  hil_dsp_analysis_scalar(inbuf, in, hop, win_a, re, im);
#endif
}

void hil_dsp_analysis_scalar(int16_t *inbuf, const int16_t *in, uint32_t hop, const int16_t *win_a,
                             int32_t *re, int32_t *im) {
  const uint32_t n = HIL_FFT_N;
  memmove(inbuf, inbuf + hop, 2u * (n - hop));
  memcpy(inbuf + (n - hop), in, 2u * hop);
  for (uint32_t k = 0; k < n; k++) {
    re[k] = (int32_t)hil_rsr64((int64_t)inbuf[k] * win_a[k], 15);
    im[k] = 0;
  }
}

void hil_dsp_features(const int32_t *re, const int32_t *im, uint32_t nb, int32_t zp, int32_t mult, int shift,
                      int8_t *feat) {
#if HIL_DSP_MVE
  hil_dsp_features_mve(re, im, nb, zp, mult, shift, feat);
#else
  hil_dsp_features_scalar(re, im, nb, zp, mult, shift, feat);
#endif
}

void hil_dsp_features_scalar(const int32_t *re, const int32_t *im, uint32_t nb, int32_t zp, int32_t mult,
                             int shift, int8_t *feat) {
  for (uint32_t k = 0; k < nb; k++) {
    const uint64_t p = (uint64_t)((int64_t)re[k] * re[k]) + (uint64_t)((int64_t)im[k] * im[k]);
    const int32_t l = hil_log2q(p + 1u);
    feat[k] = hil_clamp8((int64_t)zp + hil_mbqm(l, mult, shift), -128, 127);
  }
}

void hil_dsp_mask(int32_t *re, int32_t *im, const int8_t *mask, uint32_t nb) {
#if HIL_DSP_MVE
  hil_dsp_mask_mve(re, im, mask, nb);
#else
  hil_dsp_mask_scalar(re, im, mask, nb);
#endif
}

void hil_dsp_mask_scalar(int32_t *re, int32_t *im, const int8_t *mask, uint32_t nb) {
  const uint32_t n = HIL_FFT_N;
  for (uint32_t k = 0; k < nb; k++) {
    const int64_t g = (int64_t)mask[k] + 128;
    re[k] = (int32_t)hil_rsr64(re[k] * g, 8);
    im[k] = (int32_t)hil_rsr64(im[k] * g, 8);
  }
  for (uint32_t k = nb; k < n; k++) {
    re[k] = re[n - k];
    im[k] = -im[n - k];
  }
}

/* A 16-bit mask is a Q15 gain (scale 1/32768, zero point 0): §1 step 8. Scalar on every core. */
void hil_dsp_mask16(int32_t *re, int32_t *im, const int16_t *mask, uint32_t nb) {
  const uint32_t n = HIL_FFT_N;
  for (uint32_t k = 0; k < nb; k++) {
    re[k] = (int32_t)hil_rsr64((int64_t)re[k] * mask[k], 15);
    im[k] = (int32_t)hil_rsr64((int64_t)im[k] * mask[k], 15);
  }
  for (uint32_t k = nb; k < n; k++) {
    re[k] = re[n - k];
    im[k] = -im[n - k];
  }
}

void hil_dsp_synthesis(int32_t *ola, const int32_t *re, const int16_t *win_s, uint32_t hop, int16_t *out) {
#if HIL_DSP_MVE
  hil_dsp_synthesis_mve(ola, re, win_s, hop, out);
#else
  hil_dsp_synthesis_scalar(ola, re, win_s, hop, out);
#endif
}

void hil_dsp_synthesis_scalar(int32_t *ola, const int32_t *re, const int16_t *win_s, uint32_t hop, int16_t *out) {
  const uint32_t n = HIL_FFT_N;
  for (uint32_t k = 0; k < n; k++) ola[k] += (int32_t)hil_rsr64((int64_t)re[k] * win_s[k], 15);
  for (uint32_t k = 0; k < hop; k++) out[k] = hil_sat16(ola[k]);
  memmove(ola, ola + hop, 4u * (n - hop));
  memset(ola + (n - hop), 0, 4u * hop);
}
