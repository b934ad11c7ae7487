#define _POSIX_C_SOURCE 200112L /* posix_memalign */
/* The loader against hostile blobs. First the corruptions of test/vectors/engine/corruptions.txt, where
 * the C loader must give exactly the reason the TypeScript parser gave (and run the ones both accept);
 * then thousands of random structural corruptions (CRC recomputed, so they reach the deep checks), each
 * loaded and, when accepted, run for a few frames. `make test-sanitize` runs this under ASan + UBSan, so an
 * out-of-bounds read or undefined behaviour anywhere fails the build. */
#include <stdlib.h>
#include <string.h>

#include "hil_engine.h"
#include "vectors.h"

#define ARENA_CAP 262144u
static uint8_t arena[ARENA_CAP] __attribute__((aligned(16)));

static uint32_t rng_state = 12345u;
static uint32_t rnd(void) { /* xorshift32: deterministic, good enough to pick bytes */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static void fix_crc(uint8_t *b, uint32_t n) {
  if (n < 16) return;
  const uint32_t c = hil_crc32(0, b + 16, n - 16);
  b[12] = (uint8_t)c; b[13] = (uint8_t)(c >> 8); b[14] = (uint8_t)(c >> 16); b[15] = (uint8_t)(c >> 24);
}

/* Loads a mutated copy placed in its own exact-size heap block, so ASan sees any read past its end. */
static int load_exact(const uint8_t *bytes, uint32_t n, hil_model_t *m, char *why, uint32_t why_size, uint8_t **owned) {
  uint8_t *copy = NULL;
  if (posix_memalign((void **)&copy, 16, n ? n : 1) != 0) exit(2);
  memcpy(copy, bytes, n);
  *owned = copy;
  return hil_model_load(m, copy, n, arena, ARENA_CAP, why, why_size);
}

static void run_some_frames(hil_model_t *m) {
  int16_t in[256], out[256];
  hil_frame_counters_t c;
  for (int f = 0; f < 3; f++) {
    for (unsigned k = 0; k < m->hop; k++) in[k] = (int16_t)(rnd() & 0xFFFF);
    hil_model_run_frame(m, in, out, &c);
  }
  VCHECK(c.ops == m->n_ops, "an accepted blob runs every op");
}

/* scripts/vectors.ts fuzzSample/FUZZ_FRAMES: the input fed to an accepted corrupted blob, and the CRC-32
 * of the int16 LE outputs, which must equal the TypeScript engine's. */
#define FUZZ_FRAMES 3
static uint32_t fuzz_output_crc(hil_model_t *m) {
  int16_t in[256], out[256];
  uint8_t le[512];
  uint32_t crc = 0;
  for (uint32_t f = 0; f < FUZZ_FRAMES; f++) {
    for (uint32_t k = 0; k < m->hop; k++) in[k] = (int16_t)((int32_t)(((f * m->hop + k) * 7919u) % 65536u) - 32768);
    hil_model_run_frame(m, in, out, NULL);
    for (uint32_t k = 0; k < m->hop; k++) { le[2 * k] = (uint8_t)out[k]; le[2 * k + 1] = (uint8_t)((uint16_t)out[k] >> 8); }
    crc = hil_crc32(crc, le, 2u * m->hop);
  }
  return crc;
}

static vec_file_t base_blob(const char *name) {
  char path[160];
  snprintf(path, sizeof path, "test/vectors/engine/%s.hilm", name);
  return vec_read(path);
}

static void test_recorded_corruptions(void) {
  FILE *f = vec_open_text("test/vectors/engine/corruptions.txt");
  static char line[4096];
  int cases = 0, accepted = 0;
  while (vec_next_line(f, line, sizeof line)) {
    char *bar = strstr(line, " | ");
    if (!bar) continue;
    *bar = 0;
    const char *expected = bar + 3;
    char base[64];
    int truncate, fixcrc, nw, used;
    if (sscanf(line, "%63s %d %d %d%n", base, &truncate, &fixcrc, &nw, &used) != 4) { VCHECK(0, "bad line %s", line); continue; }
    vec_file_t b = base_blob(base);
    uint32_t n = truncate >= 0 ? (uint32_t)truncate : b.len;
    const char *p = line + used;
    for (int k = 0; k < nw; k++) {
      unsigned off, val;
      int adv;
      if (sscanf(p, " %u:%u%n", &off, &val, &adv) != 2) break;
      p += adv;
      if (off < n) b.data[off] = (uint8_t)val;
    }
    if (fixcrc) fix_crc(b.data, n);
    hil_model_t m;
    char why[200], got[240];
    uint8_t *owned;
    const int rc = load_exact(b.data, n, &m, why, sizeof why, &owned);
    if (rc == 0) {
      snprintf(got, sizeof got, "0 OK crc=%08x", (unsigned)fuzz_output_crc(&m));
      accepted++;
    } else {
      snprintf(got, sizeof got, "%d %s", rc, why);
    }
    VCHECK(strcmp(got, expected) == 0, "corruption %d (%s): C says \"%s\", TypeScript said \"%s\"", cases, line, got, expected);
    free(owned);
    vec_free(&b);
    cases++;
  }
  fclose(f);
  VCHECK(cases >= 300 && accepted > 0, "%d recorded corruptions, %d accepted", cases, accepted);
}

static void test_random_corruptions(void) {
  static const char *bases[] = {"tiny-dense", "tiny-block4x4", "tiny-block1x16", "tiny-csr", "tiny-mixed", "tiny-hop128", "tiny-int16out",
                                "tiny-csr4"};
  int refused = 0, accepted = 0;
  for (unsigned bi = 0; bi < sizeof bases / sizeof bases[0]; bi++) {
    vec_file_t orig = base_blob(bases[bi]);
    uint8_t *work = malloc(orig.len);
    /* The op table ends before the first data array; corrupt mostly there, sometimes anywhere. */
    const uint32_t structural = vec_u32(orig.data + 44);
    for (int iter = 0; iter < 700; iter++) {
      memcpy(work, orig.data, orig.len);
      uint32_t n = orig.len;
      const int k = 1 + (int)(rnd() % 4);
      for (int j = 0; j < k; j++) {
        const uint32_t span = (rnd() % 4) ? structural - 16 : orig.len - 16;
        work[16 + rnd() % span] = (uint8_t)rnd();
      }
      if (rnd() % 8 == 0) { /* truncate, size field patched */
        n = 64 + rnd() % (orig.len - 64);
        work[8] = (uint8_t)n; work[9] = (uint8_t)(n >> 8); work[10] = (uint8_t)(n >> 16); work[11] = (uint8_t)(n >> 24);
      }
      fix_crc(work, n);
      hil_model_t m;
      char why[200];
      uint8_t *owned;
      const int rc = load_exact(work, n, &m, why, sizeof why, &owned);
      if (rc == 0) { run_some_frames(&m); accepted++; }
      else {
        refused++;
        VCHECK((rc == 5 || rc == 8) && why[0] != 0, "refusal %d has code 5/8 and a reason", rc);
      }
      free(owned);
    }
    free(work);
    vec_free(&orig);
  }
  printf("random corruptions: %d refused, %d accepted and run\n", refused, accepted);
  VCHECK(refused > 0 && accepted > 0, "both outcomes happen");
}

static void test_tiny_blobs(void) {
  /* Every length below the header, and a header-only blob: refused, never read past the end. */
  vec_file_t b = base_blob("tiny-dense");
  for (uint32_t n = 0; n <= 80; n++) {
    hil_model_t m;
    char why[200];
    uint8_t *owned;
    const int rc = load_exact(b.data, n, &m, why, sizeof why, &owned);
    VCHECK(rc == 5, "a %u-byte prefix is refused", n);
    free(owned);
  }
  /* A reason buffer of 1 byte or none at all is fine. */
  hil_model_t m;
  char one[1];
  VCHECK(hil_model_load(&m, b.data, 10, arena, ARENA_CAP, one, 1) == 5 && one[0] == 0, "1-byte reason buffer");
  VCHECK(hil_model_load(&m, b.data, 10, arena, ARENA_CAP, NULL, 0) == 5, "no reason buffer");
  vec_free(&b);
}

int main(void) {
  test_recorded_corruptions();
  test_random_corruptions();
  test_tiny_blobs();
  return vec_summary("test_engine_fuzz");
}
