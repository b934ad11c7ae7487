/* Registers of the Corstone-300 / MPS3 AN547 platform that this port uses. Addresses are the ones of
 * Arm's AN547 application note; QEMU's mps3-an547 machine and the FVP_Corstone_SSE-300 model the same
 * map, which is what lets one image serve all three backends. */
#ifndef AN547_H
#define AN547_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* CMSDK APB UART0: the line to the host. */
#define UART0_BASE 0x49303000u
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
#define UART0_RX_IRQn 33
#define UART0_TX_IRQn 34

/* The SSE-300 system counter (CNTControlBase): 64-bit, 32 MHz on AN547. */
#define SYSCNT_BASE 0x58100000u
#define SYSCNT_CR REG32(SYSCNT_BASE + 0x00u)
#define SYSCNT_CV_LO REG32(SYSCNT_BASE + 0x08u)
#define SYSCNT_CV_HI REG32(SYSCNT_BASE + 0x0Cu)
#define SYSCNT_HZ 32000000u

/* The M55 core clock on the MPS3 FPGA image (AN547), also QEMU's sysclk for this machine. */
#define AN547_CPU_HZ 32000000u

/* Armv8-M system control space. */
#define SCB_VTOR REG32(0xE000ED08u)
#define SCB_AIRCR REG32(0xE000ED0Cu)
#define SCB_SCR REG32(0xE000ED10u)
#define SCB_CCR REG32(0xE000ED14u)
#define SCB_CPACR REG32(0xE000ED88u)
#define SCB_CFSR REG32(0xE000ED28u)
#define SCB_HFSR REG32(0xE000ED2Cu)
#define SCB_MMFAR REG32(0xE000ED34u)
#define SCB_BFAR REG32(0xE000ED38u)
#define SCB_DEMCR REG32(0xE000EDFCu)
#define DWT_CTRL REG32(0xE0001000u)
#define DWT_CYCCNT REG32(0xE0001004u)
#define NVIC_ISER(n) REG32(0xE000E100u + 4u * (uint32_t)(n))
#define NVIC_ICER(n) REG32(0xE000E180u + 4u * (uint32_t)(n))
#define NVIC_ICPR(n) REG32(0xE000E280u + 4u * (uint32_t)(n))

#define AIRCR_VECTKEY (0x05FAu << 16)
#define AIRCR_SYSRESETREQ (1u << 2)

static inline void irq_enable_line(unsigned irq) { NVIC_ISER(irq / 32u) = 1u << (irq % 32u); }
static inline void irq_clear_pending(unsigned irq) { NVIC_ICPR(irq / 32u) = 1u << (irq % 32u); }
static inline void cpu_wfi(void) { __asm volatile("dsb\n\twfi" ::: "memory"); }
static inline void cpu_irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void cpu_irq_enable(void) { __asm volatile("cpsie i" ::: "memory"); }
static inline void cpu_barrier(void) { __asm volatile("dsb\n\tisb" ::: "memory"); }

#endif
