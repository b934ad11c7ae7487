/* Writes the serve fuzzer's seed corpus (format: fuzz_serve.h) into the directory given: sessions a host
 * really runs (frames on every preloaded model, an upload, retransmissions) and the error paths, so that
 * the fuzzer starts from inputs that reach every handler rather than having to discover frame lengths
 * such as a RUN_FRAME's 4 + 2 * hop bytes. Generated at build time so it follows the protocol's header. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz_serve.h"
#include "hil_engine.h"
#include "mini_blob.h"
#include "vectors.h"

static uint8_t buf[1 << 16];
static size_t len;
static const char *dir;
static uint16_t hops[FUZZ_SERVE_N_MODELS];

static void begin(uint8_t setup) {
  buf[0] = setup;
  len = 1;
}

static void record(uint8_t op, const uint8_t *body, size_t n) {
  buf[len++] = op;
  buf[len++] = (uint8_t)n;
  buf[len++] = (uint8_t)(n >> 8);
  memcpy(buf + len, body, n);
  len += n;
}

/* A frame with the next sequence number. */
static void frame(uint8_t type, const uint8_t *payload, size_t n) {
  uint8_t body[2 + HIL_MAX_PAYLOAD];
  body[0] = type;
  body[1] = 0;
  memcpy(body + 2, payload, n);
  record(FUZZ_OP_NEXT, body, 2 + n);
}

static void frame_seq(uint8_t type, uint16_t seq, const uint8_t *payload, size_t n) {
  uint8_t body[4 + HIL_MAX_PAYLOAD];
  body[0] = type;
  body[1] = 0;
  hil_put_u16(body + 2, seq);
  memcpy(body + 4, payload, n);
  record(FUZZ_OP_SEQ, body, 4 + n);
}

static void run_frame(uint16_t hop, uint32_t index) {
  uint8_t p[4 + 512];
  hil_put_u32(p, index);
  for (uint16_t i = 0; i < hop; i++) hil_put_u16(p + 4 + 2 * i, (uint16_t)(int16_t)(9000.0 * sin(0.07 * (index * hop + i))));
  frame(HIL_MSG_RUN_FRAME, p, 4u + 2u * hop);
}

static void config(uint32_t macs) {
  uint8_t p[HIL_CONFIG_REQ_BYTES];
  const uint32_t v[5] = {macs, 8, 8, 200, 777};
  for (int k = 0; k < 5; k++) hil_put_u32(p + 4 * k, v[k]);
  frame(HIL_MSG_CONFIG, p, sizeof p);
}

static void u32_pair(uint8_t type, uint32_t a, uint32_t b) {
  uint8_t p[8];
  hil_put_u32(p, a);
  hil_put_u32(p + 4, b);
  frame(type, p, 8);
}

static void batch(uint32_t first, uint32_t offset, uint16_t n) {
  uint8_t p[HIL_RUN_PRELOADED_BATCH_REQ_BYTES];
  hil_put_u32(p + HIL_RUN_PRELOADED_BATCH_REQ_FIRST_FRAME_INDEX, first);
  hil_put_u32(p + HIL_RUN_PRELOADED_BATCH_REQ_INPUT_OFFSET, offset);
  hil_put_u16(p + HIL_RUN_PRELOADED_BATCH_REQ_N_FRAMES, n);
  frame(HIL_MSG_RUN_PRELOADED_BATCH, p, sizeof p);
}

