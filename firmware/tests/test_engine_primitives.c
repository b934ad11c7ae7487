/* The engine's integer primitives, FFT, log2q, CRC-32 and DSP tables against test/vectors: the hand-derived
 * test/vectors/primitives.txt and the FFT vectors of scripts/vectors.ts. */
#include <stdlib.h>
#include <string.h>

#include "dsp.h"
#include "hil_engine.h"
#include "quant.h"
#include "tables.h"
#include "vectors.h"

static void test_primitives_file(void) {
  FILE *f = vec_open_text("test/vectors/primitives.txt");
  char line[512], op[16];
  int seen = 0;
  while (vec_next_line(f, line, sizeof line)) {
    long long a, b, c, want;
    if (sscanf(line, "%15s", op) != 1) continue;
    if (!strcmp(op, "srdhm") && sscanf(line, "%*s %lld %lld %lld", &a, &b, &want) == 3) {
      VCHECK(hil_srdhm((int32_t)a, (int32_t)b) == want, "%s -> %d", line, hil_srdhm((int32_t)a, (int32_t)b));
    } else if (!strcmp(op, "rdbpot") && sscanf(line, "%*s %lld %lld %lld", &a, &b, &want) == 3) {
      VCHECK(hil_rdbpot((int32_t)a, (int)b) == want, "%s -> %d", line, hil_rdbpot((int32_t)a, (int)b));
    } else if (!strcmp(op, "mbqm") && sscanf(line, "%*s %lld %lld %lld %lld", &a, &b, &c, &want) == 4) {
      VCHECK(hil_mbqm((int32_t)a, (int32_t)b, (int)c) == want, "%s -> %d", line, hil_mbqm((int32_t)a, (int32_t)b, (int)c));
    } else if (!strcmp(op, "log2q") && sscanf(line, "%*s %lld %lld", &a, &want) == 2) {
      VCHECK(hil_log2q((uint64_t)a) == want, "%s -> %d", line, hil_log2q((uint64_t)a));
    } else if (!strcmp(op, "crc32")) {
      char text[128];
      if (sscanf(line, "%*s %127s %lld", text, &want) == 2)
        VCHECK(hil_crc32(0, (const uint8_t *)text, (uint32_t)strlen(text)) == (uint32_t)want, "%s", line);
    } else if (!strcmp(op, "qmul")) {
      continue; /* exporter-side (TypeScript) only */
    } else {
      VCHECK(0, "unknown line in primitives.txt: %s", line);
    }
    seen++;
  }
  fclose(f);
  VCHECK(seen >= 40, "primitives.txt has only %d cases", seen);
}

/* mbqm64 (§4.1b) against CMSIS-NN's two-step form of the same rounding, in 128 bits, over seeded inputs
 * across the validated ranges (|x| < 2^41, shift in [-31, 7]) and the 16-bit rounding edge of M. */
static void test_mbqm64(void) {
  uint64_t s = 0x9E3779B97F4A7C15u;
  static const int32_t edge[] = {0, 1, 1 << 30, 0x7FFEFFFF, 0x7FFF0000, 0x7FFF7FFF, INT32_MAX};
  int bad = 0;
  for (int k = 0; k < 200000; k++) {
    s = s * 6364136223846793005u + 1442695040888963407u;
    const int64_t x = (int64_t)(s >> 22) - ((int64_t)1 << 41); /* [-2^41, 2^41) */
    const int32_t m = k % 3 ? (int32_t)((s >> 7) & 0x7FFFFFFFu) : edge[k % 7];
    const int shift = (int)((s >> 3) % 39u) - 31;
    const __int128 r = m < 0x7FFF0000 ? ((int64_t)m + (1 << 15)) >> 16 : 0x7FFF;
    const int64_t want = (int64_t)((((__int128)x * r >> (15 - shift - 1)) + 1) >> 1);
    if (hil_mbqm64(x, m, shift) != want && bad++ < 5) VCHECK(0, "mbqm64(%lld, %d, %d)", (long long)x, m, shift);
  }
  VCHECK(bad == 0, "mbqm64: %d mismatches", bad);
}

