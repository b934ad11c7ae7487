/* An in-memory port for the core's unit tests: hil_serve() reads a scripted byte string and its output
 * is captured, so a test can drive the dispatcher frame by frame with no serial line. The latency clock
 * advances by a fixed step per read, so latencies are deterministic. */
#ifndef HIL_PORT_LOOPBACK_H
#define HIL_PORT_LOOPBACK_H

#include <stddef.h>
#include <stdint.h>

#define LOOPBACK_PARTITION_BYTES (1u << 20)
#define LOOPBACK_ARENA_BYTES (256u << 10)
#define LOOPBACK_CLOCK_STEP 1000u

/* Sets what the next hil_serve() reads (it returns when the script is consumed) and clears the output. */
void loopback_script(const uint8_t *bytes, size_t len);
/* Everything the core wrote since the last loopback_script(). */
const uint8_t *loopback_output(size_t *len);
void loopback_set_latency_kind(uint8_t kind);
/* Limits the partition/arena the port offers (0 restores the full size), to provoke errors 4 and 8. */
void loopback_limit(uint32_t partition_bytes, uint32_t arena_bytes);
uint8_t *loopback_partition(void);
/* The audio partition RUN_PRELOADED and RUN_PRELOADED_BATCH read; NULL (the default) for none. */
void loopback_set_audio(const uint8_t *bytes, uint32_t len);
unsigned loopback_resets(void);

#endif
