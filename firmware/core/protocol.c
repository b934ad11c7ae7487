/* The device side of the hil serial protocol (docs/protocol.md): boot banner, wake handling, frame
 * receive with resync on 0x00, in-order execution with duplicate memory, and one handler per message.
 * Everything is static: the dispatcher owns no heap and its buffers count in the image's .bss. */
#include <string.h>

#include "frame.h"
#include "hil_engine.h"
#include "hil_port.h"

#define HIL_FW_NAME "hil-firmware"
#define HIL_FW_VERSION "0.1.0"
/* The protocol's version, message types, error codes and payload offsets are hil_protocol.h, generated
 * from docs/spec/protocol.json like the host's src/spec/protocol.ts. HIL_DUP_WINDOW is how many executed
 * requests the device remembers (docs/protocol.md §4). */
#define HIL_MAX_HOP 256u

/* A frame being received, at most one maximal encoded frame; longer garbage is dropped whole. */
#define RX_CHUNK_BYTES (HIL_FRAME_MAX_WIRE - 2u)

/* The credit the HELLO reply announces: bytes the host may have in flight. By default only what the
 * core itself buffers; a port whose driver buffers more (a pty, a UART ring) raises it in port.mk. */
#ifndef HIL_RX_CREDIT_BYTES
#define HIL_RX_CREDIT_BYTES RX_CHUNK_BYTES
#endif

typedef struct {
  uint8_t valid, type;
  uint16_t seq;
  size_t wire_len;
  uint8_t wire[HIL_FRAME_MAX_WIRE];
} remembered_t;

static struct {
  uint8_t *partition, *arena;
  uint32_t partition_bytes, arena_bytes;
  hil_model_t model;
  int model_active;
  hil_cost_params_t cost;
  int has_cost;
  int uploading;
  uint32_t upload_size, upload_received;
  uint32_t frames_run;
  int seq_known;
  uint16_t last_seq;
  remembered_t dup[HIL_DUP_WINDOW];
  unsigned dup_next;
  int reset_requested;
} S;

static uint8_t rx_chunk[RX_CHUNK_BYTES];
static uint8_t tx_scratch[HIL_FRAME_MAX_RAW];
static uint8_t tx_wire[HIL_FRAME_MAX_WIRE]; /* unremembered frames: HELLO reply, LOG */
static uint8_t reply_payload[HIL_MAX_PAYLOAD];
static int16_t pcm_in[HIL_MAX_HOP], pcm_out[HIL_MAX_HOP];

/* The response of the request being executed: where it goes, and whether it is remembered. */
typedef struct {
  uint8_t type;
  uint16_t seq;
  remembered_t *slot; /* NULL: not remembered */
} response_t;

static void write_str(const char *s) { hil_port_write((const uint8_t *)s, strlen(s)); }

static void send_banner(void) {
  write_str("HIL-FW name=" HIL_FW_NAME " version=" HIL_FW_VERSION " board=");
  write_str(hil_port_board_name());
  write_str(" protocol=" HIL_PROTOCOL_VERSION_TEXT " build=");
  write_str(hil_port_build_id());
  write_str("\nHIL-READY\n");
}

static void send_frame(const response_t *r, uint8_t type, const uint8_t *payload, uint16_t len) {
  uint8_t *wire = r->slot ? r->slot->wire : tx_wire;
  size_t n = hil_frame_encode(type, 0, r->seq, payload, len, tx_scratch, wire);
  if (r->slot) {
    r->slot->valid = 1;
    r->slot->type = r->type;
    r->slot->seq = r->seq;
    r->slot->wire_len = n;
  }
  hil_port_write(wire, n);
}

static void reply(const response_t *r, uint16_t len) { send_frame(r, (uint8_t)(r->type | HIL_MSG_REPLY), reply_payload, len); }

/* Small formatting helpers: the error messages carry numbers, and printf is too big for some ports. */
typedef struct {
  char *p;
  size_t left;
} text_t;

static void text_add(text_t *t, const char *s) {
  while (*s && t->left > 1) {
    *t->p++ = *s++;
    t->left--;
  }
  *t->p = 0;
}

static void text_u32(text_t *t, uint32_t v) {
  char buf[11];
  int i = 10;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v);
  text_add(t, buf + i);
}

static void text_hex32(text_t *t, uint32_t v) {
  char buf[11] = "0x";
  for (int i = 0; i < 8; i++) buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15u];
  buf[10] = 0;
  text_add(t, buf);
}

