/* The hil firmware on MPS2: bring up the clock and the line, then serve the host. */
#include "hil_port.h"
#include "clock.h"
#include "mps2.h"
#include "uart.h"

int main(void) {
  clock_init();
  uart_init();
  hil_serve();
  for (;;) cpu_wfi();
}
