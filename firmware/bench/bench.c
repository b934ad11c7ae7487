/* FC kernel benchmark under QEMU (semihosting): instructions per multiply-accumulate, on the Cortex-M55
 * (MVE kernels) and on the MPS2 ports' Cortex-M4/M7 (DSP-extension kernels; mps2.mk).
 *
 * Under `-icount shift=0` each instruction takes 1 ns of virtual time; the Corstone-300's system counter
 * ticks at 32 MHz and the MPS2's timer at 25 MHz, so a kernel's instruction count is its tick count x
 * 31.25 or x 40 (to one tick; scripts/bench-kernels.ts knows which). These are emulated
 * instruction counts, not cycles: an MVE instruction counts once however many beats it takes on silicon
 * (gathers are the slowest), and memory is free. A call shorter than 2000 ticks is repeated (up to 64
 * times) between the two clock reads, so small layers are timed to a fraction of a tick per call. One
 * line per kernel, parsed by scripts/bench-kernels.ts:
 *   BENCH shape=<out>x<in> kernel=<name> block=<br>x<bc> keep=<stored blocks or weights>/<all> macs=<n>
 *         ticks=<n> reps=<calls timed>
 * and, for the 16x8 FC of a 16-bit output layer (hil_fully_connected_s16; the M4/M7 run the scalar one):
 *   BENCH16 shape=<out>x<in> kernel=fc16-<scalar|opt> macs=<n> ticks=<n> reps=<calls timed> */
#include <string.h>
#include "clock.h"
#include "kernels.h"
#include "semihost.h"
#include "startup.h"
#include "testgen.h"

#if HIL_KERNELS_MVE
#define OPT "mve"
#define hil_fc_dense_opt hil_fc_dense_mve
#define hil_fc_block_opt hil_fc_block_mve
#elif HIL_KERNELS_DSP
#define OPT "dsp"
#define hil_fc_dense_opt hil_fc_dense_dsp
#define hil_fc_block_opt hil_fc_block_dsp
#else
#error "the benchmark compares optimised kernels with the scalar ones: build it for an MVE or a DSP core"
#endif

static int8_t g_y[4096];

/* The bitmap candidate that CSR4 was chosen over (docs/compression.md "Sparse encodings"): kept here, not
 * in the format, so that the comparison stays measurable. Per row, each 32-bit word's set bits are the
 * stored columns; the count-trailing-zeros loop visits exactly the stored weights. */
static void fc_bitmap_scalar(const hil_fc_args_t *a, const uint32_t *bm, const int8_t *v) {
  const uint32_t words = (a->in_features + 31u) / 32u;
  for (uint32_t o = 0; o < a->out_features; o++) {
    int32_t dot = 0;
    for (uint32_t j = 0; j < words; j++) {
      const int8_t *x = a->x + 32u * j;
      for (uint32_t m = *bm++; m; m &= m - 1u) dot += (int32_t)*v++ * (int32_t)x[__builtin_ctz(m)];
    }
    a->y[o] = hil_fc_requant(a, o, dot);
  }
}

typedef enum { K_DENSE_SCALAR, K_DENSE_MVE, K_BLOCK_SCALAR, K_BLOCK_MVE, K_CSR, K_CSR4, K_BITMAP, K_CSR4_OPT } kernel_t;
static const char *const NAMES[] = {"dense-scalar", "dense-" OPT, "block-scalar", "block-" OPT, "csr-scalar", "csr4-scalar", "bitmap-scalar", "csr4-" OPT};

static void call(const layer_t *L, const hil_fc_args_t *a, kernel_t k) {
  switch (k) {
    case K_DENSE_SCALAR: hil_fc_dense_scalar(a, L->dense); break;
    case K_DENSE_MVE: hil_fc_dense_opt(a, L->dense); break;
    case K_BLOCK_SCALAR: hil_fc_block_scalar(a, &L->block); break;
    case K_BLOCK_MVE: hil_fc_block_opt(a, &L->block); break;
    case K_CSR: hil_fc_csr_scalar(a, &L->csr); break;
    case K_CSR4: hil_fc_csr4_scalar(a, &L->csr4); break;
    case K_BITMAP: fc_bitmap_scalar(a, L->bitmap, L->bitmap_value); break;
    case K_CSR4_OPT: hil_fc_csr4(a, &L->csr4); break; /* what the engine runs: MVE on the M55, scalar elsewhere */
  }
}

