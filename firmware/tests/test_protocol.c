/* The link on the device side: COBS, CRC and frames against test/vectors/protocol.json, then the
 * dispatcher (hil_serve) driven through the in-memory loopback port: banner and wake, every message,
 * every error code, duplicate memory, ordering, drops and RESET. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "hil_engine.h"
#include "hil_port.h"
#include "json_mini.h"
#include "mini_blob.h"
#include "port_loopback.h"

static int failures, checks;

#define CHECK(cond, ...)                                    \
  do {                                                      \
    checks++;                                               \
    if (!(cond)) {                                          \
      failures++;                                           \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                         \
      fputc('\n', stderr);                                  \
    }                                                       \
  } while (0)

/* ---------------------------------------------------------------- vectors */

static void test_vectors(void) {
  tj_value *v = tj_parse_file("test/vectors/protocol.json");

  const tj_value *crcs = tj_need(v, "crc32", TJ_ARRAY);
  for (size_t i = 0; i < crcs->count; i++) {
    const tj_value *c = &crcs->items[i];
    size_t n;
    uint8_t *data = tj_hex(tj_need(c, "data", TJ_STRING)->string, &n);
    uint32_t want = (uint32_t)tj_need(c, "crc", TJ_NUMBER)->number;
    CHECK(hil_crc32(0, data, (uint32_t)n) == want, "crc32 %s", tj_need(c, "name", TJ_STRING)->string);
    free(data);
  }

  /* RUN_FRAME_CRC / RUN_PRELOADED: an output hop's CRC-32 is the frame CRC over its samples, little-endian. */
  const tj_value *outs = tj_need(v, "output_crc32", TJ_ARRAY);
  for (size_t i = 0; i < outs->count; i++) {
    const tj_value *c = &outs->items[i], *samples = tj_need(c, "samples", TJ_ARRAY);
    uint8_t le[2 * 256];
    CHECK(samples->count <= 256, "output_crc32 %s fits a hop", tj_need(c, "name", TJ_STRING)->string);
    for (size_t k = 0; k < samples->count && k < 256; k++) hil_put_u16(le + 2 * k, (uint16_t)(int16_t)samples->items[k].number);
    uint32_t want = (uint32_t)tj_need(c, "crc", TJ_NUMBER)->number;
    CHECK(hil_crc32(0, le, (uint32_t)(2 * samples->count)) == want, "output_crc32 %s", tj_need(c, "name", TJ_STRING)->string);
  }

  const tj_value *cobs = tj_need(v, "cobs", TJ_ARRAY);
  for (size_t i = 0; i < cobs->count; i++) {
    const tj_value *c = &cobs->items[i];
    const char *name = tj_need(c, "name", TJ_STRING)->string;
    size_t dn, en, n;
    uint8_t *dec = tj_hex(tj_need(c, "decoded", TJ_STRING)->string, &dn);
    uint8_t *enc = tj_hex(tj_need(c, "encoded", TJ_STRING)->string, &en);
    uint8_t buf[1200];
    n = hil_cobs_encode(dec, dn, buf);
    CHECK(n == en && memcmp(buf, enc, en) == 0, "cobs encode %s (%zu bytes, want %zu)", name, n, en);
    CHECK(n <= HIL_COBS_MAX_ENCODED(dn), "cobs encode %s within the worst case", name);
    CHECK(hil_cobs_decode(enc, en, buf, sizeof buf, &n) == 0 && n == dn && memcmp(buf, dec, dn) == 0, "cobs decode %s", name);
    /* In place, as the frame decoder uses it. */
    memcpy(buf, enc, en);
    CHECK(hil_cobs_decode(buf, en, buf, en, &n) == 0 && n == dn && memcmp(buf, dec, dn) == 0, "cobs decode in place %s", name);
    free(dec);
    free(enc);
  }
  const tj_value *bad = tj_need(v, "cobs_invalid", TJ_ARRAY);
  for (size_t i = 0; i < bad->count; i++) {
    size_t en, n;
    uint8_t *enc = tj_hex(tj_need(&bad->items[i], "encoded", TJ_STRING)->string, &en);
    uint8_t buf[1200];
    CHECK(hil_cobs_decode(enc, en, buf, sizeof buf, &n) != 0, "cobs rejects %s", tj_need(&bad->items[i], "name", TJ_STRING)->string);
    free(enc);
  }

  static uint8_t scratch[HIL_FRAME_MAX_RAW], wire[HIL_FRAME_MAX_WIRE];
  const tj_value *frames = tj_need(v, "frames", TJ_ARRAY);
  for (size_t i = 0; i < frames->count; i++) {
    const tj_value *f = &frames->items[i];
    const char *name = tj_need(f, "name", TJ_STRING)->string;
    size_t pn, wn;
    uint8_t *payload = tj_hex(tj_need(f, "payload", TJ_STRING)->string, &pn);
    uint8_t *want = tj_hex(tj_need(f, "wire", TJ_STRING)->string, &wn);
    uint8_t type = (uint8_t)tj_need(f, "type", TJ_NUMBER)->number, flags = (uint8_t)tj_need(f, "flags", TJ_NUMBER)->number;
    uint16_t seq = (uint16_t)tj_need(f, "seq", TJ_NUMBER)->number;
    size_t n = hil_frame_encode(type, flags, seq, payload, (uint16_t)pn, scratch, wire);
    CHECK(n == wn && memcmp(wire, want, wn) == 0, "frame encode %s", name);
    /* Decode the chunk between the delimiters. */
    hil_frame_t d;
    memcpy(wire, want + 1, wn - 2);
    int rc = hil_frame_decode(wire, wn - 2, &d);
    CHECK(rc == HIL_FRAME_OK && d.type == type && d.flags == flags && d.seq == seq && d.len == pn &&
              memcmp(d.payload, payload, pn) == 0,
          "frame decode %s (rc %d)", name, rc);
    free(payload);
    free(want);
  }
  CHECK(hil_frame_encode(1, 0, 0, scratch, HIL_MAX_PAYLOAD + 1, scratch, wire) == 0, "an oversized payload is refused");

  static const int reasons[] = {HIL_FRAME_BAD_CRC, HIL_FRAME_TOO_SHORT, HIL_FRAME_BAD_LEN, HIL_FRAME_BAD_COBS};
  const tj_value *dropped = tj_need(v, "dropped", TJ_ARRAY);
  CHECK(dropped->count == 4, "four dropped-chunk vectors");
  for (size_t i = 0; i < dropped->count && i < 4; i++) {
    size_t cn;
    uint8_t *chunk = tj_hex(tj_need(&dropped->items[i], "chunk", TJ_STRING)->string, &cn);
    hil_frame_t d;
    int rc = hil_frame_decode(chunk, cn, &d);
    CHECK(rc == reasons[i], "dropped %s: reason %d, want %d", tj_need(&dropped->items[i], "name", TJ_STRING)->string, rc, reasons[i]);
    free(chunk);
  }
}

