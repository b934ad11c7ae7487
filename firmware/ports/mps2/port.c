/* hil_port_* for the MPS2 machines (Cortex-M4 on AN386, Cortex-M7 on AN500) under QEMU. */
#include <stdio.h>
#include "hil_port.h"
#include "clock.h"
#include "mps2.h"
#include "startup.h"
#include "uart.h"

#ifndef HIL_BUILD_ID
#define HIL_BUILD_ID "unknown"
#endif
#ifndef MPS2_BOARD_NAME
#error "port.mk names the board: -DMPS2_BOARD_NAME"
#endif

int hil_port_read_byte(uint8_t *byte) {
  *byte = uart_read_byte();
  return 1; /* a UART never closes */
}

void hil_port_write(const uint8_t *data, size_t len) { uart_write(data, len); }

uint64_t hil_port_latency_now(void) { return clock_now(); }
uint8_t hil_port_latency_kind(void) { return clock_kind(); }
uint32_t hil_port_clock_hz(void) { return MPS2_SYSCLK_HZ; }

const char *hil_port_board_name(void) { return MPS2_BOARD_NAME; }
const char *hil_port_build_id(void) { return HIL_BUILD_ID; }

uint8_t *hil_port_model_partition(uint32_t *size_bytes) {
  *size_bytes = (uint32_t)(__model_end - __model_start);
  return __model_start;
}

uint8_t *hil_port_arena(uint32_t *size_bytes) {
  *size_bytes = (uint32_t)(__arena_end - __arena_start);
  return __arena_start;
}

const uint8_t *hil_port_audio_partition(uint32_t *size_bytes) {
  *size_bytes = 0; /* no loader places audio here: clips are streamed */
  return NULL;
}

void hil_port_memory(hil_port_memory_t *out) {
  out->image_flash_bytes = (uint32_t)(__image_end - __image_start);
  out->static_sram_bytes = (uint32_t)((__data_end - __data_start) + (__bss_end - __bss_start));
  out->stack_high_water_bytes = mps2_stack_high_water();
  out->stack_size_bytes = (uint32_t)(__stack_top - __stack_bottom);
}

void hil_port_reset(void) {
  /* Let the reply drain first: wait until the UART has taken the last byte, then for ten bit times. */
  while (UART0_STATE & UART_STATE_TXFULL) {
  }
  const uint64_t t0 = clock_ticks();
  while (clock_ticks() - t0 < (uint64_t)MPS2_SYSCLK_HZ * 20u / UART_BAUD) {
  }
  cpu_barrier();
  SCB_AIRCR = AIRCR_VECTKEY | AIRCR_SYSRESETREQ;
  cpu_barrier();
  for (;;) cpu_wfi();
}

void mps2_fault(const char *what, uint32_t pc, uint32_t cfsr) {
  char line[96];
  snprintf(line, sizeof line, "\nHIL-FAULT %s pc=0x%08lx cfsr=0x%08lx\n", what, (unsigned long)pc,
           (unsigned long)cfsr);
  uart_write_polled(line);
  cpu_irq_disable();
  for (;;) cpu_wfi();
}