/* LUT16 (§5) returns the table on its grid and stays between neighbouring entries off it. */
static void test_lut16(void) {
  int16_t t[HIL_LUT16_ENTRIES];
  for (uint32_t j = 0; j < HIL_LUT16_ENTRIES; j++) t[j] = (int16_t)((j * 7919u) % 65536u - 32768);
  int bad = 0;
  for (int32_t x = -32768; x <= 32767; x++) {
    const int32_t i = (x + 32768) >> 7, y = hil_lut16_lookup(t, (int16_t)x);
    const int32_t lo = t[i] < t[i + 1] ? t[i] : t[i + 1], hi = t[i] < t[i + 1] ? t[i + 1] : t[i];
    if ((((x + 32768) & 127) == 0 && y != t[i]) || y < lo || y > hi) bad++;
  }
  VCHECK(bad == 0, "lut16: %d inputs off the table or outside their interval", bad);
}

static void test_crc_chaining(void) {
  const uint8_t data[] = "The quick brown fox jumps over the lazy dog";
  const uint32_t whole = hil_crc32(0, data, 43);
  VCHECK(whole == 0x414FA339u, "crc32 of the fox sentence: %08x", whole);
  VCHECK(hil_crc32(hil_crc32(0, data, 10), data + 10, 33) == whole, "crc32 continues across calls like zlib");
}

static void test_tables(void) {
  VCHECK(hil_tw_cos[0] == 32768 && hil_tw_sin[0] == 0, "twiddle 0");
  VCHECK(hil_tw_cos[HIL_TW_N / 4] == 0 && hil_tw_sin[HIL_TW_N / 4] == 32768, "twiddle N/4");
  VCHECK(hil_log2_tab[0] == 0 && hil_log2_tab[64] == 1024 && hil_log2_tab[32] == 599, "LOG2_TAB ends and middle");
}

static void test_fft_vectors(void) {
  FILE *f = vec_open_text("test/vectors/fft/index.txt");
  char line[256], name[64], path[160];
  int inverse, cases = 0;
  static int32_t re[HIL_FFT_N], im[HIL_FFT_N];
  while (vec_next_line(f, line, sizeof line)) {
    if (sscanf(line, "%63s %d", name, &inverse) != 2) continue;
    snprintf(path, sizeof path, "test/vectors/fft/%s.bin", name);
    vec_file_t v = vec_read(path);
    VCHECK(v.len == 16u * HIL_FFT_N, "%s size", path);
    for (int k = 0; k < HIL_FFT_N; k++) {
      re[k] = vec_i32(v.data + 4 * k);
      im[k] = vec_i32(v.data + 4 * (HIL_FFT_N + k));
    }
    hil_fft(re, im, inverse);
    int bad = 0;
    for (int k = 0; k < HIL_FFT_N; k++)
      bad += re[k] != vec_i32(v.data + 4 * (2 * HIL_FFT_N + k)) || im[k] != vec_i32(v.data + 4 * (3 * HIL_FFT_N + k));
    VCHECK(bad == 0, "fft %s: %d bins differ", name, bad);
    vec_free(&v);
    cases++;
  }
  fclose(f);
  VCHECK(cases >= 5, "fft vectors: %d cases", cases);
  /* Hand-derived: an impulse of 1000 at 0 transforms to 1000 in every bin, exactly. */
  memset(re, 0, sizeof re);
  memset(im, 0, sizeof im);
  re[0] = 1000;
  hil_fft(re, im, 0);
  int flat = 1;
  for (int k = 0; k < HIL_FFT_N; k++) flat &= re[k] == 1000 && im[k] == 0;
  VCHECK(flat, "FFT of an impulse is flat");
}

int main(void) {
  test_mbqm64();
  test_lut16();
  test_primitives_file();
  test_crc_chaining();
  test_tables();
  test_fft_vectors();
  return vec_summary("test_engine_primitives");
}
