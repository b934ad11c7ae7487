/* Random FC layers for the kernel self-test and benchmark: dense, block-sparse, CSR and CSR4 encodings of one
 * int8 matrix, laid out as docs/model-format.md §6 has them. Deterministic (xorshift32). */
#ifndef TESTGEN_H
#define TESTGEN_H

#include <stdint.h>
#include "kernels.h"

typedef struct { uint32_t s; } rng_t;
uint32_t rng_next(rng_t *r);
int32_t rng_range(rng_t *r, int32_t lo, int32_t hi); /* inclusive */

/* Bump allocator over a caller's buffer, 16-byte aligned like the blob's arrays and the arena. */
typedef struct { uint8_t *base; uint32_t used, cap; } pool_t;
void *pool_take(pool_t *p, uint32_t bytes); /* zeroed; NULL when full */

typedef struct {
  uint16_t in, out;
  uint8_t br, bc;
  int8_t *dense;            /* [out][in], zero outside the kept blocks */
  hil_fc_block_t block;     /* valid when has_block */
  uint32_t nnzb;
  int has_block;
  hil_fc_csr_t csr;
  uint32_t nnz;
  hil_fc_csr4_t csr4;       /* the same matrix with 4-bit deltas (encoding 3) */
  uint32_t nnz4, csr4_code_bytes;
  /* The bitmap prototype bench.c measures against CSR4 (not a format encoding): per row ceil(in / 32)
   * uint32 words, bit i of word j set iff column 32j + i is stored, then the nonzero values in order. */
  const uint32_t *bitmap;
  const int8_t *bitmap_value;
  int8_t *x;                /* in + 16 slack bytes, slack zero */
  int32_t *bias, *mult;
  int8_t *shift;
  hil_fc_args_t args;       /* y left for the caller */
} layer_t;

/* Keeps round(keep_per_mille / 1000) of the br x bc blocks, chosen at random. `extreme` (1, 2 or 3) draws weights
 * over all of int8 (with -128), multipliers over their whole valid range (0 and INT32_MAX included) and
 * biases over all of int32 (wrap-around), and shifts over [-31, 31] (1), [-31, -1] (2: right shifts
 * only, the kernels' short requantisation) or [-31, 0] (3: some shifts 0); extreme 0 keeps weights in
 * [-8, 8] (zeros inside kept blocks exercise CSR's gaps) and the requantisation exporter-like.
 * Returns 0, or -1 when the pool is too small. */
int layer_make(layer_t *L, pool_t *pool, rng_t *rng, uint16_t in, uint16_t out, uint8_t br, uint8_t bc,
               uint32_t keep_per_mille, int per_channel, int extreme);

#endif
