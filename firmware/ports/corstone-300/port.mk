# Corstone-300 (Cortex-M55 + Ethos-U55, MPS3 AN547): QEMU mps3-an547, Arm FVP, or an MPS3 board.
# Bare metal with newlib-nano and our own start-up (startup.c) and memory map (corstone-300.ld).
PORT_CC := arm-none-eabi-gcc
PORT_ARCH_FLAGS := -mcpu=cortex-m55 -mfloat-abi=hard -mthumb
# The RX ring (uart.h) holds 2048 bytes, so the host may keep several requests in flight.
PORT_CFLAGS := $(PORT_ARCH_FLAGS) -g -ffunction-sections -fdata-sections -DHIL_RX_CREDIT_BYTES=2047
PORT_LDFLAGS := $(PORT_ARCH_FLAGS) -nostartfiles --specs=nano.specs -T ports/corstone-300/corstone-300.ld \
  -Wl,--gc-sections -Wl,--no-warn-rwx-segments -lc -lgcc
PORT_TARGET := hil-corstone-300.elf