/* ---------------------------------------------------------------- a session through the loopback */

static uint8_t script[1 << 21];
static size_t script_len;
static uint8_t tx_scratch[HIL_FRAME_MAX_RAW];

static void add_bytes(const void *p, size_t n) {
  memcpy(script + script_len, p, n);
  script_len += n;
}

static void add_frame(uint8_t type, uint8_t flags, uint16_t seq, const uint8_t *payload, uint16_t len) {
  script_len += hil_frame_encode(type, flags, seq, payload, len, tx_scratch, script + script_len);
}

/* What the device sent: text (banners) and frames, in order. */
typedef struct {
  int text; /* 1: a run of text bytes */
  char str[256];
  hil_frame_t f;
  uint8_t raw[HIL_FRAME_MAX_WIRE];
} item_t;

static item_t items[4096];
static size_t n_items;

/* Runs hil_serve over the script, then splits its output. The device writes text only as whole banners
 * and frames as 0x00 COBS 0x00, so text is whatever lies outside a pair of delimiters. */
static void serve(void) {
  loopback_script(script, script_len);
  hil_serve();
  script_len = 0;
  size_t n;
  const uint8_t *out = loopback_output(&n);
  n_items = 0;
  size_t i = 0;
  while (i < n && n_items < sizeof items / sizeof items[0]) {
    item_t *it = &items[n_items];
    memset(it, 0, sizeof *it);
    if (out[i] != 0) {
      size_t k = 0;
      while (i < n && out[i] != 0) {
        if (k + 1 < sizeof it->str) it->str[k++] = (char)out[i];
        i++;
      }
      it->text = 1;
      n_items++;
      continue;
    }
    size_t j = i + 1;
    while (j < n && out[j] != 0) j++;
    memcpy(it->raw, out + i + 1, j - i - 1);
    int rc = hil_frame_decode(it->raw, j - i - 1, &it->f);
    CHECK(rc == HIL_FRAME_OK, "the device sent a frame that does not decode (reason %d)", rc);
    n_items++;
    i = j + 1;
  }
}

static size_t count_frames(uint8_t type) {
  size_t c = 0;
  for (size_t i = 0; i < n_items; i++) c += !items[i].text && items[i].f.type == type;
  return c;
}

/* The i-th frame that is not a LOG. */
static const hil_frame_t *reply_n(size_t k) {
  for (size_t i = 0; i < n_items; i++)
    if (!items[i].text && items[i].f.type != 0x7E && k-- == 0) return &items[i].f;
  return NULL;
}

static int is_error(const hil_frame_t *f, uint16_t code) {
  return f && f->type == 0x7F && f->len >= 2 && hil_get_u16(f->payload) == code;
}

