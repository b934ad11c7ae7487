/* CMSDK APB UART0, wake-only (uart.h). Busy-polling an emulated UART competes with the emulator's I/O
 * thread; waiting in WFI lets QEMU's vCPU sleep instead. */
#include "uart.h"
#include "mps2.h"

void uart_init(void) {
  cpu_irq_disable(); /* for good: interrupts wake WFI but are never taken */
  UART0_CTRL = 0;
  UART0_BAUDDIV = (MPS2_SYSCLK_HZ + UART_BAUD / 2u) / UART_BAUD; /* QEMU ignores the rate */
  UART0_INTSTATUS = UART_INT_TX | UART_INT_RX;
  irq_clear_pending(UART0_RX_IRQn);
  irq_clear_pending(UART0_TX_IRQn);
  irq_enable_line(UART0_RX_IRQn);
  irq_enable_line(UART0_TX_IRQn);
  UART0_CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN | UART_CTRL_RX_INTEN | UART_CTRL_TX_INTEN;
}

uint8_t uart_read_byte(void) {
  for (;;) {
    /* Clear the wake sources before looking, so a byte arriving after the look still wakes the WFI;
     * TX too, since a pending interrupt makes WFI return at once and would spin the emulator's CPU. */
    UART0_INTSTATUS = UART_INT_RX | UART_INT_TX;
    irq_clear_pending(UART0_RX_IRQn);
    irq_clear_pending(UART0_TX_IRQn);
    if (UART0_STATE & UART_STATE_RXFULL) return (uint8_t)UART0_DATA;
    cpu_wfi();
  }
}

static void put_byte(uint8_t b) {
  for (;;) {
    UART0_INTSTATUS = UART_INT_TX;
    irq_clear_pending(UART0_TX_IRQn);
    if (!(UART0_STATE & UART_STATE_TXFULL)) break;
    cpu_wfi(); /* the TX interrupt (buffer drained) wakes us */
  }
  UART0_DATA = b;
}

void uart_write(const uint8_t *data, size_t len) {
  for (size_t i = 0; i < len; i++) put_byte(data[i]);
}

void uart_write_polled(const char *text) {
  UART0_CTRL |= UART_CTRL_TX_EN;
  for (; *text; text++) {
    while (UART0_STATE & UART_STATE_TXFULL) {
    }
    UART0_DATA = (uint8_t)*text;
  }
}
