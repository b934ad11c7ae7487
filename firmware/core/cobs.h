/* Consistent Overhead Byte Stuffing (docs/protocol.md §2): removes every 0x00 from a frame so that 0x00
 * can delimit frames on the serial line. Canonical encoding: a 254-byte run at the very end is not
 * followed by an empty block. */
#ifndef HIL_COBS_H
#define HIL_COBS_H

#include <stddef.h>
#include <stdint.h>

/* Worst-case encoded size of n bytes (no delimiters). */
#define HIL_COBS_MAX_ENCODED(n) ((n) + (n) / 254u + 1u)

/* Encodes `len` bytes into `out` (room for HIL_COBS_MAX_ENCODED(len)); returns the encoded length. */
size_t hil_cobs_encode(const uint8_t *in, size_t len, uint8_t *out);

/* Decodes one chunk (the bytes between two delimiters). Returns 0 and the decoded length in *out_len, or
 * -1 when the chunk is not valid COBS or does not fit in out_cap. `out` may equal `in` (in-place). */
int hil_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap, size_t *out_len);

#endif