static size_t count_banners(void) {
  size_t c = 0;
  for (size_t i = 0; i < n_items; i++)
    for (const char *p = items[i].text ? strstr(items[i].str, "HIL-READY\n") : NULL; p; p = strstr(p + 1, "HIL-READY\n")) c++;
  return c;
}

static const char *error_text(const hil_frame_t *f) {
  static char buf[1100];
  size_t n = f && f->len > 2 ? f->len - 2u : 0;
  memcpy(buf, f ? f->payload + 2 : (const uint8_t *)"", n);
  buf[n] = 0;
  return buf;
}

static void add_hello(void) {
  uint8_t p[2];
  hil_put_u16(p, 2);
  add_frame(0x01, 0, 0, p, 2);
}

/* ---------------------------------------------------------------- a minimal valid model blob */

static uint8_t blob[MINI_BLOB_BYTES] __attribute__((aligned(16)));
static uint32_t blob_bytes;

static void build_blob(uint16_t hop, uint32_t model_id) { blob_bytes = mini_blob_build(blob, hop, model_id); }

static void add_u32_pair(uint8_t type, uint16_t seq, uint32_t a, uint32_t b) {
  uint8_t p[8];
  hil_put_u32(p, a);
  hil_put_u32(p + 4, b);
  add_frame(type, 0, seq, p, 8);
}

/* Uploads `blob` in chunks of `chunk` bytes starting at seq; returns the next seq. */
static uint16_t add_upload(uint16_t seq, uint32_t chunk) {
  add_u32_pair(0x10, seq++, blob_bytes, hil_crc32(0, blob, blob_bytes));
  uint8_t p[4 + 1020];
  for (uint32_t off = 0; off < blob_bytes; off += chunk) {
    uint32_t n = blob_bytes - off < chunk ? blob_bytes - off : chunk;
    hil_put_u32(p, off);
    memcpy(p + 4, blob + off, n);
    add_frame(0x11, 0, seq++, p, (uint16_t)(4 + n));
  }
  add_u32_pair(0x12, seq++, blob_bytes, hil_crc32(0, blob, blob_bytes));
  return seq;
}

static void add_config(uint16_t seq, uint32_t macs_per_cycle) {
  uint8_t p[20];
  hil_put_u32(p, macs_per_cycle);
  hil_put_u32(p + 4, 8);
  hil_put_u32(p + 8, 8);
  hil_put_u32(p + 12, 200);
  hil_put_u32(p + 16, 777); /* frontend_cycles: in the frame's modelled figure, not the network's */
  add_frame(0x02, 0, seq, p, 20);
}

static void pcm_frame(int16_t *x, uint16_t hop, uint32_t index) {
  for (uint16_t i = 0; i < hop; i++) x[i] = (int16_t)(8000.0 * sin(0.05 * (index * hop + i)) + 500.0 * ((i * 37u + index) % 13u));
}

static void add_run(uint16_t seq, uint8_t flags, uint16_t hop, uint32_t index) {
  uint8_t p[4 + 512];
  int16_t x[256];
  pcm_frame(x, hop, index);
  hil_put_u32(p, index);
  for (uint16_t i = 0; i < hop; i++) hil_put_u16(p + 4 + 2 * i, (uint16_t)x[i]);
  add_frame(0x21, flags, seq, p, (uint16_t)(4 + 2 * hop));
}

/* ---------------------------------------------------------------- dispatcher tests */

static void test_banner_hello_wake(void) {
  add_hello();
  add_bytes("\0HIL?\n", 6);
  add_bytes("\0HIL?\r\n", 7);
  uint8_t p[2];
  hil_put_u16(p, 1);
  add_frame(0x01, 0, 0, p, 2);
  serve();
  CHECK(n_items >= 4 && items[0].text && strstr(items[0].str, "HIL-FW name=hil-firmware version=0.1.0 board=loopback protocol=2 build=test\nHIL-READY\n"),
        "boot banner: %s", n_items ? items[0].str : "(none)");
  const hil_frame_t *h = reply_n(0);
  CHECK(h && h->type == 0x81 && h->seq == 0, "HELLO reply");
  if (h && h->type == 0x81) {
    const uint8_t *q = h->payload;
    CHECK(hil_get_u16(q) == 2 && hil_get_u16(q + 2) == 1024, "HELLO: protocol 2, max payload 1024");
    CHECK(hil_get_u32(q + 4) >= HIL_FRAME_MAX_RAW, "HELLO: credit covers a frame (%u)", hil_get_u32(q + 4));
    CHECK(hil_get_u32(q + 8) == LOOPBACK_PARTITION_BYTES && hil_get_u32(q + 12) == LOOPBACK_ARENA_BYTES, "HELLO: partition, arena");
    CHECK(hil_get_u32(q + 16) == 1000000 && q[20] == HIL_LATENCY_MEASURED, "HELLO: clock, latency kind");
    const char *want[4] = {"hil-firmware", "0.1.0", "loopback", "test"};
    size_t at = 24;
    for (int s = 0; s < 4; s++) {
      size_t len = q[at];
      CHECK(at + 1 + len <= h->len && len == strlen(want[s]) && memcmp(q + at + 1, want[s], len) == 0, "HELLO string %d", s);
      at += 1 + len;
    }
    CHECK(at == h->len, "HELLO: no trailing bytes");
  }
  size_t banners = count_banners();
  CHECK(banners == 3, "the wake line (with \\n and \\r\\n) repeats the banner in binary mode: %zu banners", banners);
  CHECK(is_error(reply_n(1), 7), "HELLO version 1 gets ERROR 7");
  /* The refusal names the version the firmware does speak (it once said 1 while speaking 2). */
  const hil_frame_t *e = reply_n(1);
  const char *want_text = "HELLO: protocol version 1 is not supported, this firmware speaks version 2";
  CHECK(e && e->len == 2u + strlen(want_text) && memcmp(e->payload + 2, want_text, strlen(want_text)) == 0,
        "HELLO version 1: the message names version 2");
}

