# MPS2 an386 (Cortex-M4): QEMU mps2-an386, board m4 (boards/m4.json). Bare metal with newlib-nano; the start-up,
# UART, clock and section layout are shared with the other MPS2 ports (ports/mps2/, PORT_SHARED), the memory
# map is this directory's linker script. Soft-float: the firmware computes in integers only.
PORT_CC := arm-none-eabi-gcc
PORT_ARCH_FLAGS := -mcpu=cortex-m4 -mfloat-abi=soft -mthumb
PORT_SHARED := ports/mps2
# Wake-only UART (ports/mps2/uart.h): the host's bytes wait in QEMU's pty, so the credit can be large.
PORT_CFLAGS := $(PORT_ARCH_FLAGS) -g -ffunction-sections -fdata-sections -DHIL_RX_CREDIT_BYTES=2047 \
  -DMPS2_BOARD_NAME='"m4"'
PORT_LDFLAGS := $(PORT_ARCH_FLAGS) -nostartfiles --specs=nano.specs -Lports/mps2 -T ports/mps2-an386/mps2-an386.ld \
  -Wl,--gc-sections -Wl,--no-warn-rwx-segments -lc -lgcc
PORT_TARGET := hil-m4.elf
