/* libFuzzer target: the dispatcher (hil_serve) through the loopback port, with a model active before the
 * fuzzed part of the session starts (the input format is fuzz_serve.h). Besides the sanitizers, it checks
 * what the host relies on: everything the device sends is its banner or a frame that decodes, of a type
 * the device may send, and a RUN_FRAME reply is as long as the hop asks. */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz_serve.h"
#include "hil_engine.h"
#include "hil_port.h"
#include "mini_blob.h"
#include "port_loopback.h"
#include "vectors.h"

#ifndef HIL_VECTORS_DIR
#error "the Makefile passes HIL_VECTORS_DIR, the absolute path of test/vectors/engine"
#endif

typedef struct {
  const uint8_t *bytes;
  uint32_t len, crc;
  uint16_t hop;
} model_t;

static model_t models[FUZZ_SERVE_N_MODELS];
static uint8_t mini[MINI_BLOB_BYTES] __attribute__((aligned(16)));

/* A cap on the expanded script: a record of three bytes can repeat a frame of a thousand. */
#define SCRIPT_CAP (256u << 10)
static uint8_t script[SCRIPT_CAP + HIL_FRAME_MAX_WIRE];
static size_t script_len;
static uint8_t scratch[HIL_FRAME_MAX_RAW];
static const uint8_t *last_frame;
static size_t last_frame_len;

/* Printed at exit, so that a run that never reached RUN_FRAME on an active model shows it (the CI test
 * reads this line). */
static unsigned long long n_inputs, n_run_replies, n_inputs_with_run;

static void print_stats(void) {
  fprintf(stderr, "fuzz_serve: %llu inputs, %llu RUN_FRAME replies, %llu inputs ran at least one frame\n", n_inputs,
          n_run_replies, n_inputs_with_run);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  static const char *const names[] = FUZZ_SERVE_VECTORS;
  for (unsigned i = 0; i < FUZZ_SERVE_N_VECTORS; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.hilm", HIL_VECTORS_DIR, names[i]);
    vec_file_t f = vec_read(path); /* kept for the whole run */
    models[i].bytes = f.data;
    models[i].len = f.len;
  }
  models[FUZZ_SERVE_N_VECTORS].bytes = mini;
  models[FUZZ_SERVE_N_VECTORS].len = mini_blob_build(mini, 256, 0x6D696E69u);
  for (unsigned i = 0; i < FUZZ_SERVE_N_MODELS; i++) {
    models[i].crc = hil_crc32(0, models[i].bytes, models[i].len);
    models[i].hop = hil_get_u16(models[i].bytes + 22);
  }
  atexit(print_stats);
  return 0;
}

static uint16_t next_seq(uint16_t seq) { return seq == 0xFFFFu ? 1u : (uint16_t)(seq + 1u); }

static void add_frame(uint8_t type, uint8_t flags, uint16_t seq, const uint8_t *payload, size_t len) {
  if (script_len > SCRIPT_CAP) return;
  if (len > HIL_MAX_PAYLOAD) len = HIL_MAX_PAYLOAD;
  last_frame = script + script_len;
  last_frame_len = hil_frame_encode(type, flags, seq, payload, (uint16_t)len, scratch, script + script_len);
  script_len += last_frame_len;
}

static void add_raw(const uint8_t *p, size_t n) {
  if (script_len + n > SCRIPT_CAP) n = script_len < SCRIPT_CAP ? SCRIPT_CAP - script_len : 0;
  memcpy(script + script_len, p, n);
  script_len += n;
}

static void fail(const char *what, size_t at) {
  fprintf(stderr, "fuzz_serve: %s (output byte %zu)\n", what, at);
  abort();
}

static int is_device_type(uint8_t t) {
  switch (t) {
    case HIL_MSG_HELLO | HIL_MSG_REPLY: case HIL_MSG_CONFIG | HIL_MSG_REPLY: case HIL_MSG_MODEL_BEGIN | HIL_MSG_REPLY:
    case HIL_MSG_MODEL_CHUNK | HIL_MSG_REPLY: case HIL_MSG_MODEL_ACTIVATE | HIL_MSG_REPLY:
    case HIL_MSG_STREAM_RESET | HIL_MSG_REPLY: case HIL_MSG_RUN_FRAME | HIL_MSG_REPLY: case HIL_MSG_GET_STATS | HIL_MSG_REPLY:
    case HIL_MSG_RESET | HIL_MSG_REPLY: case HIL_MSG_LOG: case HIL_MSG_ERROR: return 1;
    case HIL_MSG_RUN_FRAME_CRC | HIL_MSG_REPLY: case HIL_MSG_RUN_PRELOADED | HIL_MSG_REPLY:
    case HIL_MSG_RUN_PRELOADED_BATCH | HIL_MSG_REPLY: return 1;
    default: return 0;
  }
}

/* Walks what the device sent. `activate_at` is the index of the prefix's MODEL_ACTIVATE reply among the
 * frames: if that is not a success, the input ran without an active model and the harness is broken. */
