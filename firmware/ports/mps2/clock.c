#include "clock.h"
#include "mps2.h"
#include "hil_protocol.h"

#define TIMER_TOP 0xFFFFFFFFu
static uint64_t g_emulated; /* instructions counted by clock_now() so far */

void clock_init(void) {
  TIMER0_CTRL = 0;
  TIMER0_RELOAD = TIMER_TOP;
  TIMER0_VALUE = TIMER_TOP;
  TIMER0_CTRL = TIMER_CTRL_EN;
}

uint8_t clock_kind(void) { return HIL_LATENCY_EMULATED; }

/* The timer wraps after 2^32 ticks (171 s at 25 MHz, 214 s at 20 MHz), far longer than anything timed between reads. */
uint64_t clock_ticks(void) { return (uint64_t)(TIMER_TOP - TIMER0_VALUE); }

uint64_t clock_now(void) {
  /* Restart the timer at every read (as the Corstone-300 port restarts its counter), so that each
   * interval is timed from the instruction that restarted it rather than from wherever the 40 (50) ns tick
   * grid happens to fall after a WFI; each interval is converted on its own. */
  const uint64_t ticks = clock_ticks();
  TIMER0_VALUE = TIMER_TOP;
  g_emulated += ticks * (1000000000u / MPS2_SYSCLK_HZ);
  return g_emulated;
}
