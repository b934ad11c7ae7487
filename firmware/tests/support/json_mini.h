/* A small JSON reader for test vectors (the JSON files in test/vectors): parses a whole file into a tree and aborts
 * the test with the file and offset on malformed input. Numbers are doubles (exact for the integers the
 * vectors hold, all below 2^53). Test code only: it never frees. */
#ifndef HIL_JSON_MINI_H
#define HIL_JSON_MINI_H

#include <stddef.h>
#include <stdint.h>

typedef enum { TJ_NULL, TJ_BOOL, TJ_NUMBER, TJ_STRING, TJ_ARRAY, TJ_OBJECT } tj_type;

typedef struct tj_value {
  tj_type type;
  double number;           /* TJ_NUMBER, TJ_BOOL (0/1) */
  char *string;            /* TJ_STRING, NUL-terminated */
  size_t count;            /* TJ_ARRAY, TJ_OBJECT */
  struct tj_value *items;  /* TJ_ARRAY, TJ_OBJECT */
  char **keys;             /* TJ_OBJECT */
} tj_value;

tj_value *tj_parse_file(const char *path);
/* The member `key` of an object, or NULL. */
const tj_value *tj_get(const tj_value *object, const char *key);
/* Like tj_get, but aborts naming the key when it is missing or of another type. */
const tj_value *tj_need(const tj_value *object, const char *key, tj_type type);
/* Decodes a hex string into a malloc'd buffer; *len gets its length. Aborts on bad hex. */
uint8_t *tj_hex(const char *hex, size_t *len);

#endif