static text_t error_text(void) {
  text_t t = {(char *)reply_payload + HIL_ERROR_FIXED_BYTES, HIL_MAX_PAYLOAD - HIL_ERROR_FIXED_BYTES};
  reply_payload[HIL_ERROR_FIXED_BYTES] = 0;
  return t;
}

/* Sends ERROR with the message assembled by error_text()/text_*. */
static void send_error_text(const response_t *r, uint16_t code) {
  hil_put_u16(reply_payload + HIL_ERROR_CODE, code);
  send_frame(r, HIL_MSG_ERROR, reply_payload,
             (uint16_t)(HIL_ERROR_FIXED_BYTES + strlen((const char *)reply_payload + HIL_ERROR_MESSAGE)));
}

static void send_error(const response_t *r, uint16_t code, const char *message) {
  text_t t = error_text();
  text_add(&t, message);
  send_error_text(r, code);
}

/* "<what>: payload is N bytes, expected M" */
static int check_len(const response_t *r, const char *what, uint16_t got, uint32_t want) {
  if (got == want) return 1;
  text_t t = error_text();
  text_add(&t, what);
  text_add(&t, ": payload is ");
  text_u32(&t, got);
  text_add(&t, " bytes, expected ");
  text_u32(&t, want);
  send_error_text(r, HIL_ERR_BAD_REQUEST);
  return 0;
}

static void send_log(uint8_t level, const char *text) {
  size_t n = strlen(text);
  if (n > HIL_MAX_PAYLOAD - HIL_LOG_FIXED_BYTES) n = HIL_MAX_PAYLOAD - HIL_LOG_FIXED_BYTES;
  reply_payload[HIL_LOG_LEVEL] = level;
  memcpy(reply_payload + HIL_LOG_TEXT, text, n);
  response_t r = {HIL_MSG_LOG, 0, NULL};
  send_frame(&r, HIL_MSG_LOG, reply_payload, (uint16_t)(HIL_LOG_FIXED_BYTES + n));
}

static void put_str8(uint8_t *p, size_t *at, const char *s) {
  size_t n = strlen(s);
  if (n > 255) n = 255;
  p[(*at)++] = (uint8_t)n;
  memcpy(p + *at, s, n);
  *at += n;
}

static void on_hello(const response_t *r, const hil_frame_t *f) {
  if (!check_len(r, "HELLO", f->len, HIL_HELLO_REQ_BYTES)) return;
  uint16_t version = hil_get_u16(f->payload + HIL_HELLO_REQ_PROTOCOL_VERSION);
  if (version != HIL_PROTOCOL_VERSION) {
    text_t t = error_text();
    text_add(&t, "HELLO: protocol version ");
    text_u32(&t, version);
    text_add(&t, " is not supported, this firmware speaks version " HIL_PROTOCOL_VERSION_TEXT);
    send_error_text(r, HIL_ERR_VERSION);
    return;
  }
  uint8_t *p = reply_payload;
  memset(p, 0, HIL_HELLO_REPLY_FIXED_BYTES); /* reserved bytes */
  hil_put_u16(p + HIL_HELLO_REPLY_PROTOCOL_VERSION, HIL_PROTOCOL_VERSION);
  hil_put_u16(p + HIL_HELLO_REPLY_MAX_PAYLOAD, HIL_MAX_PAYLOAD);
  hil_put_u32(p + HIL_HELLO_REPLY_RX_CREDIT_BYTES, HIL_RX_CREDIT_BYTES);
  hil_put_u32(p + HIL_HELLO_REPLY_MODEL_PARTITION_BYTES, S.partition_bytes);
  hil_put_u32(p + HIL_HELLO_REPLY_ARENA_CAPACITY_BYTES, S.arena_bytes);
  hil_put_u32(p + HIL_HELLO_REPLY_CLOCK_HZ, hil_port_clock_hz());
  p[HIL_HELLO_REPLY_LATENCY_KIND] = hil_port_latency_kind();
  size_t at = HIL_HELLO_REPLY_FIRMWARE_NAME; /* then the other str8 fields, in order */
  put_str8(p, &at, HIL_FW_NAME);
  put_str8(p, &at, HIL_FW_VERSION);
  put_str8(p, &at, hil_port_board_name());
  put_str8(p, &at, hil_port_build_id());
  reply(r, (uint16_t)at);
}

