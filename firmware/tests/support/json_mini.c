#include "json_mini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *path, *s;
  size_t i, n;
} parser_t;

static void fail(const parser_t *p, const char *what) {
  fprintf(stderr, "%s: JSON error at byte %zu: %s\n", p->path, p->i, what);
  exit(1);
}

static void *xalloc(size_t n) {
  void *v = calloc(1, n ? n : 1);
  if (!v) {
    fprintf(stderr, "json_mini: out of memory\n");
    exit(1);
  }
  return v;
}

static void skip_ws(parser_t *p) {
  while (p->i < p->n && strchr(" \t\r\n", p->s[p->i])) p->i++;
}

static char peek(parser_t *p) {
  skip_ws(p);
  return p->i < p->n ? p->s[p->i] : 0;
}

static void expect(parser_t *p, char c) {
  if (peek(p) != c) fail(p, "unexpected character");
  p->i++;
}

static char *parse_string(parser_t *p) {
  expect(p, '"');
  char *out = xalloc(p->n - p->i + 1);
  size_t k = 0;
  while (p->i < p->n && p->s[p->i] != '"') {
    char c = p->s[p->i++];
    if (c == '\\') {
      if (p->i >= p->n) fail(p, "unterminated escape");
      c = p->s[p->i++];
      switch (c) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'r': c = '\r'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'u': {
          /* The vectors are ASCII; other code points are kept as '?' rather than re-encoded. */
          if (p->i + 4 > p->n) fail(p, "short \\u escape");
          unsigned v = (unsigned)strtoul((char[5]){p->s[p->i], p->s[p->i + 1], p->s[p->i + 2], p->s[p->i + 3], 0}, NULL, 16);
          p->i += 4;
          c = v < 128 ? (char)v : '?';
          break;
        }
        default: break; /* \" \\ \/ */
      }
    }
    out[k++] = c;
  }
  if (p->i >= p->n) fail(p, "unterminated string");
  p->i++;
  out[k] = 0;
  return out;
}

static void parse_value(parser_t *p, tj_value *v);

static void parse_container(parser_t *p, tj_value *v, char close, int object) {
  size_t cap = 8;
  v->items = xalloc(cap * sizeof *v->items);
  if (object) v->keys = xalloc(cap * sizeof *v->keys);
  p->i++;
  if (peek(p) == close) {
    p->i++;
    return;
  }
  for (;;) {
    if (v->count == cap) {
      cap *= 2;
      v->items = realloc(v->items, cap * sizeof *v->items);
      if (object) v->keys = realloc(v->keys, cap * sizeof *v->keys);
      if (!v->items || (object && !v->keys)) fail(p, "out of memory");
    }
    if (object) {
      if (peek(p) != '"') fail(p, "expected a key");
      v->keys[v->count] = parse_string(p);
      expect(p, ':');
    }
    memset(&v->items[v->count], 0, sizeof v->items[0]);
    parse_value(p, &v->items[v->count++]);
    char c = peek(p);
    p->i++;
    if (c == close) return;
    if (c != ',') fail(p, "expected ',' or a closing bracket");
  }
}

static void parse_value(parser_t *p, tj_value *v) {
  char c = peek(p);
  if (c == '{') {
    v->type = TJ_OBJECT;
    parse_container(p, v, '}', 1);
  } else if (c == '[') {
    v->type = TJ_ARRAY;
    parse_container(p, v, ']', 0);
  } else if (c == '"') {
    v->type = TJ_STRING;
    v->string = parse_string(p);
  } else if (!strncmp(p->s + p->i, "true", 4) || !strncmp(p->s + p->i, "false", 5)) {
    v->type = TJ_BOOL;
    v->number = p->s[p->i] == 't';
    p->i += v->number ? 4 : 5;
  } else if (!strncmp(p->s + p->i, "null", 4)) {
    v->type = TJ_NULL;
    p->i += 4;
  } else {
    char *end;
    v->type = TJ_NUMBER;
    v->number = strtod(p->s + p->i, &end);
    if (end == p->s + p->i) fail(p, "expected a value");
    p->i = (size_t)(end - p->s);
  }
}

tj_value *tj_parse_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open (tests run from the repository root)\n", path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = xalloc((size_t)n + 1);
  if (fread(s, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "%s: read error\n", path);
    exit(1);
  }
  fclose(f);
  parser_t p = {path, s, 0, (size_t)n};
  tj_value *v = xalloc(sizeof *v);
  parse_value(&p, v);
  if (peek(&p)) fail(&p, "trailing characters");
  return v;
}

const tj_value *tj_get(const tj_value *o, const char *key) {
  if (!o || o->type != TJ_OBJECT) return NULL;
  for (size_t i = 0; i < o->count; i++)
    if (!strcmp(o->keys[i], key)) return &o->items[i];
  return NULL;
}

const tj_value *tj_need(const tj_value *o, const char *key, tj_type type) {
  const tj_value *v = tj_get(o, key);
  if (!v || v->type != type) {
    fprintf(stderr, "test vector: missing or mistyped key \"%s\"\n", key);
    exit(1);
  }
  return v;
}

uint8_t *tj_hex(const char *hex, size_t *len) {
  size_t n = strlen(hex);
  if (n % 2) {
    fprintf(stderr, "test vector: odd-length hex string\n");
    exit(1);
  }
  uint8_t *out = xalloc(n / 2);
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
      fprintf(stderr, "test vector: bad hex at %zu\n", 2 * i);
      exit(1);
    }
    out[i] = (uint8_t)v;
  }
  *len = n / 2;
  return out;
}
