/* Kernel self-test under QEMU (semihosting): every optimised kernel against the scalar reference on the
 * same random layers, byte for byte, including the bytes just past the output (which no kernel may
 * write). Exit status 0 when all agree. Built for the Cortex-M55 (the MVE kernels, and the MVE front end
 * and element-wise ops; run by test/unit/corstone300-kernels.test.ts) and for the MPS2 ports (the DSP
 * extension's FC kernels, kernels_dsp.c; mps2.mk, run by test/unit/qemumcu-kernels.test.ts). */
#include <string.h>
#include "dsp.h"
#include "kernels.h"
#include "semihost.h"
#include "startup.h"
#include "testgen.h"

#if HIL_KERNELS_MVE
#define OPT "mve"
#define hil_fc_dense_opt hil_fc_dense_mve
#define hil_fc_block_opt hil_fc_block_mve
#define stack_high_water cs300_stack_high_water
#elif HIL_KERNELS_DSP
#define OPT "dsp"
#define hil_fc_dense_opt hil_fc_dense_dsp
#define hil_fc_block_opt hil_fc_block_dsp
#define stack_high_water mps2_stack_high_water
#else
#error "the self-test compares optimised kernels with the scalar ones: build it for an MVE or a DSP core"
#endif

#define GUARD 16u
static int8_t g_y_ref[4096 + GUARD], g_y_mve[4096 + GUARD];
static uint32_t g_cases, g_failures;

/* ENC_CSR4: the CSR4 kernel this build runs (kernels.h: the scalar one on every core) against the dense
 * scalar kernel on the same matrix. */
enum { ENC_DENSE, ENC_BLOCK, ENC_CSR4 };

static void check(const layer_t *L, int enc, const char *what) {
  hil_fc_args_t a = L->args;
  memset(g_y_ref, 0x5A, sizeof g_y_ref);
  memset(g_y_mve, 0x5A, sizeof g_y_mve);
  a.y = g_y_ref;
  if (enc == ENC_BLOCK) hil_fc_block_scalar(&a, &L->block); else hil_fc_dense_scalar(&a, L->dense);
  a.y = g_y_mve;
  if (enc == ENC_DENSE) hil_fc_dense_opt(&a, L->dense);
  else if (enc == ENC_BLOCK) hil_fc_block_opt(&a, &L->block);
  else hil_fc_csr4(&a, &L->csr4);
  g_cases++;
  for (uint32_t o = 0; o < L->out + GUARD; o++) {
    if (g_y_ref[o] != g_y_mve[o]) {
      if (g_failures++ < 20)
        sh_printf("FAIL %s in=%u out=%u block=%ux%u per_channel=%d: y[%lu] scalar %d, " OPT " %d\n", what, L->in,
                  L->out, L->br, L->bc, L->args.per_channel, (unsigned long)o, g_y_ref[o], g_y_mve[o]);
      return;
    }
  }
}

/* Requantisation edge cases through a dense layer whose accumulators are its biases (x = 0): for every
 * shift, values on and next to the rounding ties of rdbpot (k * 2^e + 2^(e-1) + {-1, 0, 1}; with
 * M = INT32_MAX srdhm keeps |acc| < 2^30 unchanged, so the ties reach rdbpot), INT32_MIN, INT32_MAX and
 * wrap-around left shifts, with multipliers INT32_MAX, 2^30, 2^30 + 1 and 0, per channel and per
 * tensor. */