static void on_config(const response_t *r, const hil_frame_t *f) {
  if (!check_len(r, "CONFIG", f->len, HIL_CONFIG_REQ_BYTES)) return;
  hil_cost_params_t c;
  c.macs_per_cycle = hil_get_u32(f->payload + HIL_CONFIG_REQ_MACS_PER_CYCLE);
  c.weight_bytes_per_cycle = hil_get_u32(f->payload + HIL_CONFIG_REQ_WEIGHT_BYTES_PER_CYCLE);
  c.elements_per_cycle = hil_get_u32(f->payload + HIL_CONFIG_REQ_ELEMENTS_PER_CYCLE);
  c.op_overhead_cycles = hil_get_u32(f->payload + HIL_CONFIG_REQ_OP_OVERHEAD_CYCLES);
  c.frontend_cycles = hil_get_u32(f->payload + HIL_CONFIG_REQ_FRONTEND_CYCLES);
  /* These divide in the cost model. */
  if (!c.macs_per_cycle || !c.weight_bytes_per_cycle || !c.elements_per_cycle) {
    send_error(r, HIL_ERR_BAD_REQUEST, "CONFIG: macs_per_cycle, weight_bytes_per_cycle and elements_per_cycle must be > 0");
    return;
  }
  S.cost = c;
  S.has_cost = 1;
  if (S.model_active) hil_model_set_cost(&S.model, &S.cost);
  reply(r, HIL_CONFIG_REPLY_BYTES);
}

static void partition_too_small(const response_t *r, const char *what, uint32_t size) {
  text_t t = error_text();
  text_add(&t, what);
  text_add(&t, ": the model is ");
  text_u32(&t, size);
  text_add(&t, " bytes, the model partition holds ");
  text_u32(&t, S.partition_bytes);
  send_error_text(r, HIL_ERR_TOO_LARGE);
}

static void on_model_begin(const response_t *r, const hil_frame_t *f) {
  if (!check_len(r, "MODEL_BEGIN", f->len, HIL_MODEL_BEGIN_REQ_BYTES)) return;
  uint32_t size = hil_get_u32(f->payload + HIL_MODEL_BEGIN_REQ_SIZE);
  if (size == 0) {
    send_error(r, HIL_ERR_BAD_REQUEST, "MODEL_BEGIN: size is 0");
    return;
  }
  if (size > S.partition_bytes) {
    partition_too_small(r, "MODEL_BEGIN", size);
    return;
  }
  /* The partition is about to be overwritten: the model that lives in it is gone. */
  S.model_active = 0;
  S.uploading = 1;
  S.upload_size = size;
  S.upload_received = 0;
  reply(r, HIL_MODEL_BEGIN_REPLY_BYTES);
}

static void on_model_chunk(const response_t *r, const hil_frame_t *f) {
  if (f->len < HIL_MODEL_CHUNK_REQ_FIXED_BYTES) {
    check_len(r, "MODEL_CHUNK", f->len, HIL_MODEL_CHUNK_REQ_FIXED_BYTES);
    return;
  }
  if (!S.uploading) {
    send_error(r, HIL_ERR_BAD_STATE, "MODEL_CHUNK: no upload in progress (send MODEL_BEGIN first)");
    return;
  }
  uint32_t offset = hil_get_u32(f->payload + HIL_MODEL_CHUNK_REQ_OFFSET), n = f->len - HIL_MODEL_CHUNK_REQ_FIXED_BYTES;
  if (offset != S.upload_received) {
    text_t t = error_text();
    text_add(&t, "MODEL_CHUNK: chunk at offset ");
    text_u32(&t, offset);
    text_add(&t, ", expected offset ");
    text_u32(&t, S.upload_received);
    send_error_text(r, HIL_ERR_OUT_OF_ORDER);
    return;
  }
  if (n > S.upload_size - offset) {
    text_t t = error_text();
    text_add(&t, "MODEL_CHUNK: chunk ends at byte ");
    text_u32(&t, offset + n);
    text_add(&t, ", past the size ");
    text_u32(&t, S.upload_size);
    text_add(&t, " given in MODEL_BEGIN");
    send_error_text(r, HIL_ERR_BAD_REQUEST);
    return;
  }
  memcpy(S.partition + offset, f->payload + HIL_MODEL_CHUNK_REQ_DATA, n);
  S.upload_received = offset + n;
  hil_put_u32(reply_payload + HIL_MODEL_CHUNK_REPLY_BYTES_RECEIVED, S.upload_received);
  reply(r, HIL_MODEL_CHUNK_REPLY_BYTES);
}

