/* Portable scalar kernels (docs/model-format.md §5-6). */
#include <string.h>

#include "kernels.h"

void hil_fc_dense_scalar(const hil_fc_args_t *a, const int8_t *w) {
  const uint32_t in = a->in_features;
  for (uint32_t o = 0; o < a->out_features; o++) {
    const int8_t *row = w + (uint32_t)o * in;
    int32_t dot = 0;
    for (uint32_t i = 0; i < in; i++) dot += (int32_t)row[i] * (int32_t)a->x[i];
    a->y[o] = hil_fc_requant(a, o, dot);
  }
}

void hil_fc_block_scalar(const hil_fc_args_t *a, const hil_fc_block_t *w) {
  const uint32_t br = w->br, bc = w->bc, out = a->out_features;
  const uint32_t nbr = (out + br - 1) / br;
  int32_t dot[16]; /* br <= 16 (validated) */
  for (uint32_t rb = 0; rb < nbr; rb++) {
    for (uint32_t r = 0; r < br; r++) dot[r] = 0;
    for (uint32_t k = w->row_ptr[rb]; k < w->row_ptr[rb + 1]; k++) {
      const int8_t *blk = w->blocks + k * br * bc;
      const int8_t *x = a->x + (uint32_t)w->col_idx[k] * bc;
      for (uint32_t r = 0; r < br; r++) {
        int32_t s = 0;
        for (uint32_t c = 0; c < bc; c++) s += (int32_t)blk[r * bc + c] * (int32_t)x[c];
        dot[r] += s;
      }
    }
    for (uint32_t r = 0; r < br; r++) {
      const uint32_t o = rb * br + r;
      if (o < out) a->y[o] = hil_fc_requant(a, o, dot[r]);
    }
  }
}

void hil_fc_csr_scalar(const hil_fc_args_t *a, const hil_fc_csr_t *w) {
  uint32_t k = 0;
  for (uint32_t o = 0; o < a->out_features; o++) {
    const uint32_t end = k + w->row_nnz[o];
    uint32_t col = 0;
    int32_t dot = 0;
    for (; k < end; k++) {
      col += w->delta[k];
      dot += (int32_t)w->value[k] * (int32_t)a->x[col];
    }
    a->y[o] = hil_fc_requant(a, o, dot);
  }
}

/* One byte of CSR4 codes (two codes, low nibble first); a zero code is an escape. */
static inline int32_t csr4_byte(uint32_t b, uint32_t *col, const int8_t **v, const int8_t *x, int32_t dot) {
  const uint32_t lo = b & 15u, hi = b >> 4;
  if (lo) {
    *col += lo;
    dot += (int32_t)*(*v)++ * (int32_t)x[*col];
  } else {
    *col += 15u;
  }
  if (hi) {
    *col += hi;
    dot += (int32_t)*(*v)++ * (int32_t)x[*col];
  } else {
    *col += 15u;
  }
  return dot;
}

