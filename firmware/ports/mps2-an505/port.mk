# MPS2 an505 (Cortex-M33, Armv8-M Mainline with the DSP extension): QEMU mps2-an505, board m33
# (boards/m33.json). Bare metal with newlib-nano, in Secure state: nothing in the IoT Kit's security
# controllers needs programming (ports/mps2/mps2.h, MPS2_AN505). The start-up, UART, clock and section
# layout are shared with the other MPS2 ports (ports/mps2/, PORT_SHARED), the memory map is this
# directory's linker script. Soft-float, as m4/m7: the firmware computes in integers only, and the
# kernels pick the DSP variants (__ARM_FEATURE_DSP, which -mcpu=cortex-m33 sets; +nodsp would clear it).
PORT_CC := arm-none-eabi-gcc
PORT_ARCH_FLAGS := -mcpu=cortex-m33 -mfloat-abi=soft -mthumb
PORT_SHARED := ports/mps2
# Wake-only UART (ports/mps2/uart.h): the host's bytes wait in QEMU's pty, so the credit can be large.
PORT_CFLAGS := $(PORT_ARCH_FLAGS) -g -ffunction-sections -fdata-sections -DHIL_RX_CREDIT_BYTES=2047 \
  -DMPS2_AN505 -DMPS2_BOARD_NAME='"m33"'
PORT_LDFLAGS := $(PORT_ARCH_FLAGS) -nostartfiles --specs=nano.specs -Lports/mps2 -T ports/mps2-an505/mps2-an505.ld \
  -Wl,--gc-sections -Wl,--no-warn-rwx-segments -lc -lgcc
PORT_TARGET := hil-m33.elf
