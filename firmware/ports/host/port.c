/* hil_port_* for the native port: the serial line is a pty master, the clock is CLOCK_MONOTONIC (unused:
 * the latency kind is modelled), and the memory figures come from this executable's own link layout. */
#define _GNU_SOURCE
#include <errno.h>
#include <link.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hil_port.h"
#include "host_port.h"

host_port_t host_port;

/* How long to sleep while no host has the line open: a closed slave makes the master report HUP at once,
 * so polling it would spin. */
#define NO_HOST_SLEEP_MS 20
/* A host that keeps the line open but stops reading loses the rest of a reply after this long, as a
 * UART would; the host's timeout and retransmission recover. */
#define WRITE_GIVE_UP_MS 2000

static uint8_t rx_buf[512];
static size_t rx_len, rx_pos;

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

int hil_port_read_byte(uint8_t *byte) {
  while (rx_pos == rx_len) {
    if (host_port.stop) return 0;
    struct pollfd p[2] = {{host_port.master_fd, POLLIN, 0}, {host_port.wake_fd, POLLIN, 0}};
    int n = poll(p, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    if (p[1].revents) return 0;
    if (p[0].revents & POLLIN) {
      ssize_t got = read(host_port.master_fd, rx_buf, sizeof rx_buf);
      if (got > 0) {
        rx_len = (size_t)got;
        rx_pos = 0;
        break;
      }
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    }
    /* HUP or EIO: no host has the slave open (never opened yet, or closed). Wait for the next one. */
    sleep_ms(NO_HOST_SLEEP_MS);
  }
  *byte = rx_buf[rx_pos++];
  return 1;
}

void hil_port_write(const uint8_t *data, size_t len) {
  int waited_ms = 0;
  while (len && !host_port.stop) {
    ssize_t n = write(host_port.master_fd, data, len);
    if (n > 0) {
      data += n;
      len -= (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return; /* EIO: nobody on the line; the bytes are lost, as on a UART */
    if (waited_ms >= WRITE_GIVE_UP_MS) return;
    struct pollfd p = {host_port.master_fd, POLLOUT, 0};
    poll(&p, 1, 50);
    waited_ms += 50;
  }
}

uint64_t hil_port_latency_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint8_t hil_port_latency_kind(void) { return HIL_LATENCY_MODELLED; }
uint32_t hil_port_clock_hz(void) { return host_port.clock_hz; }
const char *hil_port_board_name(void) { return host_port.board_name; }
const char *hil_port_build_id(void) { return HIL_BUILD_ID; }

uint8_t *hil_port_model_partition(uint32_t *size_bytes) {
  *size_bytes = host_port.partition_bytes;
  return host_port.partition;
}

uint8_t *hil_port_arena(uint32_t *size_bytes) {
  *size_bytes = host_port.arena_bytes;
  return host_port.arena;
}

const uint8_t *hil_port_audio_partition(uint32_t *size_bytes) {
  *size_bytes = 0; /* no loader places audio here: clips are streamed */
  return NULL;
}

/* GNU ld's default script defines these: `edata` closes .data, `end` closes .bss. */
extern char edata[], end[];

typedef struct {
  uint64_t load_bytes;   /* file-backed bytes of every loadable segment: the image */
  uintptr_t rw_start;    /* first address of the writable segment */
} layout_t;

static int main_object(struct dl_phdr_info *info, size_t size, void *arg) {
  layout_t *l = arg;
  /* The first object is the executable itself; shared libraries (libc) are not part of the firmware. */
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD) continue;
    l->load_bytes += ph->p_filesz;
    if ((ph->p_flags & PF_W) && !l->rw_start) l->rw_start = info->dlpi_addr + ph->p_vaddr;
  }
  return 1;
}

void hil_port_memory(hil_port_memory_t *out) {
  layout_t l = {0, 0};
  dl_iterate_phdr(main_object, &l);
  /* The partition and the arena are mapped at run time (main.c), so they are outside .data/.bss here,
   * as docs/protocol.md §6 asks; the core's own buffers are inside and count. */
  out->image_flash_bytes = (uint32_t)l.load_bytes;
  out->static_sram_bytes = l.rw_start ? (uint32_t)((uintptr_t)end - l.rw_start) : (uint32_t)(end - edata);
  /* Stack painting: the lowest byte that no longer holds the paint marks the deepest use. */
  const uint8_t *p = host_port.stack_lo;
  while (p < host_port.stack_entry && *p == HOST_STACK_PAINT) p++;
  out->stack_high_water_bytes = (uint32_t)(host_port.stack_entry - p);
  out->stack_size_bytes = (uint32_t)(host_port.stack_entry - host_port.stack_lo);
}

/* The process keeps its pty (and so its path) across a reset: the core restarts in place and prints
 * its banner again. The stack high water is kept: a reset does not repaint a stack in use. */
void hil_port_reset(void) {}