static void test_errors_without_model(void) {
  add_hello();
  uint16_t s = 1;
  add_frame(0x21, 0, s++, (const uint8_t *)"\0\0\0\0", 4); /* RUN_FRAME, no model */
  add_frame(0x20, 0, s++, NULL, 0);                        /* STREAM_RESET, no model */
  add_frame(0x55, 0, s++, NULL, 0);                        /* unknown */
  add_frame(0x81, 0, s++, NULL, 0);                        /* a reply type sent to the device */
  add_frame(0x30, 0, s++, (const uint8_t *)"x", 1);        /* GET_STATS with a payload */
  add_frame(0x11, 0, s++, (const uint8_t *)"\0\0\0\0z", 5); /* MODEL_CHUNK without MODEL_BEGIN */
  add_config(s++, 0);                                       /* a divisor of 0 */
  add_u32_pair(0x10, s++, 0, 0);                            /* MODEL_BEGIN of 0 bytes */
  add_u32_pair(0x10, s++, LOOPBACK_PARTITION_BYTES + 1, 0); /* too large */
  add_u32_pair(0x12, s++, LOOPBACK_PARTITION_BYTES + 1, 0); /* activate too large */
  serve();
  CHECK(is_error(reply_n(1), 3) && strstr(error_text(reply_n(1)), "RUN_FRAME: no active model"), "RUN_FRAME without a model: %s", error_text(reply_n(1)));
  CHECK(is_error(reply_n(2), 3), "STREAM_RESET without a model");
  CHECK(is_error(reply_n(3), 2) && strstr(error_text(reply_n(3)), "0x00000055"), "unknown type: %s", error_text(reply_n(3)));
  CHECK(is_error(reply_n(4), 2), "a reply type is unknown to the device");
  CHECK(is_error(reply_n(5), 1) && !strcmp(error_text(reply_n(5)), "GET_STATS: payload is 1 bytes, expected 0"), "bad length: %s", error_text(reply_n(5)));
  CHECK(is_error(reply_n(6), 3), "chunk without begin");
  CHECK(is_error(reply_n(7), 1), "CONFIG with macs_per_cycle 0");
  CHECK(is_error(reply_n(8), 1), "MODEL_BEGIN of size 0");
  CHECK(is_error(reply_n(9), 4) && strstr(error_text(reply_n(9)), "partition holds 1048576"), "too large: %s", error_text(reply_n(9)));
  CHECK(is_error(reply_n(10), 4), "activate too large");
  for (size_t k = 1; k <= 10; k++) CHECK(reply_n(k) && reply_n(k)->seq == k, "reply %zu carries its request's seq", k);
  CHECK(reply_n(11) == NULL, "one response per request");
}