static void requant_edges(pool_t *pool, rng_t *rng) {
  enum { OUT = 67 }; /* not a multiple of 4: the predicated tail too */
  static const int32_t mults[] = {INT32_MAX, 1 << 30, (1 << 30) + 1, 0};
  for (int sh = -31; sh <= 31; sh++)
    for (uint32_t mi = 0; mi < sizeof mults / sizeof mults[0]; mi++)
      for (int pc = 0; pc < 2; pc++) {
        pool->used = 0;
        layer_t L;
        memset(&L, 0, sizeof L);
        L.in = 1;
        L.out = OUT;
        L.dense = pool_take(pool, OUT);
        L.x = pool_take(pool, 16);
        L.bias = pool_take(pool, 4u * OUT);
        L.mult = pool_take(pool, 4u * OUT);
        L.shift = pool_take(pool, OUT);
        if (!L.dense || !L.x || !L.bias || !L.mult || !L.shift) sh_exit(2);
        const int e = sh < 0 ? -sh : 0;
        uint32_t n = 0;
        for (int64_t k = -2; k <= 1; k++)
          for (int64_t d = -1; d <= 1; d++) {
            const int64_t v = k * ((int64_t)1 << e) + (e ? (int64_t)1 << (e - 1) : 0) + d;
            if (v >= INT32_MIN && v <= INT32_MAX) L.bias[n++] = (int32_t)v;
          }
        static const int32_t fixed[] = {INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 1, 0, 1, -1,
                                        1 << 30, -(1 << 30), (1 << 30) - 1, -(1 << 30) + 1};
        for (uint32_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) L.bias[n++] = fixed[i];
        while (n < OUT) L.bias[n++] = (int32_t)rng_next(rng) >> rng_range(rng, 0, 31);
        for (uint32_t o = 0; o < OUT; o++) {
          L.mult[o] = mults[mi];
          L.shift[o] = (int8_t)sh;
        }
        L.args = (hil_fc_args_t){L.x, 0, 1, OUT, L.bias, L.mult, L.shift, pc, 0, -128, 127};
        check(&L, ENC_DENSE, "requant");
        /* The same with a zero point and a fused ReLU, and with the other channels' shifts mixed. */
        L.args.out_zp = 37;
        L.args.act_min = 37;
        if (pc)
          for (uint32_t o = 1; o < OUT; o += 2) L.shift[o] = (int8_t)rng_range(rng, -31, sh < 0 ? -1 : 31);
        check(&L, ENC_DENSE, "requant");
      }
}

#if HIL_KERNELS_MVE
/* The MVE front end (dsp_mve.c) against the portable one, step by step, on the inputs the pipeline can
 * give it: full-scale noise, square waves, DC and impulses (the largest spectra, |X| near 32767 * 512),
 * every mask value, both hops; and the FFT both ways on its own. */
static uint32_t g_dsp_failures;
static void dsp_expect(const char *what, uint32_t sig, const void *a, const void *b, uint32_t bytes) {
  g_cases++;
  if (memcmp(a, b, bytes) != 0) {
    g_failures++;
    if (g_dsp_failures++ < 20) sh_printf("FAIL dsp %s (signal %lu)\n", what, (unsigned long)sig);
  }
}

static int16_t g_win[2][HIL_FFT_N], g_inbuf[2][HIL_FFT_N], g_in[256], g_out[2][256];
static int32_t g_re[2][HIL_FFT_N], g_im[2][HIL_FFT_N], g_ola[2][HIL_FFT_N];
static int8_t g_feat[2][HIL_FFT_N / 2 + 1], g_mask[HIL_FFT_N / 2 + 1];

