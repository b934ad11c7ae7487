/* hil-sim: the firmware as a Linux process. It opens a pseudo-terminal, prints `PTY <path>` on stdout and
 * serves the hil protocol on it until SIGTERM/SIGINT, across any number of host sessions.
 *
 *   hil-sim [--flash FILE] [--board NAME] [--clock-hz N] [--partition-bytes N] [--arena-bytes N]
 *           [--stack-bytes N]
 *
 * --flash maps FILE as the model partition: the sim board's "flasher" writes the blob there before boot,
 * and MODEL_CHUNK uploads land in the file, as they would in a board's flash. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "hil_port.h"
#include "host_port.h"

#define EXIT_USAGE 2

static void die(const char *what, const char *detail) {
  fprintf(stderr, "hil-sim: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(EXIT_USAGE);
}

static uint32_t parse_u32(const char *opt, const char *v) {
  char *e;
  errno = 0;
  unsigned long long n = strtoull(v, &e, 10);
  if (errno || *e || !*v || n == 0 || n > 0xFFFFFFFFull) {
    fprintf(stderr, "hil-sim: %s wants a positive integer below 2^32, got \"%s\"\n", opt, v);
    exit(EXIT_USAGE);
  }
  return (uint32_t)n;
}

static uint8_t *map_anonymous(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("cannot map memory", strerror(errno));
  return p;
}

/* The partition is exactly partition_bytes long; a shorter flash file is extended (with zeros, like an
 * erased-and-zeroed region), a longer one does not fit the board. */
static uint8_t *map_flash(const char *path, uint32_t partition_bytes) {
  int fd = open(path, O_RDWR);
  if (fd < 0) die(path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) die(path, strerror(errno));
  if ((uint64_t)st.st_size > partition_bytes) {
    fprintf(stderr, "hil-sim: %s is %lld bytes, larger than the %u-byte model partition (--partition-bytes)\n", path,
            (long long)st.st_size, partition_bytes);
    exit(EXIT_USAGE);
  }
  if ((uint64_t)st.st_size < partition_bytes && ftruncate(fd, partition_bytes) != 0) die(path, strerror(errno));
  void *p = mmap(NULL, partition_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die(path, strerror(errno));
  close(fd);
  return p;
}

static int open_pty(const char **path) {
  int fd = posix_openpt(O_RDWR | O_NOCTTY);
  if (fd < 0 || grantpt(fd) != 0 || unlockpt(fd) != 0) die("cannot open a pseudo-terminal", strerror(errno));
  struct termios t;
  if (tcgetattr(fd, &t) != 0) die("tcgetattr", strerror(errno));
  /* A binary line: no echo, no CR/LF translation, no signals from ^C bytes. */
  cfmakeraw(&t);
  if (tcsetattr(fd, TCSANOW, &t) != 0) die("tcsetattr", strerror(errno));
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) die("fcntl", strerror(errno));
  *path = ptsname(fd);
  if (!*path) die("ptsname", strerror(errno));
  return fd;
}

static void *serve_thread(void *arg) {
  host_port.stack_entry = (uint8_t *)__builtin_frame_address(0);
  hil_serve();
  return arg;
}

int main(int argc, char **argv) {
  const char *flash = NULL;
  uint32_t partition_bytes = 4u << 20, arena_bytes = 256u << 10, stack_bytes = 256u << 10;
  host_port.board_name = "sim";
  host_port.clock_hz = 500000000u;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) die("missing value after", a);
    if (!strcmp(a, "--flash")) flash = v;
    else if (!strcmp(a, "--board")) host_port.board_name = v;
    else if (!strcmp(a, "--clock-hz")) host_port.clock_hz = parse_u32(a, v);
    else if (!strcmp(a, "--partition-bytes")) partition_bytes = parse_u32(a, v);
    else if (!strcmp(a, "--arena-bytes")) arena_bytes = parse_u32(a, v);
    else if (!strcmp(a, "--stack-bytes")) stack_bytes = parse_u32(a, v);
    else die("unknown option (see the comment at the top of firmware/ports/host/main.c)", a);
    i++;
  }
  if (stack_bytes < 64u << 10) die("--stack-bytes", "at least 65536");

  /* A sim left behind by a host that crashed would hold its pty forever. */
  prctl(PR_SET_PDEATHSIG, SIGTERM);

  host_port.partition_bytes = partition_bytes;
  host_port.partition = flash ? map_flash(flash, partition_bytes) : map_anonymous(partition_bytes);
  host_port.arena_bytes = arena_bytes;
  host_port.arena = map_anonymous(arena_bytes);

  int wake[2];
  if (pipe(wake) != 0) die("pipe", strerror(errno));
  host_port.wake_fd = wake[0];
  const char *pty_path;
  host_port.master_fd = open_pty(&pty_path);

  /* Signals are taken synchronously by this thread (sigwait), so none ever runs on the painted stack. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  /* The serve loop's stack: our own mapping, painted, with a guard page below it. */
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t stack_map = ((stack_bytes + page - 1) / page) * page;
  uint8_t *base = map_anonymous(stack_map + page);
  if (mprotect(base, page, PROT_NONE) != 0) die("mprotect", strerror(errno));
  host_port.stack_lo = base + page;
  memset(host_port.stack_lo, HOST_STACK_PAINT, stack_map);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (pthread_attr_setstack(&attr, host_port.stack_lo, stack_map) != 0) die("pthread_attr_setstack", NULL);
  pthread_t th;
  int rc = pthread_create(&th, &attr, serve_thread, NULL);
  if (rc != 0) die("pthread_create", strerror(rc));

  printf("PTY %s\n", pty_path);
  fflush(stdout);

  int sig = 0;
  sigwait(&sigs, &sig);
  host_port.stop = 1;
  if (write(wake[1], "x", 1) < 0) { /* the serve thread also checks `stop` on its own */ }
  pthread_join(th, NULL);
  if (flash) msync(host_port.partition, partition_bytes, MS_SYNC);
  close(host_port.master_fd);
  return 0;
}