void hil_fc_csr4_scalar(const hil_fc_args_t *a, const hil_fc_csr4_t *w) {
  const uint8_t *c = w->codes;
  const int8_t *v = w->value, *x = a->x;
  for (uint32_t o = 0; o < a->out_features; o++) {
    const uint8_t *end = c + ((uint32_t)w->row_codes[o] + 1u) / 2u;
    /* Column -1 before the first code (unsigned wrap-around is defined), so a first code d is column d - 1.
     * A row's pad nibble reads as an escape: it moves the column without touching x or the values. */
    uint32_t col = UINT32_MAX;
    int32_t dot = 0;
    /* Eight codes at a time while none is an escape (no zero nibble: the bit trick below, exact for
     * "any"), without a branch per code; a word with an escape goes byte by byte. Only in rows with a
     * code per 6 columns or more: sparser rows have an escape in most words (at 90 % sparsity a fifth of
     * the gaps exceed 15), where the test costs more than it saves (`npm run bench:encodings`). */
    const int words = 6u * w->row_codes[o] >= a->in_features;
    for (; words && end - c >= 4; c += 4) {
      uint32_t q;
      memcpy(&q, c, 4); /* rows start on any byte: an unaligned load; little-endian, so code 0 is bits 0-3 */
      if ((q - 0x11111111u) & ~q & 0x88888888u) {
        for (uint32_t k = 0; k < 4; k++) dot = csr4_byte(c[k], &col, &v, x, dot);
        continue;
      }
#define HIL_CSR4_CODE(k)                              \
  col += (q >> (4u * (k))) & 15u;                     \
  dot += (int32_t)v[k] * (int32_t)x[col];
      HIL_CSR4_CODE(0) HIL_CSR4_CODE(1) HIL_CSR4_CODE(2) HIL_CSR4_CODE(3)
      HIL_CSR4_CODE(4) HIL_CSR4_CODE(5) HIL_CSR4_CODE(6) HIL_CSR4_CODE(7)
#undef HIL_CSR4_CODE
      v += 8;
    }
    /* The bytes left, as a counted loop (a little tighter on the M55 than a pointer compare). */
    const uint32_t left = (uint32_t)(end - c);
    for (uint32_t k = 0; k < left; k++) dot = csr4_byte(c[k], &col, &v, x, dot);
    c = end;
    a->y[o] = hil_fc_requant(a, o, dot);
  }
}

void hil_add_scalar(const hil_add_params_t *p, const int8_t *x1, const int8_t *x2, int8_t *y, uint32_t n,
                    int subtract) {
  for (uint32_t i = 0; i < n; i++) {
    /* |x - zp| <= 255 and left_shift <= 23 (validated), so the shifted values fit int32. */
    const int32_t a = (x1[i] - p->zp1) * ((int32_t)1 << p->left_shift);
    const int32_t b = (x2[i] - p->zp2) * ((int32_t)1 << p->left_shift);
    const int32_t sa = hil_mbqm(a, p->m1, p->sh1);
    const int32_t sb = hil_mbqm(b, p->m2, p->sh2);
    const int32_t s = subtract ? hil_sub_wrap(sa, sb) : hil_add_wrap(sa, sb);
    y[i] = hil_clamp8((int64_t)p->out_zp + hil_mbqm(s, p->mo, p->sho), p->act_min, p->act_max);
  }
}

void hil_mul_scalar(int32_t zp1, int32_t zp2, int32_t out_zp, int32_t mo, int sho, int32_t act_min, int32_t act_max,
                    const int8_t *x1, const int8_t *x2, int8_t *y, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    const int32_t prod = (x1[i] - zp1) * (x2[i] - zp2);
    y[i] = hil_clamp8((int64_t)out_zp + hil_mbqm(prod, mo, sho), act_min, act_max);
  }
}

void hil_lut_scalar(const int8_t *table, const int8_t *x, int8_t *y, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) y[i] = table[(int32_t)x[i] + 128];
}

void hil_fully_connected_s16_scalar(const hil_fc_s16_params_t *p) {
  const uint32_t in = p->in_features;
  for (uint32_t o = 0; o < p->out_features; o++) {
    const int8_t *row = p->w + o * in;
    int64_t dot = 0; /* up to 65535 products of 2^22: needs more than 32 bits */
    for (uint32_t i = 0; i < in; i++) dot += (int32_t)row[i] * (int32_t)p->x[i];
    p->y[o] = hil_fc_s16_requant(p, o, dot);
  }
}

void hil_quantize_s8_s16(const int8_t *x, int16_t *y, uint32_t n, int32_t in_zp, int32_t m, int shift) {
  for (uint32_t i = 0; i < n; i++) y[i] = hil_sat16(hil_mbqm(x[i] - in_zp, m, shift));
}

void hil_lut16_s16(const int16_t *table, const int16_t *x, int16_t *y, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) y[i] = hil_lut16_lookup(table, x[i]);
}