static void dsp_selftest(rng_t *rng) {
  const uint32_t n = HIL_FFT_N, nb = n / 2 + 1;
  hil_dsp_init();
  for (uint32_t sig = 0; sig < 24; sig++) {
    const uint32_t hop = sig & 1u ? 128u : 256u;
    for (uint32_t k = 0; k < n; k++) { /* windows: full-scale ones and random ones */
      g_win[0][k] = (int16_t)(sig % 3u == 0 ? 32767 : rng_range(rng, 0, 32767));
      g_win[1][k] = (int16_t)(sig % 3u == 1 ? 32767 : rng_range(rng, -32768, 32767));
    }
    for (uint32_t k = 0; k < n; k++) {
      int32_t v;
      switch (sig % 6u) {
        case 0: v = rng_range(rng, -32768, 32767); break;
        case 1: v = (k / (1u + sig)) & 1u ? 32767 : -32768; break; /* square wave */
        case 2: v = sig & 2u ? 32767 : -32768; break;               /* DC */
        case 3: v = k == sig ? -32768 : 0; break;                  /* impulse */
        case 4: v = rng_range(rng, -40, 40); break;                 /* quiet */
        default: v = (int32_t)((k * 2654435761u) >> 16) - 32768; break;
      }
      g_inbuf[0][k] = g_inbuf[1][k] = (int16_t)v;
    }
    for (uint32_t k = 0; k < hop; k++) g_in[k] = (int16_t)rng_range(rng, -32768, 32767);
    hil_dsp_analysis_scalar(g_inbuf[0], g_in, hop, g_win[0], g_re[0], g_im[0]);
    hil_dsp_analysis_mve(g_inbuf[1], g_in, hop, g_win[0], g_re[1], g_im[1]);
    dsp_expect("analysis inbuf", sig, g_inbuf[0], g_inbuf[1], sizeof g_inbuf[0]);
    dsp_expect("analysis re", sig, g_re[0], g_re[1], sizeof g_re[0]);
    dsp_expect("analysis im", sig, g_im[0], g_im[1], sizeof g_im[0]);
    hil_fft_scalar(g_re[0], g_im[0], 0);
    hil_fft_mve(g_re[1], g_im[1], 0);
    dsp_expect("fft re", sig, g_re[0], g_re[1], sizeof g_re[0]);
    dsp_expect("fft im", sig, g_im[0], g_im[1], sizeof g_im[0]);
    const int32_t mult = sig % 4u == 0 ? INT32_MAX : rng_range(rng, 1 << 30, INT32_MAX);
    const int shift = sig % 4u == 1 ? 0 : sig % 4u == 2 ? rng_range(rng, 1, 31) : rng_range(rng, -31, -1);
    const int32_t zp = rng_range(rng, -128, 127);
    hil_dsp_features_scalar(g_re[0], g_im[0], nb, zp, mult, shift, g_feat[0]);
    hil_dsp_features_mve(g_re[1], g_im[1], nb, zp, mult, shift, g_feat[1]);
    dsp_expect("features", sig, g_feat[0], g_feat[1], sizeof g_feat[0]);
    for (uint32_t k = 0; k < nb; k++)
      g_mask[k] = (int8_t)(sig % 3u == 0 ? 127 : sig % 3u == 1 ? (int32_t)(k & 255u) - 128 : rng_range(rng, -128, 127));
    hil_dsp_mask_scalar(g_re[0], g_im[0], g_mask, nb);
    hil_dsp_mask_mve(g_re[1], g_im[1], g_mask, nb);
    dsp_expect("mask re", sig, g_re[0], g_re[1], sizeof g_re[0]);
    dsp_expect("mask im", sig, g_im[0], g_im[1], sizeof g_im[0]);
    hil_fft_scalar(g_re[0], g_im[0], 1);
    hil_fft_mve(g_re[1], g_im[1], 1);
    dsp_expect("ifft re", sig, g_re[0], g_re[1], sizeof g_re[0]);
    dsp_expect("ifft im", sig, g_im[0], g_im[1], sizeof g_im[0]);
    for (uint32_t k = 0; k < n; k++) g_ola[0][k] = g_ola[1][k] = rng_range(rng, -70000, 70000);
    hil_dsp_synthesis_scalar(g_ola[0], g_re[0], g_win[1], hop, g_out[0]);
    hil_dsp_synthesis_mve(g_ola[1], g_re[1], g_win[1], hop, g_out[1]);
    dsp_expect("synthesis ola", sig, g_ola[0], g_ola[1], sizeof g_ola[0]);
    dsp_expect("synthesis out", sig, g_out[0], g_out[1], sizeof g_out[0]);
  }
}

/* The element-wise ops (ADD, SUB, MUL, LUT) against the scalar ones: every length up to 300 (and the
 * bytes just past the output), zero points, left shifts and multipliers over their valid ranges, shifts
 * of both signs, 0 and all negative, full and ReLU activation ranges. */
static int32_t pick_mult(rng_t *rng) {
  const int32_t k = rng_range(rng, 0, 7);
  return k == 0 ? 0 : k == 1 ? INT32_MAX : k == 2 ? 1 << 30 : rng_range(rng, 1 << 30, INT32_MAX);
}
static int pick_shift(rng_t *rng, uint32_t rep) {
  return rep % 3u == 0 ? rng_range(rng, -31, 31) : rep % 3u == 1 ? rng_range(rng, -31, -1) : rng_range(rng, -31, 0);
}
static void eltwise_expect(const char *what, uint32_t n, const int8_t *a, const int8_t *b) {
  g_cases++;
  for (uint32_t i = 0; i < n + GUARD; i++)
    if (a[i] != b[i]) {
      if (g_failures++ < 20) sh_printf("FAIL %s n=%lu: y[%lu] scalar %d, mve %d\n", what, (unsigned long)n, (unsigned long)i, a[i], b[i]);
      return;
    }
}
static void eltwise_selftest(rng_t *rng) {
  static int8_t x1[300], x2[300], table[256];
  for (uint32_t rep = 0; rep < 300; rep++) {
    const uint32_t n = rep < 40 ? rep + 1u : (uint32_t)rng_range(rng, 1, 300);
    for (uint32_t i = 0; i < 300; i++) {
      x1[i] = (int8_t)rng_range(rng, -128, 127);
      x2[i] = (int8_t)rng_range(rng, -128, 127);
    }
    for (uint32_t i = 0; i < 256; i++) table[i] = (int8_t)rng_range(rng, -128, 127);
    hil_add_params_t p;
    p.left_shift = rep % 4u == 0 ? 20 : rng_range(rng, 0, 23);
    p.zp1 = rng_range(rng, -128, 127);
    p.zp2 = rng_range(rng, -128, 127);
    p.out_zp = rng_range(rng, -128, 127);
    p.m1 = pick_mult(rng);
    p.m2 = pick_mult(rng);
    p.mo = pick_mult(rng);
    p.sh1 = pick_shift(rng, rep);
    p.sh2 = pick_shift(rng, rep);
    p.sho = pick_shift(rng, rep);
    p.act_min = rep & 1u ? p.out_zp : -128;
    p.act_max = 127;
    for (int sub = 0; sub < 2; sub++) {
      memset(g_y_ref, 0x5A, sizeof g_y_ref);
      memset(g_y_mve, 0x5A, sizeof g_y_mve);
      hil_add_scalar(&p, x1, x2, g_y_ref, n, sub);
      hil_add_mve(&p, x1, x2, g_y_mve, n, sub);
      eltwise_expect(sub ? "sub" : "add", n, g_y_ref, g_y_mve);
    }
    memset(g_y_ref, 0x5A, sizeof g_y_ref);
    memset(g_y_mve, 0x5A, sizeof g_y_mve);
    hil_mul_scalar(p.zp1, p.zp2, p.out_zp, p.mo, p.sho, p.act_min, p.act_max, x1, x2, g_y_ref, n);
    hil_mul_mve(p.zp1, p.zp2, p.out_zp, p.mo, p.sho, p.act_min, p.act_max, x1, x2, g_y_mve, n);
    eltwise_expect("mul", n, g_y_ref, g_y_mve);
    memset(g_y_ref, 0x5A, sizeof g_y_ref);
    memset(g_y_mve, 0x5A, sizeof g_y_mve);
    hil_lut_scalar(table, x1, g_y_ref, n);
    hil_lut_mve(table, x1, g_y_mve, n);
    eltwise_expect("lut", n, g_y_ref, g_y_mve);
  }
}

