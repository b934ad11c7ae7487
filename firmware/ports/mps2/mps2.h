/* Registers of the MPS2 FPGA images this port runs on, as QEMU 7.2's machines model them (`info mtree`):
 * AN386 (Cortex-M4) and AN500 (Cortex-M7) share the AN385 peripheral map and a 25 MHz clock; AN505
 * (Cortex-M33, port.mk defines MPS2_AN505) has the same CMSDK UART and timer elsewhere, behind TrustZone
 * gates, on a 20 MHz clock. */
#ifndef MPS2_H
#define MPS2_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#if defined(MPS2_AN505)
/* AN505 (Cortex-M33 in Arm's IoT Kit, QEMU mps2-an505): the firmware runs in Secure state with the SAU
 * off, so every access it makes is Secure, and the reset state of the security controllers lets Secure
 * accesses through: the APB PPCs (iotkit-secctl's *NSPPC* registers reset to 0: every port Secure) pass
 * Secure transactions, and the SSRAM MPCs (LUT reset to 0: every block Secure) likewise. Nothing needs
 * programming. The peripherals are used through their Secure aliases (0x5xxx_xxxx, which the IDAU marks
 * Secure) so that the addresses stay right if a non-secure image or the SAU is ever added. */
#define UART0_BASE 0x50200000u /* CMSDK UART0 on the FPGA's APB PPC expansion 1 (NS alias 0x40200000) */
#define UART0_RX_IRQn 32 /* the FPGA's interrupts start at 32 on the IoT Kit: UART0 RX is its 0, TX its 1 */
#define UART0_TX_IRQn 33
#define TIMER0_BASE 0x50000000u /* the IoT Kit's CMSDK timer 0 (NS alias 0x40000000) */
#define MPS2_SYSCLK_HZ 20000000u /* the core and the peripherals (MAINCLK, QEMU's SYSCLK_FRQ) */
#define MPS2_N_IRQS 64 /* the vector table reaches past the UART's interrupts */
#else
/* AN385 family (AN386, AN500). */
#define UART0_BASE 0x40004000u
#define UART0_RX_IRQn 0
#define UART0_TX_IRQn 1
#define TIMER0_BASE 0x40000000u
#define MPS2_SYSCLK_HZ 25000000u /* the core and the peripherals (QEMU's SYSCLK_FRQ for these machines) */
#define MPS2_N_IRQS 32 /* external interrupts 0..31 */
#endif

/* CMSDK APB UART0: the line to the host. */
#define UART0_DATA REG32(UART0_BASE + 0x00u)
#define UART0_STATE REG32(UART0_BASE + 0x04u)
#define UART0_CTRL REG32(UART0_BASE + 0x08u)
#define UART0_INTSTATUS REG32(UART0_BASE + 0x0Cu)
#define UART0_BAUDDIV REG32(UART0_BASE + 0x10u)
#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_CTRL_TX_EN (1u << 0)
#define UART_CTRL_RX_EN (1u << 1)
#define UART_CTRL_TX_INTEN (1u << 2)
#define UART_CTRL_RX_INTEN (1u << 3)
#define UART_INT_TX (1u << 0)
#define UART_INT_RX (1u << 1)

/* CMSDK APB timer 0: a 32-bit down counter on the peripheral clock. */
#define TIMER0_CTRL REG32(TIMER0_BASE + 0x00u)
#define TIMER0_VALUE REG32(TIMER0_BASE + 0x04u)
#define TIMER0_RELOAD REG32(TIMER0_BASE + 0x08u)
#define TIMER_CTRL_EN (1u << 0)

/* Armv7-M / Armv8-M system control space (the Secure view on the M33). */
#define SCB_AIRCR REG32(0xE000ED0Cu)
#define SCB_CFSR REG32(0xE000ED28u)
#define SCB_DEMCR REG32(0xE000EDFCu)
#define DWT_CTRL REG32(0xE0001000u)
#define DWT_CYCCNT REG32(0xE0001004u)
#define NVIC_ISER(n) REG32(0xE000E100u + 4u * (uint32_t)(n))
#define NVIC_ICPR(n) REG32(0xE000E280u + 4u * (uint32_t)(n))

#define AIRCR_VECTKEY (0x05FAu << 16)
#define AIRCR_SYSRESETREQ (1u << 2)

static inline void irq_enable_line(unsigned irq) { NVIC_ISER(irq / 32u) = 1u << (irq % 32u); }
static inline void irq_clear_pending(unsigned irq) { NVIC_ICPR(irq / 32u) = 1u << (irq % 32u); }
static inline void cpu_wfi(void) { __asm volatile("dsb\n\twfi" ::: "memory"); }
static inline void cpu_irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void cpu_barrier(void) { __asm volatile("dsb\n\tisb" ::: "memory"); }

#endif