static void check_output(unsigned activate_at) {
  size_t n;
  const uint8_t *out = loopback_output(&n);
  static const char banner_end[] = "HIL-READY\n";
  static uint8_t chunk[HIL_FRAME_MAX_WIRE];
  unsigned frames = 0, runs = 0;
  size_t i = 0;
  while (i < n) {
    if (out[i] != 0) { /* text: only whole banners */
      size_t j = i;
      while (j < n && out[j] != 0) j++;
      if (memcmp(out + i, "HIL-FW ", 7) != 0 || j - i < sizeof banner_end - 1 ||
          memcmp(out + j - (sizeof banner_end - 1), banner_end, sizeof banner_end - 1) != 0)
        fail("the device sent text that is not a banner", i);
      i = j;
      continue;
    }
    size_t j = i + 1;
    while (j < n && out[j] != 0) j++;
    if (j == n) fail("the device left a frame unterminated", i);
    if (j - i - 1 > sizeof chunk) fail("the device sent a frame longer than the largest", i);
    memcpy(chunk, out + i + 1, j - i - 1);
    hil_frame_t f;
    if (hil_frame_decode(chunk, j - i - 1, &f) != HIL_FRAME_OK) fail("the device sent a frame that does not decode", i);
    if (!is_device_type(f.type)) fail("the device sent a frame of a type it never sends", i);
    if (f.type == HIL_MSG_ERROR && f.len < HIL_ERROR_FIXED_BYTES) fail("an ERROR without its code", i);
    if (f.type == (HIL_MSG_RUN_FRAME | HIL_MSG_REPLY)) {
      if (f.len != HIL_RUN_FRAME_REPLY_FIXED_BYTES + 2u * 128u && f.len != HIL_RUN_FRAME_REPLY_FIXED_BYTES + 2u * 256u)
        fail("a RUN_FRAME reply whose length fits no hop", i);
      runs++;
    }
    if (f.type == (HIL_MSG_RUN_PRELOADED_BATCH | HIL_MSG_REPLY)) {
      uint16_t nf = f.len >= HIL_RUN_PRELOADED_BATCH_REPLY_FIXED_BYTES ? hil_get_u16(f.payload + HIL_RUN_PRELOADED_BATCH_REPLY_N_FRAMES) : 0;
      if (nf == 0 || f.len != HIL_RUN_PRELOADED_BATCH_REPLY_FIXED_BYTES + (uint32_t)nf * HIL_PRELOADED_FRAME_BYTES)
        fail("a RUN_PRELOADED_BATCH reply whose length is not its n_frames records", i);
      runs += nf;
    }
    if (frames == activate_at && f.type != (HIL_MSG_MODEL_ACTIVATE | HIL_MSG_REPLY)) fail("the scripted MODEL_ACTIVATE failed", i);
    frames++;
    i = j + 1;
  }
  if (frames <= activate_at) fail("no reply to the scripted MODEL_ACTIVATE", n);
  n_run_replies += runs;
  n_inputs_with_run += runs > 0;
}

/* An audio partition for RUN_PRELOADED and RUN_PRELOADED_BATCH: a size no whole number of hops fills, so
 * offsets near its end exercise the bounds checks. */
static uint8_t audio[20002];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t setup = size ? data[0] : 0;
  const model_t *m = &models[(setup & FUZZ_SETUP_MODEL_MASK) % FUZZ_SERVE_N_MODELS];
  n_inputs++;
  /* A previous input may have uploaded over the partition. */
  memcpy(loopback_partition(), m->bytes, m->len);
  loopback_limit(0, 0);
  for (size_t i = 0; i < sizeof audio; i++) audio[i] = (uint8_t)(i * 131u + (i >> 9));
  loopback_set_audio(audio, sizeof audio);
  loopback_set_latency_kind(setup & FUZZ_SETUP_MODELLED ? HIL_LATENCY_MODELLED : HIL_LATENCY_MEASURED);

  script_len = 0;
  last_frame = NULL;
  last_frame_len = 0;
  uint8_t p[HIL_CONFIG_REQ_BYTES];
  uint16_t seq = 0;
  unsigned activate_at = 1;
  hil_put_u16(p, HIL_PROTOCOL_VERSION);
  add_frame(HIL_MSG_HELLO, 0, seq, p, HIL_HELLO_REQ_BYTES);
  seq = next_seq(seq);
  if (setup & FUZZ_SETUP_CONFIG) {
    const uint32_t cost[5] = {128, 8, 8, 200, 3000};
    for (int k = 0; k < 5; k++) hil_put_u32(p + 4 * k, cost[k]);
    add_frame(HIL_MSG_CONFIG, 0, seq, p, HIL_CONFIG_REQ_BYTES);
    seq = next_seq(seq);
    activate_at++;
  }
  hil_put_u32(p + HIL_MODEL_ACTIVATE_REQ_SIZE, m->len);
  hil_put_u32(p + HIL_MODEL_ACTIVATE_REQ_CRC32, m->crc);
  add_frame(HIL_MSG_MODEL_ACTIVATE, 0, seq, p, HIL_MODEL_ACTIVATE_REQ_BYTES);
  seq = next_seq(seq);

  size_t at = 1;
  while (at < size && script_len <= SCRIPT_CAP) {
    const uint8_t op = data[at++];
    size_t len = 0;
    if (at < size) len = data[at++];
    if (at < size) len |= (size_t)data[at++] << 8;
    if (len > size - at) len = size - at;
    const uint8_t *body = data + at;
    at += len;
    switch (op & 3u) {
      case FUZZ_OP_RAW: add_raw(body, len); break;
      case FUZZ_OP_NEXT:
        if (len < 2) break;
        add_frame(body[0], body[1], seq, body + 2, len - 2);
        seq = next_seq(seq);
        break;
      case FUZZ_OP_SEQ: {
        if (len < 4) break;
        const uint16_t s = hil_get_u16(body + 2);
        add_frame(body[0], body[1], s, body + 4, len - 4);
        /* The device's rule (docs/protocol.md §4): HELLO restarts the sequence, the expected one advances it. */
        if (body[0] == HIL_MSG_HELLO || s == seq) seq = next_seq(s);
        break;
      }
      default:
        if (last_frame) add_raw(last_frame, last_frame_len);
    }
  }

  loopback_script(script, script_len);
  hil_serve();
  check_output(activate_at);
  return 0;
}
