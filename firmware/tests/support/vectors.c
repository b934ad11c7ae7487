#include "vectors.h"

#include <stdlib.h>
#include <string.h>

int vec_checks, vec_failures;

vec_file_t vec_read(const char *path) {
  vec_file_t f = {0, 0, 0};
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    fprintf(stderr, "cannot open %s (run from the repository root; regenerate with npm run vectors)\n", path);
    exit(2);
  }
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  f.raw = malloc((size_t)n + 32);
  if (!f.raw) exit(2);
  f.data = (uint8_t *)(((uintptr_t)f.raw + 15u) & ~(uintptr_t)15u);
  if (fread(f.data, 1, (size_t)n, fp) != (size_t)n) {
    fprintf(stderr, "short read on %s\n", path);
    exit(2);
  }
  fclose(fp);
  f.len = (uint32_t)n;
  return f;
}

void vec_free(vec_file_t *f) {
  free(f->raw);
  f->raw = 0;
  f->data = 0;
  f->len = 0;
}

int16_t vec_i16(const uint8_t *p) { return (int16_t)(uint16_t)(p[0] | (p[1] << 8)); }
uint32_t vec_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
int32_t vec_i32(const uint8_t *p) { return (int32_t)vec_u32(p); }

FILE *vec_open_text(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "cannot open %s (run from the repository root)\n", path);
    exit(2);
  }
  return f;
}

int vec_next_line(FILE *f, char *buf, int size) {
  while (fgets(buf, size, f)) {
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = 0;
    if (n == 0 || buf[0] == '#') continue;
    return 1;
  }
  return 0;
}

int vec_engine_index(vec_engine_entry_t *entries, int max) {
  FILE *f = vec_open_text("test/vectors/engine/index.txt");
  char line[256];
  int n = 0;
  while (n < max && vec_next_line(f, line, sizeof line)) {
    vec_engine_entry_t *e = &entries[n];
    if (sscanf(line, "%63s %u %u %u %u", e->name, &e->hop, &e->frames, &e->arena_bytes, &e->input_samples) == 5) n++;
  }
  fclose(f);
  return n;
}

int vec_summary(const char *test_name) {
  printf("%s: %d passed, %d failed\n", test_name, vec_checks - vec_failures, vec_failures);
  return vec_failures ? 1 : 0;
}
