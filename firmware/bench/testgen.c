#include "testgen.h"
#include <string.h>

uint32_t rng_next(rng_t *r) {
  uint32_t x = r->s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return r->s = x;
}

int32_t rng_range(rng_t *r, int32_t lo, int32_t hi) {
  return lo + (int32_t)(rng_next(r) % (uint32_t)((int64_t)hi - lo + 1));
}

void *pool_take(pool_t *p, uint32_t bytes) {
  const uint32_t at = (p->used + 15u) & ~15u;
  if (at + bytes > p->cap) return 0;
  p->used = at + bytes;
  memset(p->base + at, 0, bytes);
  return p->base + at;
}

int layer_make(layer_t *L, pool_t *pool, rng_t *rng, uint16_t in, uint16_t out, uint8_t br, uint8_t bc,
               uint32_t keep_per_mille, int per_channel, int extreme) {
  memset(L, 0, sizeof *L);
  L->in = in;
  L->out = out;
  L->br = br;
  L->bc = bc;
  const uint32_t nbr = (out + br - 1u) / br, nbc = (in + bc - 1u) / bc;
  L->dense = pool_take(pool, (uint32_t)in * out);
  uint16_t *row_ptr = pool_take(pool, 2u * (nbr + 1u));
  uint16_t *col_idx = pool_take(pool, 2u * nbr * nbc);
  L->x = pool_take(pool, in + 16u);
  L->bias = pool_take(pool, 4u * out);
  L->mult = pool_take(pool, 4u * out);
  L->shift = pool_take(pool, out);
  if (!L->dense || !row_ptr || !col_idx || !L->x || !L->bias || !L->mult || !L->shift) return -1;

  /* Which blocks are kept: exactly round(keep_per_mille / 1000 of them), each set of that size equally
   * likely (selection sampling), so a benchmark's sparsity is what it asks for. Their weights are zero
   * outside the matrix: edge blocks are padded. */
  uint32_t nnzb = 0, left = nbr * nbc, want = (nbr * nbc * keep_per_mille + 500u) / 1000u;
  for (uint32_t rb = 0; rb < nbr; rb++) {
    row_ptr[rb] = (uint16_t)nnzb;
    for (uint32_t cb = 0; cb < nbc; cb++, left--) {
      if (rng_next(rng) % left >= want) continue;
      want--;
      if (nnzb < 0xFFFFu) col_idx[nnzb] = (uint16_t)cb;
      nnzb++;
      for (uint32_t r = rb * br; r < (rb + 1u) * br && r < out; r++)
        for (uint32_t c = cb * bc; c < (cb + 1u) * bc && c < in; c++) {
          int32_t v = extreme ? rng_range(rng, -128, 127) : rng_range(rng, -8, 8);
          L->dense[r * in + c] = (int8_t)v;
        }
    }
  }
  row_ptr[nbr] = (uint16_t)nnzb;
  L->nnzb = nnzb;
  /* The block encoding's row_ptr is uint16: beyond 65535 blocks the layer has no block form. */
  L->has_block = nnzb <= 0xFFFFu;
  int8_t *blocks = L->has_block ? pool_take(pool, nnzb * br * bc + 1u) : 0;
  if (L->has_block && !blocks) return -1;
  for (uint32_t rb = 0, k = 0; L->has_block && rb < nbr; rb++)
    for (; k < row_ptr[rb + 1]; k++)
      for (uint32_t r = 0; r < br; r++)
        for (uint32_t c = 0; c < bc; c++) {
          const uint32_t o = rb * br + r, i = (uint32_t)col_idx[k] * bc + c;
          blocks[(k * br + r) * bc + c] = (o < out && i < in) ? L->dense[o * in + i] : 0;
        }
  L->block = (hil_fc_block_t){br, bc, row_ptr, col_idx, blocks};

  /* CSR of the same matrix, with 255-delta fillers over long gaps (docs/model-format.md §6). */
  uint32_t nnz = 0;
  for (uint32_t o = 0; o < out; o++) {
    uint32_t prev = 0;
    int first = 1;
    for (uint32_t i = 0; i < in; i++) {
      if (!L->dense[o * in + i]) continue;
      uint32_t gap = first ? i : i - prev;
      nnz += gap / 255u + 1u;
      prev = i;
      first = 0;
    }
  }
  uint16_t *row_nnz = pool_take(pool, 2u * out);
  uint8_t *delta = pool_take(pool, nnz + 1u);
  int8_t *value = pool_take(pool, nnz + 1u);
  if (!row_nnz || !delta || !value) return -1;
  uint32_t k = 0;
  for (uint32_t o = 0; o < out; o++) {
    const uint32_t start = k;
    uint32_t col = 0;
    for (uint32_t i = 0; i < in; i++) {
      if (!L->dense[o * in + i]) continue;
      uint32_t gap = i - col;
      while (gap > 255u) { delta[k] = 255; value[k++] = 0; gap -= 255u; }
      delta[k] = (uint8_t)gap;
      value[k++] = L->dense[o * in + i];
      col = i;
    }
    row_nnz[o] = (uint16_t)(k - start);
  }
  L->nnz = nnz;
  L->csr = (hil_fc_csr_t){row_nnz, delta, value};

  /* CSR4 (docs/model-format.md §6): escapes (code 0, +15 columns) bridge gaps over 15; rows are byte-aligned. */
  uint32_t code_bytes = 0, nnz4 = 0;
  for (uint32_t o = 0; o < out; o++) {
    uint32_t codes = 0, prev = UINT32_MAX;
    for (uint32_t i = 0; i < in; i++) {
      if (!L->dense[o * in + i]) continue;
      codes += (i - prev - 1u) / 15u + 1u;
      nnz4++;
      prev = i;
    }
    code_bytes += (codes + 1u) / 2u;
  }
  uint16_t *row_codes = pool_take(pool, 2u * out);
  uint8_t *codes = pool_take(pool, code_bytes + 1u);
  int8_t *value4 = pool_take(pool, nnz4 + 1u);
  const uint32_t words = (in + 31u) / 32u;
  uint32_t *bitmap = pool_take(pool, 4u * words * out);
  if (!row_codes || !codes || !value4 || !bitmap) return -1;
  uint32_t cb = 0, v4 = 0;
  for (uint32_t o = 0; o < out; o++) {
    uint32_t n = 0, prev = UINT32_MAX;
    for (uint32_t i = 0; i < in; i++) {
      if (!L->dense[o * in + i]) continue;
      uint32_t gap = i - prev;
      for (; gap > 15u; gap -= 15u) n++; /* an escape: code 0, already zero in the pool */
      codes[cb + n / 2u] |= (uint8_t)(gap << (4u * (n & 1u)));
      n++;
      value4[v4++] = L->dense[o * in + i];
      bitmap[o * words + i / 32u] |= 1u << (i % 32u);
      prev = i;
    }
    row_codes[o] = (uint16_t)n;
    cb += (n + 1u) / 2u;
  }
  L->nnz4 = nnz4;
  L->csr4_code_bytes = code_bytes;
  L->csr4 = (hil_fc_csr4_t){row_codes, codes, value4};
  L->bitmap = bitmap;
  L->bitmap_value = value4; /* the same nonzero values in the same order */

  for (uint32_t i = 0; i < in; i++) L->x[i] = (int8_t)rng_range(rng, -128, 127);
  const uint32_t nq = per_channel ? out : 1u;
  for (uint32_t o = 0; o < out; o++)
    L->bias[o] = extreme ? (int32_t)rng_next(rng) : rng_range(rng, -200000, 200000);
  for (uint32_t o = 0; o < nq; o++) {
    if (extreme) {
      /* 1: shifts over [-31, 31]; 2: right shifts only, [-31, -1]; 3: [-31, 0] (no left shift, some 0) */
      const int32_t top = extreme == 1 ? 31 : extreme == 2 ? -1 : 0;
      const int32_t pick = rng_range(rng, 0, 9);
      L->mult[o] = pick == 0 ? 0 : pick == 1 ? INT32_MAX : rng_range(rng, 1 << 30, INT32_MAX);
      L->shift[o] = (int8_t)(pick == 2 ? top : pick == 3 ? -31 : rng_range(rng, -31, top));
    } else {
      L->mult[o] = rng_range(rng, 1 << 30, INT32_MAX);
      L->shift[o] = (int8_t)rng_range(rng, -12, -4);
    }
  }
  L->args = (hil_fc_args_t){L->x, 0, in, out, L->bias, L->mult, L->shift, per_channel, 0, -128, 127};
  L->args.out_zp = extreme ? rng_range(rng, -128, 127) : rng_range(rng, -20, 20);
  if (extreme && rng_range(rng, 0, 1)) L->args.act_min = L->args.out_zp; /* a fused ReLU */
  return 0;
}