static void test_upload_errors(void) {
  build_blob(128, 7);
  add_hello();
  uint16_t s = 1;
  add_u32_pair(0x10, s++, blob_bytes, 0);
  uint8_t p[4 + 64];
  hil_put_u32(p, 64); /* should be 0 */
  memcpy(p + 4, blob, 64);
  add_frame(0x11, 0, s++, p, 68);
  hil_put_u32(p, 0);
  add_frame(0x11, 0, s++, p, 68);
  add_u32_pair(0x12, s++, blob_bytes, hil_crc32(0, blob, blob_bytes)); /* incomplete */
  serve();
  CHECK(reply_n(1) && reply_n(1)->type == 0x90, "MODEL_BEGIN reply");
  CHECK(is_error(reply_n(2), 6) && strstr(error_text(reply_n(2)), "offset 64, expected offset 0"), "out-of-order chunk: %s", error_text(reply_n(2)));
  CHECK(reply_n(3) && reply_n(3)->type == 0x91 && hil_get_u32(reply_n(3)->payload) == 64, "chunk reply: bytes received");
  CHECK(is_error(reply_n(4), 3) && strstr(error_text(reply_n(4)), "upload holds 64"), "incomplete: %s", error_text(reply_n(4)));

  /* A chunk past the announced size; a CRC the partition does not match; a blob the engine refuses. */
  add_hello();
  s = 1;
  add_u32_pair(0x10, s++, 32, 0);
  hil_put_u32(p, 0);
  add_frame(0x11, 0, s++, p, 4 + 64);
  add_u32_pair(0x12, s++, blob_bytes, 0x12345678); /* the board "placed" it: no BEGIN this time */
  serve();
  CHECK(is_error(reply_n(2), 1) && strstr(error_text(reply_n(2)), "past the size 32"), "chunk past size: %s", error_text(reply_n(2)));

  memcpy(loopback_partition(), blob, blob_bytes);
  add_hello();
  add_u32_pair(0x12, 1, blob_bytes, 0x12345678);
  serve();
  CHECK(is_error(reply_n(1), 5) && strstr(error_text(reply_n(1)), "the host expects 0x12345678"), "CRC mismatch: %s", error_text(reply_n(1)));

  /* The engine's own reason comes through: a hop it refuses, with a consistent CRC. */
  build_blob(100, 7);
  memcpy(loopback_partition(), blob, blob_bytes);
  add_hello();
  add_u32_pair(0x12, 1, blob_bytes, hil_crc32(0, blob, blob_bytes));
  serve();
  CHECK(is_error(reply_n(1), 5) && !strcmp(error_text(reply_n(1)), "hop 100 unsupported (expected 128 or 256)"), "engine reason: %s", error_text(reply_n(1)));

  build_blob(128, 7);
  loopback_limit(0, 4096);
  add_hello();
  add_upload(1, 1000);
  serve();
  loopback_limit(0, 0);
  const hil_frame_t *act = reply_n(5);
  CHECK(is_error(act, 8) && strstr(error_text(act), "arena needs"), "arena too small: %s", error_text(act));
}

static hil_model_t reference;
static uint8_t reference_arena[LOOPBACK_ARENA_BYTES] __attribute__((aligned(16)));