/* The 16x8 FC (hil_fully_connected_s16): lengths around the 8-lane loop and its tail, odd and even row
 * counts, int16 inputs at their extremes, int8 weights including -128, biases up to the validated 2^40,
 * shifts over the validated [-31, 7], multipliers at 0, 2^30 and the 16-bit rounding edge 0x7FFF0000. */
static int16_t g_x16[1100], g_y16_ref[300 + GUARD], g_y16_mve[300 + GUARD];
static int8_t g_w16[300 * 300]; /* in * out <= 90000 in every case below */
static int64_t g_b16[300];
static int32_t g_m16[300];
static int8_t g_s16[300];
static void fc16_selftest(rng_t *rng) {
  for (uint32_t rep = 0; rep < 400; rep++) {
    const uint16_t in = (uint16_t)(rep < 24 ? rep + 1u : rep < 40 ? 1024u + rep : (uint32_t)rng_range(rng, 1, 300));
    const uint16_t out = (uint16_t)(rep < 40 ? 5u : (uint32_t)rng_range(rng, 1, 260));
    const uint32_t ext = rep % 4u;
    for (uint32_t i = 0; i < in; i++)
      g_x16[i] = (int16_t)(ext == 0 ? -32768 : ext == 1 ? (i & 1u ? 32767 : -32768) : rng_range(rng, -32768, 32767));
    for (uint32_t i = 0; i < (uint32_t)in * out; i++) g_w16[i] = (int8_t)(ext == 0 ? -128 : rng_range(rng, -128, 127));
    for (uint32_t o = 0; o < out; o++) {
      const int64_t big = ((int64_t)rng_range(rng, -(1 << 20), 1 << 20) << 20) + rng_range(rng, 0, (1 << 20) - 1);
      g_b16[o] = ext == 2 ? big : rng_range(rng, -100000, 100000);
      const int32_t k = rng_range(rng, 0, 5);
      g_m16[o] = k == 0 ? 0 : k == 1 ? 0x7FFF0000 : k == 2 ? 0x7FFEFFFF : k == 3 ? 1 << 30 : rng_range(rng, 1 << 30, INT32_MAX);
      g_s16[o] = (int8_t)rng_range(rng, -31, 7);
    }
    hil_fc_s16_params_t p;
    p.x = g_x16; p.w = g_w16; p.bias = g_b16; p.mult = g_m16; p.shift = g_s16;
    p.in_features = in; p.out_features = out; p.per_channel = (int)(rep & 1u);
    p.act_min = rep % 5u == 0 ? rng_range(rng, -32768, 0) : -32768;
    p.act_max = rep % 5u == 0 ? rng_range(rng, 0, 32767) : 32767;
    for (uint32_t o = 0; o < out + GUARD; o++) g_y16_ref[o] = g_y16_mve[o] = 0x5A5A;
    p.y = g_y16_ref;
    hil_fully_connected_s16_scalar(&p);
    p.y = g_y16_mve;
    hil_fully_connected_s16_mve(&p);
    g_cases++;
    for (uint32_t o = 0; o < out + GUARD; o++)
      if (g_y16_ref[o] != g_y16_mve[o]) {
        if (g_failures++ < 20)
          sh_printf("FAIL fc16 in=%u out=%u per_channel=%d: y[%lu] scalar %d, mve %d\n", in, out, p.per_channel, (unsigned long)o,
                    g_y16_ref[o], g_y16_mve[o]);
        break;
      }
  }
}
#endif