static void on_model_activate(const response_t *r, const hil_frame_t *f) {
  if (!check_len(r, "MODEL_ACTIVATE", f->len, HIL_MODEL_ACTIVATE_REQ_BYTES)) return;
  uint32_t size = hil_get_u32(f->payload + HIL_MODEL_ACTIVATE_REQ_SIZE), crc = hil_get_u32(f->payload + HIL_MODEL_ACTIVATE_REQ_CRC32);
  if (size > S.partition_bytes) {
    partition_too_small(r, "MODEL_ACTIVATE", size);
    return;
  }
  if (S.uploading && S.upload_received != size) {
    text_t t = error_text();
    text_add(&t, "MODEL_ACTIVATE: ");
    text_u32(&t, size);
    text_add(&t, " bytes asked, but the upload holds ");
    text_u32(&t, S.upload_received);
    text_add(&t, " of the ");
    text_u32(&t, S.upload_size);
    text_add(&t, " announced");
    send_error_text(r, HIL_ERR_BAD_STATE);
    return;
  }
  S.model_active = 0;
  uint32_t have = hil_crc32(0, S.partition, size);
  if (have != crc) {
    text_t t = error_text();
    text_add(&t, "MODEL_ACTIVATE: the partition's first ");
    text_u32(&t, size);
    text_add(&t, " bytes have CRC-32 ");
    text_hex32(&t, have);
    text_add(&t, ", the host expects ");
    text_hex32(&t, crc);
    send_error_text(r, HIL_ERR_MODEL_INVALID);
    return;
  }
  text_t t = error_text();
  int code = hil_model_load(&S.model, S.partition, size, S.arena, S.arena_bytes, t.p, (uint32_t)t.left);
  if (code != 0) {
    send_error_text(r, (uint16_t)code);
    return;
  }
  if (S.has_cost) hil_model_set_cost(&S.model, &S.cost);
  /* The graph alone is timed with the same clock as the frame; a modelled port reports the cost model's
   * network figure instead. */
  if (hil_port_latency_kind() != HIL_LATENCY_MODELLED) hil_model_set_clock(&S.model, hil_port_latency_now);
  S.model_active = 1;
  S.uploading = 0;
  uint8_t *p = reply_payload;
  hil_put_u32(p + HIL_MODEL_ACTIVATE_REPLY_BLOB_BYTES, S.model.blob_bytes);
  hil_put_u32(p + HIL_MODEL_ACTIVATE_REPLY_ARENA_BYTES, S.model.arena_bytes);
  hil_put_u16(p + HIL_MODEL_ACTIVATE_REPLY_N_TENSORS, S.model.n_tensors);
  hil_put_u16(p + HIL_MODEL_ACTIVATE_REPLY_N_OPS, S.model.n_ops);
  hil_put_u16(p + HIL_MODEL_ACTIVATE_REPLY_N_FFT, S.model.n_fft);
  hil_put_u16(p + HIL_MODEL_ACTIVATE_REPLY_HOP, S.model.hop);
  hil_put_u32(p + HIL_MODEL_ACTIVATE_REPLY_MODEL_ID, S.model.model_id);
  reply(r, HIL_MODEL_ACTIVATE_REPLY_BYTES);
}

static int need_model(const response_t *r, const char *what) {
  if (S.model_active) return 1;
  text_t t = error_text();
  text_add(&t, what);
  text_add(&t, ": no active model (send MODEL_ACTIVATE first)");
  send_error_text(r, HIL_ERR_BAD_STATE);
  return 0;
}

static void on_stream_reset(const response_t *r, const hil_frame_t *f) {
  if (!check_len(r, "STREAM_RESET", f->len, HIL_STREAM_RESET_REQ_BYTES) || !need_model(r, "STREAM_RESET")) return;
  hil_model_reset_stream(&S.model);
  reply(r, HIL_STREAM_RESET_REPLY_BYTES);
}

/* One frame's figures, as every frame reply carries them. */
typedef struct {
  hil_frame_counters_t c;
  uint64_t latency, network;
} frame_figures_t;

/* Runs the active model on pcm_in into pcm_out, timed, and counts it. */
static void run_timed(frame_figures_t *o) {
  memset(&o->c, 0, sizeof o->c);
  uint64_t t0 = hil_port_latency_now();
  hil_model_run_frame(&S.model, pcm_in, pcm_out, &o->c);
  uint64_t t1 = hil_port_latency_now();
  S.frames_run++;
  const int modelled = hil_port_latency_kind() == HIL_LATENCY_MODELLED;
  o->latency = modelled ? o->c.modelled_cycles : t1 - t0;
  o->network = modelled ? o->c.network_modelled_cycles : o->c.network_clock;
}

