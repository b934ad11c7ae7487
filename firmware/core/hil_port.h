/* The port interface: what the portable core needs from a board.
 *
 * One firmware, many ports. The core (framing, dispatcher, model loader, kernels, DSP) is portable C99;
 * a port (firmware/ports/<board>/) supplies I/O, timing, memory regions and its own main(), which calls
 * hil_serve() and never returns. Keep this surface small: every port must implement all of it. */
#ifndef HIL_PORT_H
#define HIL_PORT_H

#include <stdint.h>
#include <stddef.h>

#include "hil_protocol.h" /* HIL_LATENCY_*: the kinds hil_port_latency_kind() returns */

typedef struct {
  uint32_t image_flash_bytes;     /* code + rodata + data load image */
  uint32_t static_sram_bytes;     /* .data + .bss, excluding the model partition and the arena */
  uint32_t stack_high_water_bytes;/* deepest stack use since boot (stack painting) */
  uint32_t stack_size_bytes;
} hil_port_memory_t;

/* Blocking read of one byte from the host line. Returns 1 when a byte was read, 0 when the line is
 * closed for good (the core then returns from hil_serve). May sleep (WFI) while waiting. */
int hil_port_read_byte(uint8_t *byte);
/* Write bytes to the host line; returns when they are queued or sent. */
void hil_port_write(const uint8_t *data, size_t len);

/* The port's latency clock: a free-running counter in the unit of hil_port_latency_kind(). For the
 * modelled kind the core ignores it and reports the cost-model figure instead. */
uint64_t hil_port_latency_now(void);
uint8_t hil_port_latency_kind(void);
uint32_t hil_port_clock_hz(void);

const char *hil_port_board_name(void);
const char *hil_port_build_id(void);

/* The model partition ("flash") and the tensor arena. The partition may be pre-filled by the board's
 * flasher (e.g. QEMU's loader device); the core only writes it on MODEL_CHUNK. */
uint8_t *hil_port_model_partition(uint32_t *size_bytes);
uint8_t *hil_port_arena(uint32_t *size_bytes);
/* Clips placed in memory before boot by the board's loader, for RUN_PRELOADED (docs/protocol.md §3): the
 * partition and its size, or NULL (size 0) on a port without one, where audio is only streamed. */
const uint8_t *hil_port_audio_partition(uint32_t *size_bytes);

void hil_port_memory(hil_port_memory_t *out);

/* Restart the firmware (RESET message). May not return. */
void hil_port_reset(void);

/* The core's entry point, called by the port's main(). Returns only when the line closes. */
int hil_serve(void);

#endif