int main(void) {
  rng_t rng = {0x1234567u};
  /* The layers live where a model would: the model partition in DDR. */
  pool_t pool = {__model_start, 0, (uint32_t)(__model_end - __model_start)};
  layer_t L;
  static const uint16_t ins[] = {1, 2, 15, 16, 17, 31, 32, 33, 100, 257, 1024};
  static const uint16_t outs[] = {1, 3, 4, 5, 63, 64, 65, 130, 257};
  for (uint32_t i = 0; i < sizeof ins / sizeof ins[0]; i++)
    for (uint32_t j = 0; j < sizeof outs / sizeof outs[0]; j++)
      for (int extreme = 0; extreme < 4; extreme++) {
        pool.used = 0;
        if (layer_make(&L, &pool, &rng, ins[i], outs[j], 1, 16, 1000, (i + j + extreme) & 1, extreme)) sh_exit(2);
        check(&L, ENC_DENSE, "dense");
      }
  /* Every block shape, with edge blocks, empty block rows, full rows, odd block counts. */
  for (uint32_t br = 1; br <= 16; br++)
    for (uint32_t bc = 1; bc <= 16; bc++)
      for (uint32_t rep = 0; rep < 4; rep++) {
        pool.used = 0;
        const uint16_t in = (uint16_t)rng_range(&rng, 1, 300), out = (uint16_t)rng_range(&rng, 1, 140);
        static const uint32_t keep[] = {0, 150, 600, 1000};
        if (layer_make(&L, &pool, &rng, in, out, (uint8_t)br, (uint8_t)bc, keep[rep], rng_range(&rng, 0, 1),
                       rng_range(&rng, 0, 3)) || !L.has_block)
          sh_exit(2);
        check(&L, ENC_BLOCK, "block");
      }
  /* The shapes with their own fast paths, many times over: every count of blocks per block row
   * (and so every tail of their 4-block groups), partial last block rows, all requantisation modes. */
  static const uint8_t fast[][2] = {{8, 8}, {4, 4}, {1, 16}, {16, 1}, {2, 12}, {5, 1}};
  for (uint32_t s = 0; s < sizeof fast / sizeof fast[0]; s++)
    for (uint32_t rep = 0; rep < 48; rep++) {
      pool.used = 0;
      const uint16_t in = (uint16_t)rng_range(&rng, 1, rep < 24 ? 64 : 300);
      const uint16_t out = (uint16_t)rng_range(&rng, 1, rep < 24 ? 40 : 140);
      if (layer_make(&L, &pool, &rng, in, out, fast[s][0], fast[s][1], (uint32_t)rng_range(&rng, 0, 1000),
                     rng_range(&rng, 0, 1), (int)(rep & 3u)) || !L.has_block)
        sh_exit(2);
      check(&L, ENC_BLOCK, "block");
    }
  /* CSR4: empty and full rows, gaps over 15 (escapes) and 255, odd and even code counts, every
   * requantisation mode. */
  static const uint32_t keep4[] = {0, 30, 100, 300, 700, 1000};
  for (uint32_t rep = 0; rep < 96; rep++) {
    pool.used = 0;
    const uint16_t in = (uint16_t)rng_range(&rng, 1, rep < 48 ? 300 : 1024);
    const uint16_t out = (uint16_t)rng_range(&rng, 1, 140);
    if (layer_make(&L, &pool, &rng, in, out, 1, 1, keep4[rep % 6u], rng_range(&rng, 0, 1), (int)(rep & 3u))) sh_exit(2);
    check(&L, ENC_CSR4, "csr4");
  }
  requant_edges(&pool, &rng);
#if HIL_KERNELS_MVE
  dsp_selftest(&rng);
  eltwise_selftest(&rng);
  fc16_selftest(&rng);
#endif
  sh_printf("kernels self-test (" OPT "): %lu cases, %lu failures, stack high water %lu bytes\n", (unsigned long)g_cases,
            (unsigned long)g_failures, (unsigned long)stack_high_water());
  sh_exit(g_failures ? 1 : 0);
}
