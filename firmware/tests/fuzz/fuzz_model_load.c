/* libFuzzer target: the model loader (hil_model_load) against any blob, and a few frames on every blob it
 * accepts. The input is the blob; the harness patches its total size and CRC to match what it got, as a
 * wire would deliver it intact, so mutations reach the structural checks instead of stopping at the CRC.
 * (The CRC and size checks themselves are covered by test_engine_fuzz's recorded corruptions.)
 *
 * Everything the loader is given sits in memory ASan can guard: the blob in a heap block of exactly its
 * size, the reason buffer likewise, and the arena poisoned outside the bytes the loader says the model
 * uses, so the engine touching arena memory it did not account for is a report, not a silent overlap. */
#define _POSIX_C_SOURCE 200112L
#include <sanitizer/asan_interface.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "hil_engine.h"

#define ARENA_CAP (256u << 10)

static uint8_t *arena_mem; /* ARENA_CAP + 16, so the arena can start at any alignment */

/* Printed at exit, so that a run where no blob was ever accepted (nothing ran a frame) shows it; the CI
 * test reads this line. */
static unsigned long long n_inputs, n_accepted;

static void print_stats(void) {
  fprintf(stderr, "fuzz_model_load: %llu inputs, %llu accepted and run\n", n_inputs, n_accepted);
}

static uint64_t fake_clock;
static uint64_t clock_now(void) { return fake_clock += 1000u; }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  arena_mem = malloc(ARENA_CAP + 16u);
  if (!arena_mem) abort();
  atexit(print_stats);
  return 0;
}

static uint32_t rng;
static uint32_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4u << 20) return 0; /* over any partition hil supports */
  const uint32_t n = (uint32_t)size;
  uint8_t *blob = NULL;
  if (posix_memalign((void **)&blob, 16, n ? n : 1) != 0) abort();
  memcpy(blob, data, n);
  if (n >= 16) {
    hil_put_u32(blob + 8, n);
    hil_put_u32(blob + 12, hil_crc32(0, blob + 16, n - 16));
  }
  /* Input-derived so that runs reproduce: where the arena starts, and how short the reason buffer is. */
  const uint32_t shift = n & 15u, why_size = 1u + (n >> 4) % 97u;
  char *why = malloc(why_size);
  if (!why) abort();
  uint8_t *arena = arena_mem + shift;

  hil_model_t m;
  n_inputs++;
  const int rc = hil_model_load(&m, blob, n, arena, ARENA_CAP, why, why_size);
  if (rc != 0) {
    if ((rc != HIL_ERR_MODEL_INVALID && rc != HIL_ERR_ARENA) || memchr(why, 0, why_size) == NULL) abort();
  } else {
    n_accepted++;
    uint8_t *base = arena + ((16u - ((uintptr_t)arena & 15u)) & 15u);
    ASAN_POISON_MEMORY_REGION(arena_mem, (size_t)(base - arena_mem));
    ASAN_POISON_MEMORY_REGION(base + m.arena_bytes, (size_t)(arena_mem + ARENA_CAP + 16u - (base + m.arena_bytes)));
    const hil_cost_params_t cost = {128, 8, 8, 200, 3000};
    hil_model_set_cost(&m, &cost);
    hil_model_set_clock(&m, clock_now);
    int16_t in[256], out[256];
    hil_frame_counters_t c;
    rng = hil_get_u32(blob + 12) | 1u;
    /* Two frames: the second reads the state tensors the first left. */
    for (int f = 0; f < 2; f++) {
      for (unsigned k = 0; k < m.hop; k++) in[k] = (int16_t)(rnd() & 0xFFFFu);
      hil_model_run_frame(&m, in, out, f == 1 ? NULL : &c);
      if (f == 0 && c.ops != m.n_ops) abort(); /* an accepted model runs every op */
    }
    hil_model_reset_stream(&m);
    for (unsigned k = 0; k < m.hop; k++) in[k] = k & 1 ? 32767 : -32768; /* full scale after a reset */
    hil_model_run_frame(&m, in, out, &c);
    ASAN_UNPOISON_MEMORY_REGION(arena_mem, ARENA_CAP + 16u);
  }
  free(why);
  free(blob);
  return 0;
}