/* Runs the active model on pcm_in into pcm_out and writes the reply's fixed part (the layouts of RUN_FRAME,
 * RUN_FRAME_CRC and RUN_PRELOADED replies agree up to network_latency; hil_protocol.h has them all). */
static void run_and_count(uint32_t index) {
  frame_figures_t f;
  run_timed(&f);
  uint8_t *p = reply_payload;
  memset(p, 0, HIL_RUN_FRAME_REPLY_FIXED_BYTES); /* reserved bytes */
  hil_put_u32(p + HIL_RUN_FRAME_REPLY_FRAME_INDEX, index);
  hil_put_u64(p + HIL_RUN_FRAME_REPLY_LATENCY, f.latency);
  hil_put_u32(p + HIL_RUN_FRAME_REPLY_MODELLED_CYCLES, f.c.modelled_cycles);
  hil_put_u32(p + HIL_RUN_FRAME_REPLY_MACS, f.c.macs);
  hil_put_u32(p + HIL_RUN_FRAME_REPLY_WEIGHT_BYTES, f.c.weight_bytes);
  hil_put_u32(p + HIL_RUN_FRAME_REPLY_ELEMENTS, f.c.elements);
  hil_put_u16(p + HIL_RUN_FRAME_REPLY_OPS, f.c.ops);
  hil_put_u64(p + HIL_RUN_FRAME_REPLY_NETWORK_LATENCY, f.network);
}

/* The checks every frame request shares; returns the model's hop, or 0 after sending the error. */
static uint16_t frame_hop(const response_t *r, const char *what) {
  if (!need_model(r, what)) return 0;
  uint16_t hop = S.model.hop;
  if (hop > HIL_MAX_HOP) { /* the loader allows 128 and 256 only; this guards the static buffers */
    send_error(r, HIL_ERR_MODEL_INVALID, "RUN_FRAME: the active model's hop is larger than this firmware supports");
    return 0;
  }
  return hop;
}

/* The output hop's CRC-32 over its int16 samples, little-endian: what the host computes of its own
 * engine's output (docs/protocol.md §3, "RUN_FRAME_CRC"). */
/* Not inlined: its little-endian copy of the hop then never shares a stack frame with the model's run, so
 * the stack high-water mark does not depend on which handler ran the frame. */
static __attribute__((noinline)) uint32_t output_crc(uint16_t hop) {
  uint8_t le[2 * HIL_MAX_HOP];
  for (uint16_t i = 0; i < hop; i++) hil_put_u16(le + 2 * i, (uint16_t)pcm_out[i]);
  return hil_crc32(0, le, 2u * hop);
}

static void reply_with_crc(const response_t *r, uint16_t hop) {
  hil_put_u32(reply_payload + HIL_RUN_FRAME_CRC_REPLY_OUTPUT_CRC32, output_crc(hop));
  reply(r, HIL_RUN_FRAME_CRC_REPLY_BYTES);
}

static void on_run_frame(const response_t *r, const hil_frame_t *f) {
  const int crc = f->type == HIL_MSG_RUN_FRAME_CRC;
  const char *what = crc ? "RUN_FRAME_CRC" : "RUN_FRAME";
  uint16_t hop = frame_hop(r, what);
  if (!hop || !check_len(r, what, f->len, HIL_RUN_FRAME_REQ_FIXED_BYTES + 2u * hop)) return;
  uint32_t index = hil_get_u32(f->payload + HIL_RUN_FRAME_REQ_FRAME_INDEX);
  for (uint16_t i = 0; i < hop; i++) pcm_in[i] = (int16_t)hil_get_u16(f->payload + HIL_RUN_FRAME_REQ_SAMPLES + 2 * i);
  run_and_count(index);
  if (crc) {
    reply_with_crc(r, hop);
    return;
  }
  for (uint16_t i = 0; i < hop; i++) hil_put_u16(reply_payload + HIL_RUN_FRAME_REPLY_SAMPLES + 2 * i, (uint16_t)pcm_out[i]);
  reply(r, (uint16_t)(HIL_RUN_FRAME_REPLY_FIXED_BYTES + 2u * hop));
}

/* The audio partition, or NULL after the error for a port without one. */
static const uint8_t *audio_partition(const response_t *r, const char *what, uint32_t *bytes) {
  *bytes = 0;
  const uint8_t *audio = hil_port_audio_partition(bytes);
  if (audio && *bytes) return audio;
  text_t t = error_text();
  text_add(&t, what);
  text_add(&t, ": this port has no audio partition (stream the samples with RUN_FRAME)");
  send_error_text(r, HIL_ERR_BAD_STATE);
  return NULL;
}

