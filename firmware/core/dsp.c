/* docs/model-format.md §2-3. Integer only; the twiddles and the log table are data (tables.c). */
/* Nothing here uses Helium, but with MVE enabled GCC 12 allocates registers worse for this int64 code:
 * about 100k more instructions per frame on the Cortex-M55 (firmware/bench/enginetest.c). Before the
 * includes, so that their inline functions are compiled for the same target. */
#if defined(__ARM_FEATURE_MVE)
#pragma GCC target("arch=armv8.1-m.main+fp.dp")
#endif
#include "dsp.h"
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

void hil_fft(int32_t *re, int32_t *im, int inverse) {
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

int32_t hil_log2q(uint64_t v) {
  if (v == 0) return 0;
  int e = 63;
  while (!(v >> e)) e--;
  uint64_t m = e <= 30 ? v << (30 - e) : v >> (e - 30);
  uint32_t f = (uint32_t)(m - ((uint64_t)1 << 30));
  uint32_t i = f >> 24, r = f & 0xFFFFFFu;
  int32_t lo = hil_log2_tab[i], hi = hil_log2_tab[i + 1];
  return 1024 * e + lo + (int32_t)(((int64_t)(hi - lo) * r) >> 24);
}