static void test_session(uint16_t hop, uint8_t latency_kind) {
  loopback_set_latency_kind(latency_kind);
  build_blob(hop, 0xA1B2C3D4u);
  add_hello();
  uint16_t s = 1;
  add_config(s++, 128);
  s = add_upload(s, 700);
  uint16_t first_run = s;
  const uint32_t frames = 6;
  for (uint32_t k = 0; k < frames; k++) add_run(s++, 0, hop, k);
  add_run((uint16_t)(s - 1), 1, hop, frames - 1); /* a retransmission of the last frame: not run again */
  add_frame(0x30, 0, s++, NULL, 0);
  add_frame(0x20, 0, s++, NULL, 0); /* STREAM_RESET, then frame 0 again: same output as the first time */
  add_run(s++, 0, hop, 0);
  add_frame(0x30, 0, s++, NULL, 0);
  serve();

  size_t uploads = 1 + (blob_bytes + 699) / 700;
  const hil_frame_t *act = reply_n(2 + uploads);
  CHECK(act && act->type == 0x92, "MODEL_ACTIVATE reply (got type 0x%02x: %s)", act ? act->type : 0, error_text(act));
  if (!act || act->type != 0x92) return;
  CHECK(hil_get_u32(act->payload) == blob_bytes && hil_get_u16(act->payload + 8) == 2 && hil_get_u16(act->payload + 10) == 1 &&
            hil_get_u16(act->payload + 12) == 512 && hil_get_u16(act->payload + 14) == hop && hil_get_u32(act->payload + 16) == 0xA1B2C3D4u,
        "MODEL_ACTIVATE reply fields");

  /* The same frames through the engine directly: the dispatcher must add nothing and lose nothing. */
  char why[128];
  CHECK(hil_model_load(&reference, blob, blob_bytes, reference_arena, sizeof reference_arena, why, sizeof why) == 0, "reference load: %s", why);
  hil_cost_params_t cost = {128, 8, 8, 200, 777};
  hil_model_set_cost(&reference, &cost);
  CHECK(hil_get_u32(act->payload + 4) == reference.arena_bytes, "arena bytes");
  int16_t x[256], y[256], first_out[256];
  size_t base = 3 + uploads;
  for (uint32_t k = 0; k < frames + 1; k++) {
    const hil_frame_t *r = reply_n(base + k);
    CHECK(r && r->type == 0xA1 && r->len == 40 + 2 * hop, "RUN_FRAME reply %u", k);
    if (!r || r->type != 0xA1) return;
    uint32_t index = k < frames ? k : frames - 1;
    CHECK(r->seq == (uint16_t)(first_run + index), "RUN_FRAME seq");
    if (k == frames) {
      CHECK(memcmp(r->payload, reply_n(base + k - 1)->payload, r->len) == 0, "the retransmission gets the remembered reply");
      continue;
    }
    pcm_frame(x, hop, index);
    hil_frame_counters_t c;
    hil_model_run_frame(&reference, x, y, &c);
    if (k == 0) memcpy(first_out, y, sizeof y);
    const uint8_t *q = r->payload;
    CHECK(hil_get_u32(q) == index, "frame index echoed");
    uint64_t latency = hil_get_u32(q + 4) | ((uint64_t)hil_get_u32(q + 8) << 32);
    uint64_t network = hil_get_u32(q + 32) | ((uint64_t)hil_get_u32(q + 36) << 32);
    /* The loopback clock steps at every read: the frame's two reads around the engine's two around the
     * graph make the frame three steps and the graph one. Modelled: the cost model without the front end. */
    CHECK(latency == (latency_kind == HIL_LATENCY_MODELLED ? c.modelled_cycles : 3u * LOOPBACK_CLOCK_STEP),
          "latency %llu for kind %u", (unsigned long long)latency, latency_kind);
    CHECK(network == (latency_kind == HIL_LATENCY_MODELLED ? c.network_modelled_cycles : LOOPBACK_CLOCK_STEP),
          "network latency %llu for kind %u", (unsigned long long)network, latency_kind);
    CHECK(c.network_modelled_cycles > 0 && c.network_modelled_cycles + cost.frontend_cycles == c.modelled_cycles,
          "network modelled cycles %u", c.network_modelled_cycles);
    CHECK(hil_get_u32(q + 12) == c.modelled_cycles && c.modelled_cycles > 0, "modelled cycles");
    CHECK(hil_get_u32(q + 16) == c.macs && hil_get_u32(q + 20) == c.weight_bytes && hil_get_u32(q + 24) == c.elements &&
              hil_get_u16(q + 28) == c.ops && hil_get_u16(q + 30) == 0,
          "counters");
    int same = 1;
    for (uint16_t i = 0; i < hop; i++) same &= (int16_t)hil_get_u16(q + 40 + 2 * i) == y[i];
    CHECK(same, "frame %u output equals the engine's", k);
  }
  const hil_frame_t *st = reply_n(base + frames + 1);
  CHECK(st && st->type == 0xB0 && st->len == 28, "GET_STATS reply");
  if (st && st->type == 0xB0) {
    const uint8_t *q = st->payload;
    CHECK(hil_get_u32(q) == 11111 && hil_get_u32(q + 4) == blob_bytes && hil_get_u32(q + 8) == 22222 &&
              hil_get_u32(q + 12) == reference.arena_bytes && hil_get_u32(q + 16) == 3333 && hil_get_u32(q + 20) == 44444,
          "GET_STATS figures in place");
    CHECK(hil_get_u32(q + 24) == frames, "frames_run %u: the retransmission did not run", hil_get_u32(q + 24));
  }
  const hil_frame_t *sr = reply_n(base + frames + 2);
  CHECK(sr && sr->type == 0xA0, "STREAM_RESET reply");
  const hil_frame_t *again = reply_n(base + frames + 3);
  int same = again && again->type == 0xA1;
  for (uint16_t i = 0; same && i < hop; i++) same &= (int16_t)hil_get_u16(again->payload + 40 + 2 * i) == first_out[i];
  CHECK(same, "after STREAM_RESET frame 0 gives the first output again");
  loopback_set_latency_kind(HIL_LATENCY_MEASURED);
}

static void add_batch(uint16_t seq, uint8_t flags, uint32_t first, uint32_t offset, uint16_t n) {
  uint8_t p[HIL_RUN_PRELOADED_BATCH_REQ_BYTES];
  hil_put_u32(p + HIL_RUN_PRELOADED_BATCH_REQ_FIRST_FRAME_INDEX, first);
  hil_put_u32(p + HIL_RUN_PRELOADED_BATCH_REQ_INPUT_OFFSET, offset);
  hil_put_u16(p + HIL_RUN_PRELOADED_BATCH_REQ_N_FRAMES, n);
  add_frame(HIL_MSG_RUN_PRELOADED_BATCH, flags, seq, p, sizeof p);
}

/* RUN_PRELOADED_BATCH against RUN_PRELOADED over the same preloaded clip: the same records, frames_run
 * advanced by exactly n per batch, a retransmitted batch answered from memory without running again, and
 * bad batches refused before any frame runs. */
static uint8_t audio_image[8 * 2 * 256];