static void save(const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "serve_seeds: cannot write %s\n", path);
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: serve_seeds <directory>\n");
    return 2;
  }
  dir = argv[1];
  static const char *const names[] = FUZZ_SERVE_VECTORS;
  for (unsigned i = 0; i < FUZZ_SERVE_N_VECTORS; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.hilm", HIL_VECTORS_DIR, names[i]);
    vec_file_t f = vec_read(path);
    hops[i] = hil_get_u16(f.data + 22);
    vec_free(&f);
  }
  hops[FUZZ_SERVE_N_VECTORS] = 256;
  char name[64];

  /* Every model, both latency kinds: a stream of frames with the messages a run interleaves. */
  for (unsigned i = 0; i < FUZZ_SERVE_N_MODELS; i++) {
    begin((uint8_t)(i | FUZZ_SETUP_CONFIG));
    frame(HIL_MSG_STREAM_RESET, NULL, 0);
    for (uint32_t k = 0; k < 3; k++) run_frame(hops[i], k);
    frame(HIL_MSG_GET_STATS, NULL, 0);
    snprintf(name, sizeof name, "run-model%u", i);
    save(name);
    begin((uint8_t)(i | FUZZ_SETUP_MODELLED));
    run_frame(hops[i], 0);
    config(64);
    run_frame(hops[i], 1);
    snprintf(name, sizeof name, "run-modelled-model%u", i);
    save(name);
  }

  /* Preloaded frames, one at a time and batched (the harness gives the port a 20002-byte audio
   * partition): a retransmitted batch, and batches refused for n or for running past the partition. */
  for (unsigned i = 0; i < 2; i++) {
    begin((uint8_t)i);
    frame(HIL_MSG_STREAM_RESET, NULL, 0);
    u32_pair(HIL_MSG_RUN_PRELOADED, 0, 0);
    batch(1, 2u * hops[i], 5);
    record(FUZZ_OP_REPEAT, NULL, 0);
    batch(6, 12u * hops[i], 25);
    batch(0, 0, 0);
    batch(0, 0, 26);
    batch(0, 20002u - 4u * hops[i], 3); /* two hops fit, the third does not */
    frame(HIL_MSG_GET_STATS, NULL, 0);
    snprintf(name, sizeof name, "preloaded-model%u", i);
    save(name);
  }

  /* An upload of the mini blob over the preloaded model, activated and run. */
  static uint8_t mini[MINI_BLOB_BYTES] __attribute__((aligned(16)));
  const uint32_t mini_len = mini_blob_build(mini, 128, 42), mini_crc = hil_crc32(0, mini, mini_len);
  begin(0);
  u32_pair(HIL_MSG_MODEL_BEGIN, mini_len, mini_crc);
  for (uint32_t off = 0; off < mini_len; off += 1000) {
    uint8_t p[4 + 1000];
    const uint32_t n = mini_len - off < 1000 ? mini_len - off : 1000;
    hil_put_u32(p, off);
    memcpy(p + 4, mini + off, n);
    frame(HIL_MSG_MODEL_CHUNK, p, 4 + n);
  }
  u32_pair(HIL_MSG_MODEL_ACTIVATE, mini_len, mini_crc);
  run_frame(128, 0);
  run_frame(128, 1);
  frame(HIL_MSG_GET_STATS, NULL, 0);
  save("upload");

  /* Retransmissions and ordering: a repeat answered from memory, a request out of sequence, a new HELLO. */
  begin(1);
  run_frame(256, 0);
  record(FUZZ_OP_REPEAT, NULL, 0);
  frame_seq(HIL_MSG_GET_STATS, 9, NULL, 0);
  run_frame(256, 1);
  uint8_t hello[2];
  hil_put_u16(hello, HIL_PROTOCOL_VERSION);
  frame_seq(HIL_MSG_HELLO, 500, hello, 2);
  run_frame(256, 2);
  record(FUZZ_OP_REPEAT, NULL, 0);
  save("sequence");

  /* The framing layer: wake lines, a frame sent as raw bytes, empty and broken chunks, an oversized chunk. */
  begin(0);
  record(FUZZ_OP_RAW, (const uint8_t *)"\0HIL?\n", 6);
  record(FUZZ_OP_RAW, (const uint8_t *)"\0HIL?\r\n", 7);
  static uint8_t scratch[HIL_FRAME_MAX_RAW], wire[HIL_FRAME_MAX_WIRE];
  size_t wn = hil_frame_encode(HIL_MSG_GET_STATS, 0, 2, NULL, 0, scratch, wire);
  record(FUZZ_OP_RAW, wire, wn);
  wire[wn / 2] ^= 0x5A; /* a flipped byte: a bad CRC or a bad length */
  record(FUZZ_OP_RAW, wire, wn);
  record(FUZZ_OP_RAW, (const uint8_t *)"\0\0\x05\x01\x02\0\x03\x7f\0", 9);
  static uint8_t junk[HIL_FRAME_MAX_WIRE + 16];
  memset(junk, 0x41, sizeof junk);
  record(FUZZ_OP_RAW, junk, sizeof junk);
  record(FUZZ_OP_RAW, (const uint8_t *)"\0", 1);
  frame(HIL_MSG_GET_STATS, NULL, 0);
  save("framing");

  /* Every error a request can earn, then RESET and a request on the fresh device. */
  begin(0);
  uint8_t bad_hello[2];
  hil_put_u16(bad_hello, 1);
  frame(HIL_MSG_HELLO, bad_hello, 2);
  frame(0x55, NULL, 0);
  frame(HIL_MSG_RUN_FRAME, (const uint8_t *)"\0\0\0\0", 4);
  u32_pair(HIL_MSG_MODEL_CHUNK, 0, 0);
  config(0);
  u32_pair(HIL_MSG_MODEL_BEGIN, 0, 0);
  u32_pair(HIL_MSG_MODEL_BEGIN, 0xFFFFFFFFu, 0);
  u32_pair(HIL_MSG_MODEL_BEGIN, 64, 0);
  u32_pair(HIL_MSG_MODEL_CHUNK, 8, 0);
  u32_pair(HIL_MSG_MODEL_ACTIVATE, 32, 0);
  u32_pair(HIL_MSG_MODEL_ACTIVATE, 64, 0);
  frame(HIL_MSG_STREAM_RESET, NULL, 0);
  frame(HIL_MSG_GET_STATS, (const uint8_t *)"x", 1);
  frame(HIL_MSG_RESET, NULL, 0);
  frame(HIL_MSG_RUN_FRAME, NULL, 0);
  save("errors");
  return 0;
}