static uint64_t timed(const layer_t *L, const hil_fc_args_t *a, kernel_t k, uint32_t reps) {
  const uint64_t t0 = clock_ticks();
  for (uint32_t r = 0; r < reps; r++) call(L, a, k);
  return clock_ticks() - t0;
}

static void run(const layer_t *L, kernel_t k, uint32_t stored, uint32_t all, uint32_t macs) {
  hil_fc_args_t a = L->args;
  a.y = g_y;
  const uint64_t once = timed(L, &a, k, 1);
  uint32_t reps = once >= 2000u ? 1u : (uint32_t)(2000u / (once + 1u)) + 1u;
  if (reps > 64u) reps = 64u;
  const uint64_t ticks = reps == 1u ? once : timed(L, &a, k, reps);
  sh_printf("BENCH shape=%ux%u kernel=%s block=%ux%u keep=%lu/%lu macs=%lu ticks=%lu reps=%lu\n", L->out, L->in,
            NAMES[k], L->br, L->bc, (unsigned long)stored, (unsigned long)all, (unsigned long)macs,
            (unsigned long)ticks, (unsigned long)reps);
}

static int16_t g_x16[256], g_y16[257];
static void run16(const hil_fc_s16_params_t *p, int opt) {
  uint32_t reps = 1;
  uint64_t ticks = 0;
  for (int pass = 0; pass < 2; pass++) {
    const uint64_t t0 = clock_ticks();
    for (uint32_t r = 0; r < reps; r++) {
#if HIL_KERNELS_MVE
      if (opt) hil_fully_connected_s16_mve(p); else
#endif
      hil_fully_connected_s16_scalar(p);
    }
    ticks = clock_ticks() - t0;
    if (pass == 0) {
      if (ticks >= 2000u) break;
      reps = (uint32_t)(2000u / (ticks + 1u)) + 1u;
      if (reps > 64u) reps = 64u;
    }
  }
  sh_printf("BENCH16 shape=%ux%u kernel=fc16-%s macs=%lu ticks=%lu reps=%lu\n", p->out_features, p->in_features, opt ? OPT : "scalar",
            (unsigned long)((uint32_t)p->out_features * p->in_features), (unsigned long)ticks, (unsigned long)reps);
}

/* The output FCs of se-small and se-paper (257 x 128, 257 x 256) as 16x8 layers. */
static void bench16(pool_t *pool, rng_t *rng) {
  static const uint16_t ins[] = {128, 256};
  for (uint32_t s = 0; s < 2; s++) {
    pool->used = 0;
    const uint16_t in = ins[s], out = 257;
    int8_t *w = pool_take(pool, (uint32_t)in * out);
    int64_t *bias = pool_take(pool, 8u * out);
    int32_t *mult = pool_take(pool, 4u * out);
    int8_t *shift = pool_take(pool, out);
    if (!w || !bias || !mult || !shift) sh_exit(2);
    for (uint32_t i = 0; i < (uint32_t)in * out; i++) w[i] = (int8_t)rng_range(rng, -127, 127);
    for (uint32_t i = 0; i < in; i++) g_x16[i] = (int16_t)rng_range(rng, -32768, 32767);
    for (uint32_t o = 0; o < out; o++) {
      bias[o] = rng_range(rng, -(1 << 24), 1 << 24);
      mult[o] = rng_range(rng, 1 << 30, INT32_MAX);
      shift[o] = (int8_t)rng_range(rng, -12, -4);
    }
    const hil_fc_s16_params_t p = {g_x16, g_y16, w, bias, mult, shift, in, out, 1, -32768, 32767};
    run16(&p, 0);
#if HIL_KERNELS_MVE
    run16(&p, 1);
#endif
  }
}

