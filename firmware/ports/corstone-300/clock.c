#include "clock.h"
#include "an547.h"

static uint8_t g_kind = 1;
static uint32_t g_dwt_last, g_dwt_high;

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
  g_kind = dwt_counts() ? 0 : 1;
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
  if (g_kind == 0) {
    /* Extend the 32-bit cycle counter; it wraps every 134 s at 32 MHz, far longer than a frame. */
    uint32_t c = DWT_CYCCNT;
    if (c < g_dwt_last) g_dwt_high++;
    g_dwt_last = c;
    return ((uint64_t)g_dwt_high << 32) | c;
  }
  return clock_ticks() * 125u / 4u;
}