static void test_preloaded_batch(uint16_t hop) {
  const uint32_t frames = 8, max_n = (HIL_MAX_PAYLOAD - HIL_RUN_PRELOADED_BATCH_REPLY_FIXED_BYTES) / HIL_PRELOADED_FRAME_BYTES;
  int16_t x[256];
  for (uint32_t k = 0; k < frames; k++) {
    pcm_frame(x, hop, k);
    for (uint16_t i = 0; i < hop; i++) hil_put_u16(audio_image + 2u * (hop * k + i), (uint16_t)x[i]);
  }
  const uint32_t image_bytes = 2u * hop * frames;
  loopback_set_audio(audio_image, image_bytes);
  build_blob(hop, 7);
  add_hello();
  uint16_t s = 1;
  add_config(s++, 128);
  s = add_upload(s, 700);
  add_frame(0x20, 0, s++, NULL, 0);
  for (uint32_t k = 0; k < frames; k++) add_u32_pair(HIL_MSG_RUN_PRELOADED, s++, k, 2u * hop * k);
  add_frame(0x20, 0, s++, NULL, 0);
  add_batch(s++, 0, 0, 0, 5);
  add_batch(s++, 0, 5, 2u * hop * 5, 3);
  add_batch((uint16_t)(s - 1), HIL_FLAG_RETRANSMIT, 5, 2u * hop * 5, 3);
  add_frame(0x30, 0, s++, NULL, 0);
  add_batch(s++, 0, 0, 0, 0);
  add_batch(s++, 0, 0, 0, (uint16_t)(max_n + 1));
  add_batch(s++, 0, 6, 2u * hop * 6, 3); /* the third hop runs past the image */
  add_frame(0x30, 0, s++, NULL, 0);
  serve();

  size_t base = 3 + 1 + (blob_bytes + 699) / 700; /* HELLO, CONFIG, MODEL_BEGIN, chunks, MODEL_ACTIVATE */
  CHECK(reply_n(base - 1) && reply_n(base - 1)->type == 0x92, "MODEL_ACTIVATE reply");
  CHECK(reply_n(base) && reply_n(base)->type == 0xA0, "STREAM_RESET reply");
  const hil_frame_t *single[8];
  for (uint32_t k = 0; k < frames; k++) {
    single[k] = reply_n(base + 1 + k);
    CHECK(single[k] && single[k]->type == 0xA3 && single[k]->len == HIL_RUN_PRELOADED_REPLY_BYTES, "RUN_PRELOADED reply %u", k);
    if (!single[k] || single[k]->type != 0xA3) return;
  }
  size_t b = base + 1 + frames + 1;
  const hil_frame_t *b1 = reply_n(b), *b2 = reply_n(b + 1), *again = reply_n(b + 2);
  const hil_frame_t *batches[2] = {b1, b2};
  const uint32_t firsts[2] = {0, 5}, counts[2] = {5, 3};
  for (int j = 0; j < 2; j++) {
    const hil_frame_t *r = batches[j];
    CHECK(r && r->type == 0xA4 && r->len == HIL_RUN_PRELOADED_BATCH_REPLY_FIXED_BYTES + counts[j] * HIL_PRELOADED_FRAME_BYTES,
          "RUN_PRELOADED_BATCH reply %d (type 0x%02x: %s)", j, r ? r->type : 0, error_text(r));
    if (!r || r->type != 0xA4) return;
    CHECK(hil_get_u32(r->payload + HIL_RUN_PRELOADED_BATCH_REPLY_FIRST_FRAME_INDEX) == firsts[j] &&
              hil_get_u16(r->payload + HIL_RUN_PRELOADED_BATCH_REPLY_N_FRAMES) == counts[j],
          "batch %d echoes first_frame_index and n_frames", j);
    for (uint32_t k = 0; k < counts[j]; k++) {
      const uint8_t *rec = r->payload + HIL_RUN_PRELOADED_BATCH_REPLY_RECORDS + k * HIL_PRELOADED_FRAME_BYTES;
      /* A record is a RUN_PRELOADED reply without its frame_index: byte for byte the same figures. */
      CHECK(memcmp(rec, single[firsts[j] + k]->payload + HIL_RUN_PRELOADED_REPLY_LATENCY, HIL_PRELOADED_FRAME_BYTES) == 0,
            "hop %u: batch record %u equals RUN_PRELOADED's reply for frame %u", hop, k, firsts[j] + k);
    }
  }
  CHECK(again && again->type == 0xA4 && again->len == b2->len && memcmp(again->payload, b2->payload, b2->len) == 0,
        "the retransmitted batch gets the remembered reply");
  const hil_frame_t *st = reply_n(b + 3);
  CHECK(st && st->type == 0xB0 && hil_get_u32(st->payload + HIL_GET_STATS_REPLY_FRAMES_RUN) == 2 * frames,
        "frames_run %u: 8 single frames and 5 + 3 batched, the retransmission not run again", st ? hil_get_u32(st->payload + 24) : 0);
  CHECK(is_error(reply_n(b + 4), 1) && strstr(error_text(reply_n(b + 4)), "n_frames 0 is not within 1.."), "n_frames 0: %s", error_text(reply_n(b + 4)));
  CHECK(is_error(reply_n(b + 5), 1) && strstr(error_text(reply_n(b + 5)), "max_payload"), "n_frames over the maximum: %s", error_text(reply_n(b + 5)));
  CHECK(is_error(reply_n(b + 6), 1) && strstr(error_text(reply_n(b + 6)), "plus 3 hop(s) runs past the"), "batch past the image: %s", error_text(reply_n(b + 6)));
  const hil_frame_t *st2 = reply_n(b + 7);
  CHECK(st2 && st2->type == 0xB0 && hil_get_u32(st2->payload + HIL_GET_STATS_REPLY_FRAMES_RUN) == 2 * frames, "refused batches ran no frame");

  /* A port without an audio partition refuses in one line, error 3. */
  loopback_set_audio(NULL, 0);
  add_hello();
  add_config(1, 128);
  s = add_upload(2, 700);
  add_batch(s++, 0, 0, 0, 1);
  serve();
  const hil_frame_t *no = reply_n(3 + 1 + (blob_bytes + 699) / 700);
  CHECK(is_error(no, 3) && strstr(error_text(no), "RUN_PRELOADED_BATCH: this port has no audio partition"), "no audio partition: %s", error_text(no));
}

