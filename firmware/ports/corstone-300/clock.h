/* The latency clock of the Corstone-300 port. */
#ifndef CS300_CLOCK_H
#define CS300_CLOCK_H

#include <stdint.h>

/* Starts the system counter and probes the DWT cycle counter. On silicon the DWT counts core cycles:
 * latency is `measured` (kind 0). Emulators leave it at 0, and the latency is the emulated instruction
 * count from the system counter (kind 1): under QEMU's `-icount shift=0` one instruction takes 1 ns of
 * virtual time, and the 32 MHz counter ticks every 31.25 ns, so instructions = ticks * 125 / 4, to one
 * tick (31 instructions) and, since clock_now() restarts the counter, the same on every run. */
void clock_init(void);
/* HIL_LATENCY_MEASURED (DWT cycles) or HIL_LATENCY_EMULATED (instructions): docs/protocol.md's latency_kind. */
uint8_t clock_kind(void);
uint64_t clock_now(void);
/* The raw 32 MHz system counter (since the last clock_now() in emulated mode). */
uint64_t clock_ticks(void);

#endif