/* Whether `frames` hops from byte `offset` lie inside the partition; else the error is sent. */
static int audio_fits(const response_t *r, const char *what, uint32_t offset, uint32_t frames, uint16_t hop, uint32_t bytes) {
  if (offset <= bytes && (bytes - offset) / (2u * hop) >= frames) return 1;
  text_t t = error_text();
  text_add(&t, what);
  text_add(&t, ": input_offset ");
  text_u32(&t, offset);
  text_add(&t, " plus ");
  text_u32(&t, frames);
  text_add(&t, " hop(s) runs past the ");
  text_u32(&t, bytes);
  text_add(&t, "-byte audio partition");
  send_error_text(r, HIL_ERR_BAD_REQUEST);
  return 0;
}

/* A RUN_PRELOADED reply is its frame_index followed by a PRELOADED_FRAME record: one writer serves both. */
typedef char preloaded_reply_is_index_then_record[(HIL_RUN_PRELOADED_REPLY_LATENCY == 4u &&
                                                   HIL_RUN_PRELOADED_REPLY_BYTES == 4u + HIL_PRELOADED_FRAME_BYTES &&
                                                   HIL_RUN_PRELOADED_REPLY_OUTPUT_CRC32 == 4u + HIL_PRELOADED_FRAME_OUTPUT_CRC32)
                                                      ? 1
                                                      : -1];

/* Runs the hop at `in` (int16 little-endian) and writes its PRELOADED_FRAME record at `rec`. Not inlined,
 * so RUN_PRELOADED and RUN_PRELOADED_BATCH run the model at the same stack depth and report the same
 * stack high-water mark. */
static __attribute__((noinline)) void run_preloaded_frame(const uint8_t *in, uint16_t hop, uint8_t *rec) {
  for (uint16_t i = 0; i < hop; i++) pcm_in[i] = (int16_t)hil_get_u16(in + 2 * i);
  frame_figures_t g;
  run_timed(&g);
  memset(rec, 0, HIL_PRELOADED_FRAME_BYTES); /* reserved bytes */
  hil_put_u64(rec + HIL_PRELOADED_FRAME_LATENCY, g.latency);
  hil_put_u32(rec + HIL_PRELOADED_FRAME_MODELLED_CYCLES, g.c.modelled_cycles);
  hil_put_u32(rec + HIL_PRELOADED_FRAME_MACS, g.c.macs);
  hil_put_u32(rec + HIL_PRELOADED_FRAME_WEIGHT_BYTES, g.c.weight_bytes);
  hil_put_u32(rec + HIL_PRELOADED_FRAME_ELEMENTS, g.c.elements);
  hil_put_u16(rec + HIL_PRELOADED_FRAME_OPS, g.c.ops);
  hil_put_u64(rec + HIL_PRELOADED_FRAME_NETWORK_LATENCY, g.network);
  hil_put_u32(rec + HIL_PRELOADED_FRAME_OUTPUT_CRC32, output_crc(hop));
}

static void on_run_preloaded(const response_t *r, const hil_frame_t *f) {
  uint16_t hop = frame_hop(r, "RUN_PRELOADED");
  if (!hop || !check_len(r, "RUN_PRELOADED", f->len, HIL_RUN_PRELOADED_REQ_BYTES)) return;
  uint32_t bytes;
  const uint8_t *audio = audio_partition(r, "RUN_PRELOADED", &bytes);
  if (!audio) return;
  uint32_t index = hil_get_u32(f->payload + HIL_RUN_PRELOADED_REQ_FRAME_INDEX);
  uint32_t offset = hil_get_u32(f->payload + HIL_RUN_PRELOADED_REQ_INPUT_OFFSET);
  if (!audio_fits(r, "RUN_PRELOADED", offset, 1, hop, bytes)) return;
  hil_put_u32(reply_payload + HIL_RUN_PRELOADED_REPLY_FRAME_INDEX, index);
  run_preloaded_frame(audio + offset, hop, reply_payload + HIL_RUN_PRELOADED_REPLY_LATENCY);
  reply(r, HIL_RUN_PRELOADED_REPLY_BYTES);
}
/* The most frames whose records fit one reply. */
#define BATCH_MAX_FRAMES ((HIL_MAX_PAYLOAD - HIL_RUN_PRELOADED_BATCH_REPLY_FIXED_BYTES) / HIL_PRELOADED_FRAME_BYTES)

