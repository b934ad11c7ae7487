/* The host line on CMSDK UART0 of the MPS2 machines. */
#ifndef MPS2_UART_H
#define MPS2_UART_H

#include <stddef.h>
#include <stdint.h>

/* These boards run only under QEMU, so the UART has one mode, the Corstone-300 port's WAKE mode:
 * interrupts stay masked (PRIMASK) and the RX/TX interrupts only wake the core from WFI; bytes are read
 * straight from the UART. QEMU holds the host's bytes back while the UART's one-byte buffer is full, so
 * nothing is lost, and no handler runs in the middle of a frame: a frame's instruction count does not
 * depend on when the host's next bytes arrive. */
#define UART_BAUD 115200u

void uart_init(void);
/* Blocks (in WFI) until a byte arrives. */
uint8_t uart_read_byte(void);
void uart_write(const uint8_t *data, size_t len);
/* For fault reports: polls, needs no interrupt and no state. */
void uart_write_polled(const char *text);

#endif
