/* Kernel self-test on the Cortex-M55 (QEMU, semihosting): every MVE kernel against the scalar reference
 * on the same random layers, byte for byte, including the bytes just past the output (which no kernel
 * may write). Exit status 0 when all agree. Run by test/unit/corstone300-kernels.test.ts. */
#include <string.h>
#include "kernels.h"
#include "semihost.h"
#include "startup.h"
#include "testgen.h"

#if !HIL_KERNELS_MVE
#error "the self-test compares the MVE kernels with the scalar ones: build it for an MVE core"
#endif

#define GUARD 16u
static int8_t g_y_ref[4096 + GUARD], g_y_mve[4096 + GUARD];
static uint32_t g_cases, g_failures;

enum { ENC_DENSE, ENC_BLOCK };

static void check(const layer_t *L, int enc, const char *what) {
  hil_fc_args_t a = L->args;
  memset(g_y_ref, 0x5A, sizeof g_y_ref);
  memset(g_y_mve, 0x5A, sizeof g_y_mve);
  a.y = g_y_ref;
  if (enc == ENC_DENSE) hil_fc_dense_scalar(&a, L->dense); else hil_fc_block_scalar(&a, &L->block);
  a.y = g_y_mve;
  if (enc == ENC_DENSE) hil_fc_dense_mve(&a, L->dense); else hil_fc_block_mve(&a, &L->block);
  g_cases++;
  for (uint32_t o = 0; o < L->out + GUARD; o++) {
    if (g_y_ref[o] != g_y_mve[o]) {
      if (g_failures++ < 20)
        sh_printf("FAIL %s in=%u out=%u block=%ux%u per_channel=%d: y[%lu] scalar %d, mve %d\n", what, L->in,
                  L->out, L->br, L->bc, L->args.per_channel, (unsigned long)o, g_y_ref[o], g_y_mve[o]);
      return;
    }
  }
}

int main(void) {
  rng_t rng = {0x1234567u};
  /* The layers live where a model would: the model partition in DDR. */
  pool_t pool = {__model_start, 0, (uint32_t)(__model_end - __model_start)};
  layer_t L;
  static const uint16_t ins[] = {1, 2, 15, 16, 17, 31, 32, 33, 100, 257, 1024};
  static const uint16_t outs[] = {1, 3, 4, 5, 63, 64, 65, 130, 257};
  for (uint32_t i = 0; i < sizeof ins / sizeof ins[0]; i++)
    for (uint32_t j = 0; j < sizeof outs / sizeof outs[0]; j++)
      for (int extreme = 0; extreme < 2; extreme++) {
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
                       rng_range(&rng, 0, 1)) || !L.has_block)
          sh_exit(2);
        check(&L, ENC_BLOCK, "block");
      }
  sh_printf("kernels self-test: %lu cases, %lu failures, stack high water %lu bytes\n", (unsigned long)g_cases,
            (unsigned long)g_failures, (unsigned long)cs300_stack_high_water());
  sh_exit(g_failures ? 1 : 0);
}
