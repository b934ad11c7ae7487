/* What the host port's process (main.c) hands to its hil_port_* implementation (port.c). */
#ifndef HIL_HOST_PORT_H
#define HIL_HOST_PORT_H

#include <signal.h>
#include <stdint.h>

typedef struct {
  int master_fd;         /* the pty master: the device's end of the serial line */
  int wake_fd;           /* read end of a pipe written on shutdown, to end a blocking wait */
  volatile sig_atomic_t stop;
  const char *board_name;
  uint32_t clock_hz;
  uint8_t *partition;
  uint32_t partition_bytes;
  uint8_t *arena;
  uint32_t arena_bytes;
  uint8_t *stack_lo;     /* lowest usable byte of the serve thread's painted stack */
  uint8_t *stack_entry;  /* the serve thread's frame address at entry: its stack use is measured from here */
} host_port_t;

extern host_port_t host_port;

#define HOST_STACK_PAINT 0xA5u

#endif
