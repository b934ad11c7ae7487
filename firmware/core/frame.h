/* Frames (docs/protocol.md §2): type:u8 flags:u8 seq:u16 len:u16 payload[len] crc:u32, little-endian,
 * sent as 0x00 COBS(frame) 0x00. */
#ifndef HIL_FRAME_H
#define HIL_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include "cobs.h"
#include "hil_protocol.h"

#define HIL_FRAME_MAX_RAW (HIL_FRAME_OVERHEAD_BYTES + HIL_MAX_PAYLOAD)
/* Largest frame on the wire: both delimiters plus the COBS-encoded frame. */
#define HIL_FRAME_MAX_WIRE (HIL_COBS_MAX_ENCODED(HIL_FRAME_MAX_RAW) + 2u)


typedef struct {
  uint8_t type;
  uint8_t flags;
  uint16_t seq;
  uint16_t len;
  const uint8_t *payload; /* points into the decoded chunk */
} hil_frame_t;

/* Why a chunk was dropped; 0 means it is a good frame. */
enum { HIL_FRAME_OK = 0, HIL_FRAME_BAD_COBS, HIL_FRAME_TOO_SHORT, HIL_FRAME_BAD_LEN, HIL_FRAME_BAD_CRC };

/* Encodes a frame for the wire (leading and trailing 0x00 included) into `wire`, which must hold
 * HIL_FRAME_MAX_WIRE bytes; `scratch` must hold HIL_FRAME_MAX_RAW bytes. Returns the wire length, or 0
 * when len > HIL_MAX_PAYLOAD. */
size_t hil_frame_encode(uint8_t type, uint8_t flags, uint16_t seq, const uint8_t *payload, uint16_t len,
                        uint8_t *scratch, uint8_t *wire);

/* Decodes one chunk received between delimiters, in place (the chunk buffer is overwritten). Returns
 * HIL_FRAME_OK and fills *f, or the reason the chunk must be dropped. */
int hil_frame_decode(uint8_t *chunk, size_t chunk_len, hil_frame_t *f);

/* Little-endian field access, shared by the dispatcher and the tests. */
static inline uint16_t hil_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t hil_get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void hil_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void hil_put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void hil_put_u64(uint8_t *p, uint64_t v) {
  hil_put_u32(p, (uint32_t)v);
  hil_put_u32(p + 4, (uint32_t)(v >> 32));
}

#endif
