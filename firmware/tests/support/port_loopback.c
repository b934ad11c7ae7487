#include "port_loopback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hil_port.h"

static const uint8_t *script;
static size_t script_len, script_pos;
static uint8_t *out;
static size_t out_len, out_cap;
static uint8_t latency_kind = HIL_LATENCY_MEASURED;
static uint64_t clock_now;
static unsigned resets;
static uint32_t partition_limit, arena_limit;
static uint8_t partition[LOOPBACK_PARTITION_BYTES] __attribute__((aligned(16)));
static uint8_t arena[LOOPBACK_ARENA_BYTES] __attribute__((aligned(16)));

void loopback_script(const uint8_t *bytes, size_t len) {
  script = bytes;
  script_len = len;
  script_pos = 0;
  out_len = 0;
}

const uint8_t *loopback_output(size_t *len) {
  *len = out_len;
  return out;
}

void loopback_set_latency_kind(uint8_t kind) { latency_kind = kind; }
void loopback_limit(uint32_t partition_bytes, uint32_t arena_bytes) {
  partition_limit = partition_bytes;
  arena_limit = arena_bytes;
}
uint8_t *loopback_partition(void) { return partition; }
unsigned loopback_resets(void) { return resets; }

int hil_port_read_byte(uint8_t *byte) {
  if (script_pos >= script_len) return 0;
  *byte = script[script_pos++];
  clock_now += LOOPBACK_CLOCK_STEP;
  return 1;
}

void hil_port_write(const uint8_t *data, size_t len) {
  if (out_len + len > out_cap) {
    out_cap = (out_len + len) * 2 + 4096;
    out = realloc(out, out_cap);
    if (!out) {
      fprintf(stderr, "port_loopback: out of memory\n");
      exit(1);
    }
  }
  memcpy(out + out_len, data, len);
  out_len += len;
}

/* Each reading advances the clock too, so a frame's latency is one step: nonzero and exact. */
uint64_t hil_port_latency_now(void) { return clock_now += LOOPBACK_CLOCK_STEP; }
uint8_t hil_port_latency_kind(void) { return latency_kind; }
uint32_t hil_port_clock_hz(void) { return 1000000u; }
const char *hil_port_board_name(void) { return "loopback"; }
const char *hil_port_build_id(void) { return "test"; }

uint8_t *hil_port_model_partition(uint32_t *size_bytes) {
  *size_bytes = partition_limit ? partition_limit : LOOPBACK_PARTITION_BYTES;
  return partition;
}

uint8_t *hil_port_arena(uint32_t *size_bytes) {
  *size_bytes = arena_limit ? arena_limit : LOOPBACK_ARENA_BYTES;
  return arena;
}

/* None by default, as on a port whose clips are streamed; a test sets one to drive RUN_PRELOADED*. */
static const uint8_t *audio;
static uint32_t audio_bytes;
void loopback_set_audio(const uint8_t *bytes, uint32_t len) {
  audio = bytes;
  audio_bytes = len;
}

const uint8_t *hil_port_audio_partition(uint32_t *size_bytes) {
  *size_bytes = audio_bytes;
  return audio;
}

/* Fixed figures, distinct per field so a test sees each one land in its place; a loopback has no real
 * memory layout to report. */
void hil_port_memory(hil_port_memory_t *m) {
  m->image_flash_bytes = 11111;
  m->static_sram_bytes = 22222;
  m->stack_high_water_bytes = 3333;
  m->stack_size_bytes = 44444;
}

void hil_port_reset(void) { resets++; }
