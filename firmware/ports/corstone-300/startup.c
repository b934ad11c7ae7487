/* Vector table and reset for the Cortex-M55 on Corstone-300. The vector table lives at 0 in ITCM (where
 * the core fetches it at reset, VTOR 0). */
#include <stdint.h>
#include <string.h>
#include "an547.h"
#include "startup.h"

void Reset_Handler(void);
void cs300_reset_c(void) __attribute__((noreturn, used));
void HardFault_Handler(void);
void cs300_hardfault_c(const uint32_t *frame) __attribute__((noreturn, used));
void cs300_default_handler(void);
#define default_handler cs300_default_handler

/* The UART driver defines these when it uses them; otherwise they fall back to the default handler. */
void UART0_RX_Handler(void) __attribute__((weak, alias("cs300_default_handler")));
void UART0_TX_Handler(void) __attribute__((weak, alias("cs300_default_handler")));

#define N_IRQS 128 /* the AN547 uses external interrupts up to 127 */
typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used)) static const vector_t vectors[16 + N_IRQS] = {
    [0] = (vector_t)(uintptr_t)__stack_top,
    [1] = Reset_Handler,
    [2] = default_handler,   /* NMI */
    [3] = HardFault_Handler,
    [4] = default_handler,   /* MemManage */
    [5] = default_handler,   /* BusFault */
    [6] = default_handler,   /* UsageFault */
    [7] = default_handler,   /* SecureFault */
    [11] = default_handler,  /* SVCall */
    [12] = default_handler,  /* DebugMonitor */
    [14] = default_handler,  /* PendSV */
    [15] = default_handler,  /* SysTick */
    [16 + UART0_RX_IRQn] = UART0_RX_Handler,
    [16 + UART0_TX_IRQn] = UART0_TX_Handler,
};

/* The FPU and MVE must be enabled before any C code runs: at -O2 GCC may use Q registers anywhere (even
 * for the .bss loop below), and with CPACR still 0 that is a NOCP UsageFault. Hence plain assembly. */
__attribute__((naked)) void Reset_Handler(void) {
  __asm volatile(
      "ldr r0, =0xE000ED88\n\t" /* CPACR */
      "ldr r1, [r0]\n\t"
      "orr r1, r1, #(0xF << 20)\n\t" /* CP10 and CP11: full access */
      "str r1, [r0]\n\t"
      "dsb\n\t"
      "isb\n\t"
      "b cs300_reset_c\n\t");
}

void cs300_reset_c(void) {
  /* A stack overflow now faults (UsageFault STKOF) instead of overwriting memory. */
  __asm volatile("msr msplim, %0" ::"r"(__stack_bottom));
  memcpy(__data_start, __data_load, (size_t)(__data_end - __data_start));
  memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
  /* Paint the stack below our own frame, for the high-water mark. */
  uint32_t sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  for (volatile uint32_t *p = (volatile uint32_t *)__stack_bottom; (uintptr_t)p < sp - 64u; p++) *p = CS300_STACK_PAINT;
  main();
  cs300_fault("main returned", 0, 0);
}

uint32_t cs300_stack_high_water(void) {
  const uint32_t *p = (const uint32_t *)__stack_bottom;
  const uint32_t *top = (const uint32_t *)__stack_top;
  while (p < top && *p == CS300_STACK_PAINT) p++;
  return (uint32_t)((uintptr_t)top - (uintptr_t)p);
}

/* Find the stacked exception frame (MSP or PSP, from EXC_RETURN bit 2) without touching the stack. */
__attribute__((naked)) void HardFault_Handler(void) {
  __asm volatile(
      "tst lr, #4\n\t"
      "ite eq\n\t"
      "mrseq r0, msp\n\t"
      "mrsne r0, psp\n\t"
      "b cs300_hardfault_c\n\t");
}

void cs300_hardfault_c(const uint32_t *frame) { cs300_fault("hard fault", frame[6], SCB_CFSR); }

void cs300_default_handler(void) {
  uint32_t ipsr;
  __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
  cs300_fault("unexpected exception", ipsr, SCB_CFSR);
}

/* No heap: nothing in these images allocates. newlib-nano's snprintf links in realloc (it can grow a
 * FILE buffer it owns, never a caller's), so the symbol must exist; it reports "out of memory". */
void *_sbrk(int incr) {
  (void)incr;
  return (void *)-1;
}
