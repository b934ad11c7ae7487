/* The fixed-point front and back end of docs/model-format.md §2-3: the FFT and log2q. */
#ifndef HIL_DSP_H
#define HIL_DSP_H

#include <stdint.h>

#define HIL_FFT_N 512
#define HIL_FFT_LOG2N 9

/* In-place radix-2 DIT complex FFT of size HIL_FFT_N (§2). inverse = 0: forward, unscaled;
 * inverse = 1: inverse with per-stage halving (the result is divided by N). */
void hil_fft(int32_t *re, int32_t *im, int inverse);

/* log2(v) in Q10 for 1 <= v < 2^53 (§3); returns 0 for v = 0 (never asked by the pipeline: it adds 1). */
int32_t hil_log2q(uint64_t v);

#endif
