# The native port: the firmware as a Linux process serving a pseudo-terminal. It is the `sim` board.
PORT_CC := cc
# A pty buffers far more than one frame, so the host may keep several requests in flight.
PORT_CFLAGS := -pthread -DHIL_RX_CREDIT_BYTES=4096
PORT_LDFLAGS := -pthread
PORT_TARGET := hil-sim

# The board is called `sim`: `make sim` gives build/sim/hil-sim, the path the host's sim board runs, and its
# build-info.json.
.PHONY: sim
sim: $(BUILD)/sim/hil-sim $(BUILD)/sim/build-info.json
$(BUILD)/sim/hil-sim: $(BUILD)/host/hil-sim
	@mkdir -p $(@D)
	cp $< $@
$(BUILD)/sim/build-info.json: $(BUILD)/sim/hil-sim
	$(call write_build_info,host,sim,$<)