static void test_order_drops_reset(void) {
  build_blob(128, 1);
  add_hello();
  uint16_t s = add_upload(1, 1000);
  /* A corrupted RUN_FRAME (one payload byte flipped after encoding): dropped with a LOG, no reply. */
  size_t at = script_len;
  add_run(s, 0, 128, 0);
  script[at + 20] = script[at + 20] == 0x5A ? 0x5B : 0x5A; /* never 0x00: that would split the chunk */
  /* The next one arrives first: its predecessor is missing, so it is dropped too. */
  add_run((uint16_t)(s + 1), 0, 128, 1);
  /* The retransmissions, in order: both executed. */
  add_run(s, 1, 128, 0);
  add_run((uint16_t)(s + 1), 1, 128, 1);
  /* A request older than the duplicate window gets nothing. */
  add_frame(0x30, 0, 2, NULL, 0);
  /* Garbage longer than any frame, then a good request. */
  static uint8_t junk[3000];
  memset(junk, 0x33, sizeof junk);
  add_bytes(junk, sizeof junk);
  add_frame(0x30, 0, (uint16_t)(s + 2), NULL, 0);
  add_frame(0x3F, 0, (uint16_t)(s + 3), NULL, 0);
  add_frame(0x30, 0, (uint16_t)(s + 4), NULL, 0); /* after RESET: any seq is accepted before HELLO */
  unsigned resets = loopback_resets();
  serve();
  size_t uploads = 2 + (blob_bytes + 999) / 1000;
  size_t logs = count_frames(0x7E);
  CHECK(logs == 4, "LOGs for: bad CRC, out of sequence, window, oversized chunk (got %zu)", logs);
  const hil_frame_t *r0 = reply_n(1 + uploads), *r1 = reply_n(2 + uploads);
  CHECK(r0 && r0->type == 0xA1 && r0->seq == s && hil_get_u32(r0->payload) == 0, "frame 0 after its retransmission");
  CHECK(r1 && r1->type == 0xA1 && r1->seq == s + 1 && hil_get_u32(r1->payload) == 1, "then frame 1");
  const hil_frame_t *st = reply_n(3 + uploads);
  CHECK(st && st->type == 0xB0 && st->seq == s + 2 && hil_get_u32(st->payload + 24) == 2, "GET_STATS after the garbage");
  const hil_frame_t *rs = reply_n(4 + uploads);
  CHECK(rs && rs->type == 0xBF, "RESET reply");
  CHECK(loopback_resets() == resets + 1, "the port was asked to reset");
  size_t banners = count_banners();
  CHECK(banners == 2, "banner at boot and after RESET (%zu)", banners);
  const hil_frame_t *after = reply_n(5 + uploads);
  CHECK(after && after->type == 0xB0 && hil_get_u32(after->payload + 4) == 0 && hil_get_u32(after->payload + 24) == 0,
        "after RESET: no model, no frames run");
}

int main(void) {
  test_vectors();
  test_banner_hello_wake();
  test_errors_without_model();
  test_upload_errors();
  test_session(128, HIL_LATENCY_MEASURED);
  test_session(256, HIL_LATENCY_MODELLED);
  test_order_drops_reset();
  test_preloaded_batch(128);
  test_preloaded_batch(256);
  printf("test_protocol: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
