/* Vector table and reset for the Cortex-M4/M7/M33 on MPS2. The image sits in ZBT SSRAM1 where the core
 * fetches its vector table at reset (at 0; on the AN505 at its Secure alias 0x10000000, the IoT Kit's
 * INITSVTOR0). The firmware is built for soft-float (the core has no floating
 * point), so nothing needs enabling before C runs. */
#include <stdint.h>
#include <string.h>
#include "mps2.h"
#include "startup.h"

void Reset_Handler(void) __attribute__((noreturn));
void HardFault_Handler(void);
void mps2_hardfault_c(const uint32_t *frame) __attribute__((noreturn, used));
void mps2_default_handler(void);

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used)) static const vector_t vectors[16 + MPS2_N_IRQS] = {
    [0] = (vector_t)(uintptr_t)__stack_top,
    [1] = Reset_Handler,
    [2] = mps2_default_handler, /* NMI */
    [3] = HardFault_Handler,
    [4] = mps2_default_handler, /* MemManage */
    [5] = mps2_default_handler, /* BusFault */
    [6] = mps2_default_handler, /* UsageFault */
    [11] = mps2_default_handler, /* SVCall */
    [12] = mps2_default_handler, /* DebugMonitor */
    [14] = mps2_default_handler, /* PendSV */
    [15] = mps2_default_handler, /* SysTick */
    /* UART interrupts only wake WFI (PRIMASK stays set), so they need no handler of their own. */
    [16 + UART0_RX_IRQn] = mps2_default_handler,
    [16 + UART0_TX_IRQn] = mps2_default_handler,
};

void Reset_Handler(void) {
  memcpy(__data_start, __data_load, (size_t)(__data_end - __data_start));
  memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
  /* Paint the stack below our own frame, for the high-water mark. */
  uint32_t sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  for (volatile uint32_t *p = (volatile uint32_t *)__stack_bottom; (uintptr_t)p < sp - 64u; p++) *p = MPS2_STACK_PAINT;
  main();
  mps2_fault("main returned", 0, 0);
}

uint32_t mps2_stack_high_water(void) {
  const uint32_t *p = (const uint32_t *)__stack_bottom;
  const uint32_t *top = (const uint32_t *)__stack_top;
  while (p < top && *p == MPS2_STACK_PAINT) p++;
  return (uint32_t)((uintptr_t)top - (uintptr_t)p);
}

/* Find the stacked exception frame (MSP or PSP, from EXC_RETURN bit 2) without touching the stack. */
__attribute__((naked)) void HardFault_Handler(void) {
  __asm volatile(
      "tst lr, #4\n\t"
      "ite eq\n\t"
      "mrseq r0, msp\n\t"
      "mrsne r0, psp\n\t"
      "b mps2_hardfault_c\n\t");
}

void mps2_hardfault_c(const uint32_t *frame) { mps2_fault("hard fault", frame[6], SCB_CFSR); }

void mps2_default_handler(void) {
  uint32_t ipsr;
  __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
  mps2_fault("unexpected exception", ipsr, SCB_CFSR);
}

/* No heap: newlib-nano's snprintf links in realloc, so the symbol must exist; it reports "out of memory". */
void *_sbrk(int incr) {
  (void)incr;
  return (void *)-1;
}
