/* CMSDK APB UART0 driver: receive on the RX interrupt, sleep in WFI while waiting. See uart.h for the
 * two modes. The emulated UART passes one byte per event loop turn, so busy-polling it competes with the
 * emulator's own I/O thread and halves throughput; waiting in WFI lets QEMU's vCPU sleep instead. */
#include "uart.h"
#include "an547.h"

/* The credit the core announces (port.mk) must fit the ring; in WAKE mode the host's bytes wait in the
 * emulator's pty, which holds far more. */
#if defined(HIL_RX_CREDIT_BYTES) && HIL_RX_CREDIT_BYTES >= UART_RING_BYTES
#error "HIL_RX_CREDIT_BYTES must be smaller than the UART ring"
#endif

static uart_mode_t g_mode;
static volatile uint8_t g_ring[UART_RING_BYTES];
static volatile uint32_t g_head, g_tail; /* head: written by the handler; tail: by the reader */
static volatile uint32_t g_overruns;

void uart_init(uart_mode_t mode) {
  g_mode = mode;
  cpu_irq_disable();
  UART0_CTRL = 0;
  /* The host opens the line at UART_BAUD (src/link/transport.ts); the emulators ignore the rate. */
  UART0_BAUDDIV = (UART_PCLK_HZ + UART_BAUD / 2u) / UART_BAUD;
  UART0_INTSTATUS = UART_INT_TX | UART_INT_RX;
  irq_clear_pending(UART0_RX_IRQn);
  irq_clear_pending(UART0_TX_IRQn);
  irq_enable_line(UART0_RX_IRQn);
  if (mode == UART_MODE_WAKE) {
    irq_enable_line(UART0_TX_IRQn);
    UART0_CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN | UART_CTRL_RX_INTEN | UART_CTRL_TX_INTEN;
    /* PRIMASK stays set for good: interrupts wake WFI but are never taken. */
  } else {
    UART0_CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN | UART_CTRL_RX_INTEN;
    cpu_irq_enable();
  }
}

uart_mode_t uart_mode(void) { return g_mode; }

uint32_t uart_overruns(void) { return g_overruns; }

void UART0_RX_Handler(void) {
  /* Acknowledge first: a byte that lands after the last look below raises the interrupt again. */
  UART0_INTSTATUS = UART_INT_RX;
  while (UART0_STATE & UART_STATE_RXFULL) {
    uint8_t b = (uint8_t)UART0_DATA;
    uint32_t next = (g_head + 1u) & (UART_RING_BYTES - 1u);
    if (next == g_tail) {
      g_overruns++;
    } else {
      g_ring[g_head] = b;
      g_head = next;
    }
  }
}

static uint8_t read_wake(void) {
  for (;;) {
    /* Clear the wake sources before looking, so a byte arriving after the look still wakes the WFI
     * (its interrupt becomes pending again). TX too: the last byte sent leaves its interrupt pending,
     * and a pending interrupt makes WFI return at once, which would spin the emulator's CPU. */
    UART0_INTSTATUS = UART_INT_RX | UART_INT_TX;
    irq_clear_pending(UART0_RX_IRQn);
    irq_clear_pending(UART0_TX_IRQn);
    if (UART0_STATE & UART_STATE_RXFULL) return (uint8_t)UART0_DATA;
    cpu_wfi();
  }
}

static uint8_t read_isr(void) {
  for (;;) {
    cpu_irq_disable();
    if (g_tail != g_head) {
      uint8_t b = g_ring[g_tail];
      g_tail = (g_tail + 1u) & (UART_RING_BYTES - 1u);
      cpu_irq_enable();
      return b;
    }
    cpu_wfi(); /* with PRIMASK set: the RX interrupt wakes us, then is taken right after cpsie */
    cpu_irq_enable();
  }
}

uint8_t uart_read_byte(void) { return g_mode == UART_MODE_WAKE ? read_wake() : read_isr(); }

static void put_byte(uint8_t b) {
  if (g_mode == UART_MODE_WAKE) {
    for (;;) {
      UART0_INTSTATUS = UART_INT_TX;
      irq_clear_pending(UART0_TX_IRQn);
      if (!(UART0_STATE & UART_STATE_TXFULL)) break;
      cpu_wfi(); /* the TX interrupt (buffer drained) wakes us */
    }
  } else {
    while (UART0_STATE & UART_STATE_TXFULL) {
    }
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