/* n_frames RUN_PRELOADED in one request: everything is checked before the first frame runs, so a refused
 * batch leaves the stream where it was, and an accepted one advances it exactly as n single requests. */
static void on_run_preloaded_batch(const response_t *r, const hil_frame_t *f) {
  const char *what = "RUN_PRELOADED_BATCH";
  uint16_t hop = frame_hop(r, what);
  if (!hop || !check_len(r, what, f->len, HIL_RUN_PRELOADED_BATCH_REQ_BYTES)) return;
  uint32_t bytes;
  const uint8_t *audio = audio_partition(r, what, &bytes);
  if (!audio) return;
  uint32_t first = hil_get_u32(f->payload + HIL_RUN_PRELOADED_BATCH_REQ_FIRST_FRAME_INDEX);
  uint32_t offset = hil_get_u32(f->payload + HIL_RUN_PRELOADED_BATCH_REQ_INPUT_OFFSET);
  uint16_t n = hil_get_u16(f->payload + HIL_RUN_PRELOADED_BATCH_REQ_N_FRAMES);
  if (n == 0 || n > BATCH_MAX_FRAMES) {
    text_t t = error_text();
    text_add(&t, "RUN_PRELOADED_BATCH: n_frames ");
    text_u32(&t, n);
    text_add(&t, " is not within 1..");
    text_u32(&t, BATCH_MAX_FRAMES);
    text_add(&t, " (the records of a reply must fit max_payload)");
    send_error_text(r, HIL_ERR_BAD_REQUEST);
    return;
  }
  if (!audio_fits(r, what, offset, n, hop, bytes)) return;
  uint8_t *p = reply_payload;
  memset(p, 0, HIL_RUN_PRELOADED_BATCH_REPLY_FIXED_BYTES); /* reserved bytes */
  hil_put_u32(p + HIL_RUN_PRELOADED_BATCH_REPLY_FIRST_FRAME_INDEX, first);
  hil_put_u16(p + HIL_RUN_PRELOADED_BATCH_REPLY_N_FRAMES, n);
  for (uint16_t k = 0; k < n; k++) {
    run_preloaded_frame(audio + offset + 2u * hop * k, hop,
                        p + HIL_RUN_PRELOADED_BATCH_REPLY_RECORDS + (uint32_t)k * HIL_PRELOADED_FRAME_BYTES);
  }
  reply(r, (uint16_t)(HIL_RUN_PRELOADED_BATCH_REPLY_FIXED_BYTES + (uint32_t)n * HIL_PRELOADED_FRAME_BYTES));
}

static void on_get_stats(const response_t *r, const hil_frame_t *f) {
  if (!check_len(r, "GET_STATS", f->len, HIL_GET_STATS_REQ_BYTES)) return;
  hil_port_memory_t m;
  memset(&m, 0, sizeof m);
  hil_port_memory(&m);
  uint8_t *p = reply_payload;
  hil_put_u32(p + HIL_GET_STATS_REPLY_IMAGE_FLASH_BYTES, m.image_flash_bytes);
  hil_put_u32(p + HIL_GET_STATS_REPLY_MODEL_FLASH_BYTES, S.model_active ? S.model.blob_bytes : 0);
  hil_put_u32(p + HIL_GET_STATS_REPLY_STATIC_SRAM_BYTES, m.static_sram_bytes);
  hil_put_u32(p + HIL_GET_STATS_REPLY_ARENA_BYTES, S.model_active ? S.model.arena_bytes : 0);
  hil_put_u32(p + HIL_GET_STATS_REPLY_STACK_HIGH_WATER_BYTES, m.stack_high_water_bytes);
  hil_put_u32(p + HIL_GET_STATS_REPLY_STACK_SIZE_BYTES, m.stack_size_bytes);
  hil_put_u32(p + HIL_GET_STATS_REPLY_FRAMES_RUN, S.frames_run);
  reply(r, HIL_GET_STATS_REPLY_BYTES);
}

static void on_reset(const response_t *r, const hil_frame_t *f) {
  if (!check_len(r, "RESET", f->len, HIL_RESET_REQ_BYTES)) return;
  reply(r, HIL_RESET_REPLY_BYTES);
  S.reset_requested = 1;
}

