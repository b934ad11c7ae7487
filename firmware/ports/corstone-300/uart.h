/* The host line on CMSDK UART0. */
#ifndef CS300_UART_H
#define CS300_UART_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
  /* Emulators (QEMU): interrupts stay masked (PRIMASK) and the RX/TX interrupts only wake the core from
   * WFI; bytes are read straight from the UART. QEMU's UART holds the host's bytes back while its
   * one-byte buffer is full, so nothing is lost, and no handler ever runs in the middle of a frame: the
   * instruction count of a frame does not depend on when the host's next bytes arrive. */
  UART_MODE_WAKE = 0,
  /* Silicon (MPS3): bytes arrive at the baud rate whether or not the core is busy, and the UART holds
   * one, so the RX handler moves them into a ring buffer as they come. */
  UART_MODE_ISR = 1,
} uart_mode_t;

#define UART_RING_BYTES 2048u /* power of two */
#define UART_BAUD 115200u
#define UART_PCLK_HZ 32000000u /* the AN547's peripheral clock */

void uart_init(uart_mode_t mode);
uart_mode_t uart_mode(void);
/* Blocks (in WFI) until a byte arrives. */
uint8_t uart_read_byte(void);
void uart_write(const uint8_t *data, size_t len);
/* For fault reports: polls, needs no interrupt and no state. */
void uart_write_polled(const char *text);
/* Bytes the ring buffer had to drop (ISR mode); the credit scheme should keep this 0. */
uint32_t uart_overruns(void);

#endif
