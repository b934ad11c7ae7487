/* The hil firmware on the Corstone-300: bring up the clock and the line, then serve the host. */
#include "hil_port.h"
#include "an547.h"
#include "clock.h"
#include "uart.h"

int main(void) {
  clock_init();
  /* Emulators get the deterministic wake-only UART; silicon (a counting DWT) needs the RX handler.
   * firmware/bench builds a variant that forces the handler, to test silicon's path under QEMU. */
#ifdef CS300_FORCE_UART_MODE
  uart_init(CS300_FORCE_UART_MODE);
#else
  uart_init(clock_kind() == HIL_LATENCY_EMULATED ? UART_MODE_WAKE : UART_MODE_ISR);
#endif
  hil_serve();
  for (;;) cpu_wfi();
}