int main(void) {
  clock_init();
  rng_t rng = {0xC0FFEEu};
  pool_t pool = {__model_start, 0, (uint32_t)(__model_end - __model_start)};
  layer_t L;
  /* out x in: the GRU gates of se-small (128x128) and se-paper (256x256), their input FCs (n_bins = 257
   * in) and output FCs (257 out), and 1024x1024, where per-row costs are amortised. */
  static const uint16_t shapes[][2] = {{128, 128}, {256, 256}, {128, 257}, {256, 257},
                                       {257, 128}, {257, 256}, {1024, 1024}};
  /* The block shapes the kernels take (docs/model-format.md: 1..16 a side; the MVE and DSP kernels
   * vectorise widths 4, 8 and 16, with fast paths for 8x8, 4x4, 1x16 and 16x1), swept at equal
   * sparsity so that `npm run bench:kernels` can name each core's fastest shape (preferred_block). */
  static const uint8_t blocks[][2] = {{8, 8}, {4, 4}, {1, 16}, {16, 1}, {4, 8},
                                      {4, 16}, {8, 4}, {8, 16}, {16, 16}};
  /* Blocks kept per mille: 50, 75 and 90 % sparsity, and none (the layer's fixed cost: requantisation
   * and per-block-row work, which sparsity cannot remove). */
  static const uint32_t keeps[] = {500, 250, 100, 0};
  for (uint32_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const uint16_t out = shapes[s][0], in = shapes[s][1];
    const uint32_t macs = (uint32_t)out * in;
    pool.used = 0;
    if (layer_make(&L, &pool, &rng, in, out, 16, 16, 1000, 1, 0)) sh_exit(2);
    run(&L, K_DENSE_SCALAR, macs, macs, macs);
    run(&L, K_DENSE_MVE, macs, macs, macs);
    /* Half the width: the difference is the dense kernel's cost per MAC without its per-row costs. */
    pool.used = 0;
    if (layer_make(&L, &pool, &rng, in / 2u, out, 16, 16, 1000, 1, 0)) sh_exit(2);
    run(&L, K_DENSE_MVE, (uint32_t)out * (in / 2u), (uint32_t)out * (in / 2u), (uint32_t)out * (in / 2u));
    for (uint32_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++)
      for (uint32_t j = 0; j < sizeof keeps / sizeof keeps[0]; j++) {
        const uint8_t br = blocks[b][0], bc = blocks[b][1];
        pool.used = 0;
        if (layer_make(&L, &pool, &rng, in, out, br, bc, keeps[j], 1, 0) || !L.has_block) sh_exit(2);
        const uint32_t all = ((out + br - 1u) / br) * ((in + bc - 1u) / bc);
        run(&L, K_BLOCK_MVE, L.nnzb, all, L.nnzb * br * bc);
        if (keeps[j] == 100) run(&L, K_BLOCK_SCALAR, L.nnzb, all, L.nnzb * br * bc);
      }
    /* Unstructured sparsity for the weight-level encodings: CSR (fillers are MACs too), CSR4 and the
     * bitmap prototype (both multiply the stored weights only). */
    static const uint32_t sparse_keeps[] = {500, 300, 200, 100, 50};
    for (uint32_t j = 0; j < sizeof sparse_keeps / sizeof sparse_keeps[0]; j++) {
      pool.used = 0;
      if (layer_make(&L, &pool, &rng, in, out, 1, 1, sparse_keeps[j], 1, 0)) sh_exit(2);
      run(&L, K_CSR, L.nnz, macs, L.nnz);
      run(&L, K_CSR4, L.nnz4, macs, L.nnz4);
      run(&L, K_BITMAP, L.nnz4, macs, L.nnz4);
#if HIL_KERNELS_MVE
      run(&L, K_CSR4_OPT, L.nnz4, macs, L.nnz4);
#endif
    }
  }
  bench16(&pool, &rng);
  sh_exit(0);
}
