#include "frame.h"
#include "hil_engine.h" /* hil_crc32 */

size_t hil_frame_encode(uint8_t type, uint8_t flags, uint16_t seq, const uint8_t *payload, uint16_t len,
                        uint8_t *scratch, uint8_t *wire) {
  if (len > HIL_MAX_PAYLOAD) return 0;
  scratch[0] = type;
  scratch[1] = flags;
  hil_put_u16(scratch + 2, seq);
  hil_put_u16(scratch + 4, len);
  for (uint16_t i = 0; i < len; i++) scratch[HIL_FRAME_HEADER_BYTES + i] = payload[i];
  size_t body = HIL_FRAME_HEADER_BYTES + len;
  hil_put_u32(scratch + body, hil_crc32(0, scratch, (uint32_t)body));
  wire[0] = 0;
  size_t n = hil_cobs_encode(scratch, body + 4, wire + 1);
  wire[1 + n] = 0;
  return n + 2;
}

int hil_frame_decode(uint8_t *chunk, size_t chunk_len, hil_frame_t *f) {
  size_t n;
  if (hil_cobs_decode(chunk, chunk_len, chunk, chunk_len, &n) != 0) return HIL_FRAME_BAD_COBS;
  if (n < HIL_FRAME_OVERHEAD_BYTES) return HIL_FRAME_TOO_SHORT;
  uint16_t len = hil_get_u16(chunk + 4);
  if ((size_t)len + HIL_FRAME_OVERHEAD_BYTES != n) return HIL_FRAME_BAD_LEN;
  size_t body = HIL_FRAME_HEADER_BYTES + len;
  if (hil_crc32(0, chunk, (uint32_t)body) != hil_get_u32(chunk + body)) return HIL_FRAME_BAD_CRC;
  f->type = chunk[0];
  f->flags = chunk[1];
  f->seq = hil_get_u16(chunk + 2);
  f->len = len;
  f->payload = chunk + HIL_FRAME_HEADER_BYTES;
  return HIL_FRAME_OK;
}
