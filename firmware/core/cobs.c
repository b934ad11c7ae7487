#include "cobs.h"

size_t hil_cobs_encode(const uint8_t *in, size_t len, uint8_t *out) {
  size_t code_at = 0, n = 1;
  uint8_t code = 1;
  int ended_full = 0;
  for (size_t i = 0; i < len; i++) {
    ended_full = 0;
    if (in[i] == 0) {
      out[code_at] = code;
      code_at = n++;
      code = 1;
      continue;
    }
    out[n++] = in[i];
    if (++code == 0xFF) {
      out[code_at] = code;
      code_at = n++;
      code = 1;
      ended_full = 1;
    }
  }
  if (ended_full) return n - 1; /* the slot reserved for a next block stays unused */
  out[code_at] = code;
  return n;
}

int hil_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap, size_t *out_len) {
  size_t i = 0, n = 0;
  while (i < len) {
    uint8_t code = in[i++];
    if (code == 0 || (size_t)(code - 1) > len - i) return -1;
    if ((size_t)(code - 1) > out_cap - n) return -1;
    /* Forward copy is safe in place: the write position never passes the read position. */
    for (uint8_t k = 1; k < code; k++) out[n++] = in[i++];
    if (code != 0xFF && i < len) {
      if (n >= out_cap) return -1;
      out[n++] = 0;
    }
  }
  *out_len = n;
  return 0;
}
