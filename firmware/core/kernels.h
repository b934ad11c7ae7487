/* Scalar int8 kernels for the graph ops of docs/model-format.md §5-6.
 *
 * The FC kernels have one function per weight encoding with the same argument struct, so an optimised
 * variant (e.g. Cortex-M55 MVE/Helium, behind #if defined(__ARM_FEATURE_MVE) in its own file) can replace
 * one encoding at a time. Kernels never count work: the engine derives the counters from the validated
 * op record (docs/model-format.md §6), so a faster kernel cannot change them.
 *
 * Contract shared by every FC variant: acc[o] = bias_eff[o] + sum of W[o][i] * x[i] over the stored
 * weights, in any order (the partial sum of an exporter's blob fits int32; the final addition of the bias
 * wraps as two's complement, which no exporter blob triggers), then y[o] = hil_fc_requant(...). */
#ifndef HIL_KERNELS_H
#define HIL_KERNELS_H

#include <stdint.h>
#include "quant.h"

typedef struct {
  const int8_t *x;          /* in_features values; block kernels may read up to 15 more (zeroed slack) */
  int8_t *y;                /* out_features values */
  uint16_t in_features, out_features;
  const int32_t *bias_eff;  /* [out_features] */
  const int32_t *mult;      /* [out_features], or [1] when !per_channel */
  const int8_t *shift;      /* likewise */
  int per_channel;
  int32_t out_zp, act_min, act_max;
} hil_fc_args_t;

typedef struct {
  uint8_t br, bc;
  const uint16_t *row_ptr;  /* [ceil(out/br) + 1] */
  const uint16_t *col_idx;  /* [nnzb] */
  const int8_t *blocks;     /* [nnzb][br][bc] */
} hil_fc_block_t;

typedef struct {
  const uint16_t *row_nnz;  /* [out_features] */
  const uint8_t *delta;     /* [nnz] */
  const int8_t *value;      /* [nnz] */
} hil_fc_csr_t;

/* CSR with 4-bit column deltas (encoding 3, docs/model-format.md §6): per row, codes packed two to a byte,
 * low nibble first, each row starting on a byte (an odd row ends in a zero pad nibble). Code d in 1..15
 * moves the column d on and multiplies the next value; code 0 (escape) moves it 15 on and uses no value. */
typedef struct {
  const uint16_t *row_codes; /* [out_features]: codes of each row, escapes included */
  const uint8_t *codes;      /* [sum of ceil(row_codes / 2)] */
  const int8_t *value;       /* [nnz] */
} hil_fc_csr4_t;

/* The requantisation step every FC variant ends with, for output o. */
static inline int8_t hil_fc_requant(const hil_fc_args_t *a, uint32_t o, int32_t dot) {
  const uint32_t c = a->per_channel ? o : 0u;
  const int32_t acc = hil_add_wrap(a->bias_eff[o], dot);
  return hil_clamp8((int64_t)a->out_zp + hil_mbqm(acc, a->mult[c], a->shift[c]), a->act_min, a->act_max);
}

/* The portable scalar kernels (kernels.c), always built: the reference for every variant. */
void hil_fc_dense_scalar(const hil_fc_args_t *a, const int8_t *w);
void hil_fc_block_scalar(const hil_fc_args_t *a, const hil_fc_block_t *w);
void hil_fc_csr_scalar(const hil_fc_args_t *a, const hil_fc_csr_t *w);
void hil_fc_csr4_scalar(const hil_fc_args_t *a, const hil_fc_csr4_t *w);

/* Helium (MVE) variants (kernels_mve.c), on cores that have integer MVE, e.g. the Cortex-M55. */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define HIL_KERNELS_MVE 1
void hil_fc_dense_mve(const hil_fc_args_t *a, const int8_t *w);
void hil_fc_block_mve(const hil_fc_args_t *a, const hil_fc_block_t *w); /* falls back for widths not 4/8/16 */
void hil_fc_csr4_mve(const hil_fc_args_t *a, const hil_fc_csr4_t *w);
#else
#define HIL_KERNELS_MVE 0
#endif

/* DSP-extension variants (kernels_dsp.c: SXTB16 + SMLAD dual 16-bit MACs), on cores with the DSP
 * extension and no MVE: Cortex-M4, M7, M33. Same arguments as the scalar kernels, bit-exact with them. */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !HIL_KERNELS_MVE
#define HIL_KERNELS_DSP 1
void hil_fc_dense_dsp(const hil_fc_args_t *a, const int8_t *w);
void hil_fc_block_dsp(const hil_fc_args_t *a, const hil_fc_block_t *w); /* falls back for widths not 1, 4, 8, 12, 16 */
#else
#define HIL_KERNELS_DSP 0
#endif

/* What the engine calls: the best variant this build has. */
static inline void hil_fc_dense(const hil_fc_args_t *a, const int8_t *w) {
#if HIL_KERNELS_MVE
  hil_fc_dense_mve(a, w);
#elif HIL_KERNELS_DSP
  hil_fc_dense_dsp(a, w);
#else
  hil_fc_dense_scalar(a, w);
#endif
}
static inline void hil_fc_block(const hil_fc_args_t *a, const hil_fc_block_t *w) {
#if HIL_KERNELS_MVE
  hil_fc_block_mve(a, w);
#elif HIL_KERNELS_DSP
  hil_fc_block_dsp(a, w);
#else
  hil_fc_block_scalar(a, w);
#endif
}
static inline void hil_fc_csr(const hil_fc_args_t *a, const hil_fc_csr_t *w) { hil_fc_csr_scalar(a, w); }
/* CSR4's 4-bit deltas are prefix-summed 16 at a time on MVE (kernels_mve.c); DSP builds run the scalar
 * kernel, whose escape-free words already go without a branch per code. */
