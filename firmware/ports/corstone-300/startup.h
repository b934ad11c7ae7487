/* Start-up of every Corstone-300 image (the firmware and the semihosting self-test/bench images). */
#ifndef CS300_STARTUP_H
#define CS300_STARTUP_H

#include <stdint.h>

/* Linker symbols (corstone-300.ld). Declared as arrays so their addresses are the values. */
extern uint8_t __image_start[], __image_end[];
extern uint8_t __data_start[], __data_end[], __data_load[];
extern uint8_t __bss_start[], __bss_end[];
extern uint8_t __stack_bottom[], __stack_top[];
extern uint8_t __arena_start[], __arena_end[];
extern uint8_t __model_start[], __model_end[], __audio_start[], __audio_end[];

#define CS300_STACK_PAINT 0x5AC3A55Au

/* Bytes of stack used since reset: from the top down to the deepest word that is no longer paint. */
uint32_t cs300_stack_high_water(void);

/* Every image supplies this: what to do when the core faults (`what` names the fault, `pc` is the
 * faulting instruction, `cfsr` the configurable fault status). Must not return. */
void cs300_fault(const char *what, uint32_t pc, uint32_t cfsr) __attribute__((noreturn));

int main(void);

#endif
