#include "clock.h"
#include "an547.h"
#include "hil_protocol.h"

static uint8_t g_kind = HIL_LATENCY_EMULATED;
static uint32_t g_dwt_last, g_dwt_high;
static uint64_t g_emulated; /* instructions counted by clock_now() so far */

static int dwt_counts(void) {
  SCB_DEMCR |= 1u << 24; /* TRCENA: power the DWT */
  DWT_CYCCNT = 0;
  DWT_CTRL |= 1u;        /* CYCCNTENA */
  uint32_t before = DWT_CYCCNT;
  for (volatile int i = 0; i < 32; i++) {
  }
  return DWT_CYCCNT != before;
}

void clock_init(void) {
  SYSCNT_CR = 1u; /* enable */
  g_kind = dwt_counts() ? HIL_LATENCY_MEASURED : HIL_LATENCY_EMULATED;
}

uint8_t clock_kind(void) { return g_kind; }

uint64_t clock_ticks(void) {
  uint32_t hi, lo;
  do {
    hi = SYSCNT_CV_HI;
    lo = SYSCNT_CV_LO;
  } while (SYSCNT_CV_HI != hi);
  return ((uint64_t)hi << 32) | lo;
}

uint64_t clock_now(void) {
  if (g_kind == HIL_LATENCY_MEASURED) {
    /* Extend the 32-bit cycle counter; it wraps every 134 s at 32 MHz, far longer than a frame. */
    uint32_t c = DWT_CYCCNT;
    if (c < g_dwt_last) g_dwt_high++;
    g_dwt_last = c;
    return ((uint64_t)g_dwt_high << 32) | c;
  }
  /* Restart the counter at every read, so that each interval is timed from the instruction that wrote
   * it rather than from wherever the 31.25 ns tick grid happens to fall. (After WFI, virtual time has
   * advanced by a real-time amount, so that phase differs from run to run and a frame would read one
   * tick more or less.) Each interval is converted on its own, dropping its sub-tick remainder: the sum
   * is monotonic, and the difference of two consecutive reads is an exact function of the instructions
   * between them. */
  const uint64_t ticks = clock_ticks();
  SYSCNT_CV_LO = 0;
  SYSCNT_CV_HI = 0;
  g_emulated += ticks * 125u / 4u;
  return g_emulated;
}