static inline void hil_fc_csr4(const hil_fc_args_t *a, const hil_fc_csr4_t *w) {
#if HIL_KERNELS_MVE
  hil_fc_csr4_mve(a, w);
#else
  hil_fc_csr4_scalar(a, w);
#endif
}

/* The 16x8 FC (TFLite's int16 FULLY_CONNECTED, CMSIS-NN's arm_fully_connected_s16): int16 input and
 * output (zero point 0), int8 dense weights [out][in], int64 bias, an int64 accumulator and the 64-bit
 * requantisation hil_mbqm64. One parameter struct, as CMSIS-NN passes its dims and quant params. */
typedef struct {
  const int16_t *x;         /* in_features values */
  int16_t *y;               /* out_features values */
  const int8_t *w;          /* [out_features][in_features] */
  const int64_t *bias;      /* [out_features] */
  const int32_t *mult;      /* [out_features], or [1] when !per_channel */
  const int8_t *shift;      /* likewise */
  uint16_t in_features, out_features;
  int per_channel;
  int32_t act_min, act_max;
} hil_fc_s16_params_t;

static inline int16_t hil_fc_s16_requant(const hil_fc_s16_params_t *p, uint32_t o, int64_t dot) {
  const uint32_t c = p->per_channel ? o : 0u;
  const int64_t v = hil_mbqm64(p->bias[o] + dot, p->mult[c], p->shift[c]);
  return (int16_t)(v < p->act_min ? p->act_min : v > p->act_max ? p->act_max : v);
}

void hil_fully_connected_s16_scalar(const hil_fc_s16_params_t *p);
#if HIL_KERNELS_MVE
void hil_fully_connected_s16_mve(const hil_fc_s16_params_t *p);
#endif
/* No DSP-extension variant: M4/M7 builds run the scalar kernel. */
static inline void hil_fully_connected_s16(const hil_fc_s16_params_t *p) {
#if HIL_KERNELS_MVE
  hil_fully_connected_s16_mve(p);
#else
  hil_fully_connected_s16_scalar(p);
#endif
}

/* int8 -> int16 requantisation (QUANTIZE) and the interpolating int16 table (LUT16); scalar on every core. */
void hil_quantize_s8_s16(const int8_t *x, int16_t *y, uint32_t n, int32_t in_zp, int32_t m, int shift);
void hil_lut16_s16(const int16_t *table, const int16_t *x, int16_t *y, uint32_t n);

typedef struct {
  int left_shift;
  int32_t zp1, zp2, out_zp;
  int32_t m1, m2, mo;
  int sh1, sh2, sho;
  int32_t act_min, act_max;
} hil_add_params_t;

/* ADD (subtract = 0) or SUB (subtract = 1) of n elements. What the engine calls is the best variant
 * this build has (as for the FC kernels): the _scalar functions are the portable reference, the _mve ones
 * (kernels_mve.c) are bit-exact with them. */
void hil_add_scalar(const hil_add_params_t *p, const int8_t *x1, const int8_t *x2, int8_t *y, uint32_t n,
                    int subtract);
void hil_mul_scalar(int32_t zp1, int32_t zp2, int32_t out_zp, int32_t mo, int sho, int32_t act_min, int32_t act_max,
                    const int8_t *x1, const int8_t *x2, int8_t *y, uint32_t n);
void hil_lut_scalar(const int8_t *table, const int8_t *x, int8_t *y, uint32_t n);
#if HIL_KERNELS_MVE
void hil_add_mve(const hil_add_params_t *p, const int8_t *x1, const int8_t *x2, int8_t *y, uint32_t n, int subtract);
void hil_mul_mve(int32_t zp1, int32_t zp2, int32_t out_zp, int32_t mo, int sho, int32_t act_min, int32_t act_max,
                 const int8_t *x1, const int8_t *x2, int8_t *y, uint32_t n);
void hil_lut_mve(const int8_t *table, const int8_t *x, int8_t *y, uint32_t n);
#endif
static inline void hil_add(const hil_add_params_t *p, const int8_t *x1, const int8_t *x2, int8_t *y, uint32_t n,
                           int subtract) {
#if HIL_KERNELS_MVE
  hil_add_mve(p, x1, x2, y, n, subtract);
#else
  hil_add_scalar(p, x1, x2, y, n, subtract);
#endif
}
static inline void hil_mul(int32_t zp1, int32_t zp2, int32_t out_zp, int32_t mo, int sho, int32_t act_min,
                           int32_t act_max, const int8_t *x1, const int8_t *x2, int8_t *y, uint32_t n) {
#if HIL_KERNELS_MVE
  hil_mul_mve(zp1, zp2, out_zp, mo, sho, act_min, act_max, x1, x2, y, n);
#else
  hil_mul_scalar(zp1, zp2, out_zp, mo, sho, act_min, act_max, x1, x2, y, n);
#endif
}
static inline void hil_lut(const int8_t *table, const int8_t *x, int8_t *y, uint32_t n) {
#if HIL_KERNELS_MVE
  hil_lut_mve(table, x, y, n);
#else
  hil_lut_scalar(table, x, y, n);
#endif
}

#endif