static void execute(const response_t *r, const hil_frame_t *f) {
  switch (f->type) {
    case HIL_MSG_HELLO: on_hello(r, f); break;
    case HIL_MSG_CONFIG: on_config(r, f); break;
    case HIL_MSG_MODEL_BEGIN: on_model_begin(r, f); break;
    case HIL_MSG_MODEL_CHUNK: on_model_chunk(r, f); break;
    case HIL_MSG_MODEL_ACTIVATE: on_model_activate(r, f); break;
    case HIL_MSG_STREAM_RESET: on_stream_reset(r, f); break;
    case HIL_MSG_RUN_FRAME:
    case HIL_MSG_RUN_FRAME_CRC: on_run_frame(r, f); break;
    case HIL_MSG_RUN_PRELOADED: on_run_preloaded(r, f); break;
    case HIL_MSG_RUN_PRELOADED_BATCH: on_run_preloaded_batch(r, f); break;
    case HIL_MSG_GET_STATS: on_get_stats(r, f); break;
    case HIL_MSG_RESET: on_reset(r, f); break;
    default: {
      text_t t = error_text();
      text_add(&t, "unknown message type ");
      text_hex32(&t, f->type);
      send_error_text(r, HIL_ERR_UNKNOWN_TYPE);
    }
  }
}

static uint16_t next_seq(uint16_t seq) { return seq == 0xFFFFu ? 1u : (uint16_t)(seq + 1u); }

static void forget_requests(void) {
  for (unsigned i = 0; i < HIL_DUP_WINDOW; i++) S.dup[i].valid = 0;
  S.dup_next = 0;
}

static void on_frame(const hil_frame_t *f) {
  if (f->type == HIL_MSG_HELLO) {
    /* HELLO starts a session: always executed, never remembered, and the sequence restarts after it. */
    forget_requests();
    S.seq_known = 1;
    S.last_seq = f->seq;
    response_t r = {f->type, f->seq, NULL};
    execute(&r, f);
    return;
  }
  for (unsigned i = 0; i < HIL_DUP_WINDOW; i++) {
    remembered_t *d = &S.dup[i];
    if (d->valid && d->seq == f->seq && d->type == f->type) {
      hil_port_write(d->wire, d->wire_len);
      return;
    }
  }
  /* Executing a request whose predecessor was lost would reorder the stream; dropping it lets the
   * host's retransmissions arrive in order. */
  if (S.seq_known && f->seq != next_seq(S.last_seq)) {
    send_log(HIL_LOG_WARN, "dropped a request that arrived out of sequence (its predecessor was lost)");
    return;
  }
  S.seq_known = 1;
  S.last_seq = f->seq;
  remembered_t *slot = &S.dup[S.dup_next];
  S.dup_next = (S.dup_next + 1u) % HIL_DUP_WINDOW;
  slot->valid = 0;
  response_t r = {f->type, f->seq, slot};
  execute(&r, f);
}

static const char *const drop_reason[] = {
  "", "dropped a chunk that is not valid COBS", "dropped a frame shorter than 10 bytes",
  "dropped a frame whose len field disagrees with its length", "dropped a frame with a bad CRC",
};

static void on_chunk(uint8_t *chunk, size_t n) {
  hil_frame_t f;
  int why = hil_frame_decode(chunk, n, &f);
  if (why != HIL_FRAME_OK) {
    send_log(HIL_LOG_WARN, drop_reason[why]);
    return;
  }
  on_frame(&f);
}

static int is_wake_line(const uint8_t *p, size_t n) {
  return (n == 5 && memcmp(p, "HIL?\n", 5) == 0) || (n == 6 && memcmp(p, "HIL?\r\n", 6) == 0);
}

static void boot(void) {
  memset(&S, 0, sizeof S);
  S.partition = hil_port_model_partition(&S.partition_bytes);
  S.arena = hil_port_arena(&S.arena_bytes);
  send_banner();
}

int hil_serve(void) {
  boot();
  size_t n = 0;
  int overflow = 0;
  uint8_t b;
  while (hil_port_read_byte(&b)) {
    if (b == 0) {
      if (n && !overflow) on_chunk(rx_chunk, n);
      else if (overflow) send_log(HIL_LOG_WARN, "dropped a chunk longer than the largest frame");
      n = 0;
      overflow = 0;
    } else if (n < sizeof rx_chunk) {
      rx_chunk[n++] = b;
      /* The wake line is answered at its newline, not at the next delimiter, which may never come.
       * No frame starts with these bytes (type 0x49 does not exist), so this never eats a frame. */
      if (b == '\n' && is_wake_line(rx_chunk, n)) {
        send_banner();
        n = 0;
      }
    } else {
      overflow = 1;
    }
    if (S.reset_requested) {
      hil_port_reset();
      /* A port whose reset returns (the host port) restarts the core in place. */
      boot();
      n = 0;
      overflow = 0;
    }
  }
  return 0;
}
