/* Registers of the MPS2 FPGA images this port runs on: AN386 (Cortex-M4) and AN500 (Cortex-M7), as QEMU
 * 7.2's mps2-an386 and mps2-an500 machines model them (`info mtree`): both share the AN385 peripheral
 * map, a 25 MHz peripheral clock and the CMSDK APB UART that the Corstone-300 has too. */
#ifndef MPS2_H
#define MPS2_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* CMSDK APB UART0: the line to the host. RX interrupt 0, TX interrupt 1. */
#define UART0_BASE 0x40004000u
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
#define UART0_RX_IRQn 0
#define UART0_TX_IRQn 1

/* CMSDK APB timer 0: a 32-bit down counter on the 25 MHz peripheral clock. */
#define TIMER0_BASE 0x40000000u
#define TIMER0_CTRL REG32(TIMER0_BASE + 0x00u)
#define TIMER0_VALUE REG32(TIMER0_BASE + 0x04u)
#define TIMER0_RELOAD REG32(TIMER0_BASE + 0x08u)
#define TIMER_CTRL_EN (1u << 0)

/* The FPGA's system clock: the core and the peripherals (QEMU's SYSCLK_FRQ for these machines). */
#define MPS2_SYSCLK_HZ 25000000u

/* Armv7-M system control space. */
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
