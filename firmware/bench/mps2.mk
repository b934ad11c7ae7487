# Semihosting images for the MPS2 ports (Cortex-M4 on mps2-an386, M7 on mps2-an500, M33 on mps2-an505) under QEMU,
# built with each port's flags and memory map, into $(BUILD)/bench/<port>/:
#   selftest:   the DSP-extension kernels (core/kernels_dsp.c) against the scalar ones (exit 0 when bit-exact)
#   bench:      instructions per MAC of the FC kernels (scripts/bench-kernels.ts --board m4|m7|m33)
#   enginetest: test/vectors/engine/ through the whole engine with the DSP kernels
# `make -C firmware/bench -f mps2.mk` builds them all. (A separate makefile: Makefile includes the
# Corstone-300's port.mk, whose variables a second port.mk would overwrite.)
BUILD ?= ../build
OUT := $(BUILD)/bench
MPS2_PORTS := mps2-an386 mps2-an500 mps2-an505
PLATFORM := ../ports/mps2/startup.c ../ports/mps2/clock.c semihost.c testgen.c
KERNELS := ../core/kernels.c ../core/kernels_dsp.c ../core/dsp.c ../core/tables.c
ENGINE := $(filter-out ../core/protocol.c ../core/frame.c ../core/cobs.c,$(wildcard ../core/*.c))
COMMON := -std=c99 -Wall -Wextra -Werror -Wno-unused-parameter -O2 -ffp-contract=off -fno-strict-aliasing

.PHONY: all
all: $(foreach p,$(MPS2_PORTS),$(OUT)/$(p)/selftest.elf $(OUT)/$(p)/bench.elf $(OUT)/$(p)/enginetest.elf)

define mps2_rules
PORT_SHARED :=
include ../ports/$(1)/port.mk
$(1)_CC := $$(PORT_CC)
$(1)_CFLAGS := $(COMMON) $$(PORT_CFLAGS) -I../core -I../ports/mps2 -I../ports/$(1) -I.
$(1)_LDFLAGS := $$(subst ports/,../ports/,$$(PORT_LDFLAGS))
$(1)_DEPS := $(PLATFORM) $(wildcard *.h ../core/*.h ../ports/mps2/*.h ../ports/mps2/*.ld ../ports/$(1)/*) mps2.mk
$(OUT)/$(1)/selftest.elf: selftest.c $(KERNELS) $$($(1)_DEPS)
	@mkdir -p $$(@D)
	$$($(1)_CC) $$($(1)_CFLAGS) $$< $(PLATFORM) $(KERNELS) -o $$@ $$($(1)_LDFLAGS)
$(OUT)/$(1)/bench.elf: bench.c $(KERNELS) $$($(1)_DEPS)
	@mkdir -p $$(@D)
	$$($(1)_CC) $$($(1)_CFLAGS) $$< $(PLATFORM) $(KERNELS) -o $$@ $$($(1)_LDFLAGS)
$(OUT)/$(1)/enginetest.elf: enginetest.c $(ENGINE) $$($(1)_DEPS)
	@mkdir -p $$(@D)
	$$($(1)_CC) $$($(1)_CFLAGS) $$< $(PLATFORM) $(ENGINE) -o $$@ $$($(1)_LDFLAGS)
endef
$(foreach p,$(MPS2_PORTS),$(eval $(call mps2_rules,$(p))))
