#include "mini_blob.h"

#include <math.h>
#include <string.h>

#include "frame.h"
#include "hil_engine.h"

static void put_f32(uint8_t *p, float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  hil_put_u32(p, u);
}

uint32_t mini_blob_build(uint8_t *blob, uint16_t hop, uint32_t model_id) {
  const uint32_t tt = 64, ot = 96, wa = 368, ws = wa + 1024, total = ws + 1024;
  memset(blob, 0, MINI_BLOB_BYTES);
  memcpy(blob, "HILM", 4);
  hil_put_u16(blob + 4, 1);
  hil_put_u16(blob + 6, 64);
  hil_put_u32(blob + 8, total);
  hil_put_u16(blob + 20, 512);
  hil_put_u16(blob + 22, hop);
  hil_put_u32(blob + 24, 16000);
  hil_put_u16(blob + 28, 2);
  hil_put_u16(blob + 30, 1);
  hil_put_u16(blob + 32, 0);
  hil_put_u16(blob + 34, 1);
  hil_put_u32(blob + 36, tt);
  hil_put_u32(blob + 40, ot);
  hil_put_u32(blob + 44, wa);
  hil_put_u32(blob + 48, ws);
  hil_put_u32(blob + 52, 1u << 30);
  blob[56] = (uint8_t)(int8_t)-8;
  hil_put_u32(blob + 60, model_id);
  for (int t = 0; t < 2; t++) {
    uint8_t *r = blob + tt + 16 * t;
    hil_put_u16(r, 257);
    put_f32(r + 4, t ? 1.0f / 256.0f : 0.1f);
    hil_put_u32(r + 8, (uint32_t)-128);
    hil_put_u16(r + 12, 0xFFFF);
  }
  uint8_t *op = blob + ot;
  op[0] = 5;
  hil_put_u16(op + 2, 268);
  hil_put_u16(op + 4, 0);
  hil_put_u16(op + 6, 1);
  op[8] = 1;
  for (int j = 0; j < 256; j++) op[12 + j] = (uint8_t)(int8_t)(j < 128 ? j - 128 : 127 - (j - 128) / 4);
  const double pi = 3.14159265358979323846;
  for (int n = 0; n < 512; n++) {
    double w = sqrt(0.5 - 0.5 * cos(2 * pi * n / 512));
    hil_put_u16(blob + wa + 2 * n, (uint16_t)(int16_t)lround(32767 * w));
    hil_put_u16(blob + ws + 2 * n, (uint16_t)(int16_t)lround(32767 * w * 2 * hop / 512));
  }
  hil_put_u32(blob + 12, hil_crc32(0, blob + 16, total - 16));
  return total;
}
