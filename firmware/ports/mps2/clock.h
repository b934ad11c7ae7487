/* The latency clock of the MPS2 port. */
#ifndef MPS2_CLOCK_H
#define MPS2_CLOCK_H

#include <stdint.h>

/* Starts CMSDK timer 0. QEMU models no DWT cycle counter on these machines, and they exist here only
 * under QEMU, so latency is always `emulated`: under `-icount shift=0` one instruction takes 1 ns of
 * virtual time and the timer ticks every 40 ns (25 MHz; 50 ns at the AN505's 20 MHz), so instructions =
 * ticks * 40 (50), to one tick and, since clock_now() restarts the timer, the same on every run. */
void clock_init(void);
uint8_t clock_kind(void);
uint64_t clock_now(void);
/* MPS2_SYSCLK_HZ ticks since clock_init() or the last clock_now() (the timer counts down and is restarted). */
uint64_t clock_ticks(void);

#endif
