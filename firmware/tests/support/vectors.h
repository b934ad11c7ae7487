/* Readers for the engine's test vectors (test/vectors/, written by scripts/vectors.ts): whole files into
 * 16-byte aligned buffers (the loader requires an aligned blob), little-endian arrays, and the small text
 * indexes. Test code only. */
#ifndef HIL_TEST_VECTORS_H
#define HIL_TEST_VECTORS_H

#include <stdint.h>
#include <stdio.h>

typedef struct {
  uint8_t *data; /* 16-byte aligned */
  uint32_t len;
  void *raw;
} vec_file_t;

/* Reads a whole file; aborts the test naming the path when it cannot. */
vec_file_t vec_read(const char *path);
void vec_free(vec_file_t *f);
int16_t vec_i16(const uint8_t *p);
uint32_t vec_u32(const uint8_t *p);
int32_t vec_i32(const uint8_t *p);

/* Opens a text index and returns its next non-comment line (without the newline) in buf, or 0 at the end. */
FILE *vec_open_text(const char *path);
int vec_next_line(FILE *f, char *buf, int size);

typedef struct {
  char name[64];
  unsigned hop, frames, arena_bytes, input_samples;
} vec_engine_entry_t;

/* test/vectors/engine/index.txt; returns the number of entries read (at most max). */
int vec_engine_index(vec_engine_entry_t *entries, int max);

/* Failure counting shared by the engine's C tests; the summary line is "N passed, N failed". */
extern int vec_checks, vec_failures;
#define VCHECK(cond, ...)                                  \
  do {                                                     \
    vec_checks++;                                          \
    if (!(cond)) {                                         \
      vec_failures++;                                      \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                        \
      fputc('\n', stderr);                                 \
    }                                                      \
  } while (0)
/* Prints the summary and returns the process exit code. */
int vec_summary(const char *test_name);

#endif
