#include "semihost.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "startup.h"

enum { SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE0 = 0x04, SYS_READ = 0x06, SYS_FLEN = 0x0C,
       SYS_EXIT_EXTENDED = 0x20 };
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uint32_t sh_call(uint32_t op, const void *arg) {
  register uint32_t r0 __asm("r0") = op;
  register const void *r1 __asm("r1") = arg;
  __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void sh_puts(const char *text) { sh_call(SYS_WRITE0, text); }

void sh_printf(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  sh_puts(buf);
}

void sh_exit(int code) {
  uint32_t args[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
  sh_call(SYS_EXIT_EXTENDED, args);
  for (;;) __asm volatile("dsb\n\twfi" ::: "memory");
}

long sh_read_file(const char *path, uint8_t *buf, uint32_t cap) {
  uint32_t open_args[3] = {(uint32_t)(uintptr_t)path, 1 /* "rb" */, (uint32_t)strlen(path)};
  int32_t fd = (int32_t)sh_call(SYS_OPEN, open_args);
  if (fd < 0) return -1;
  uint32_t fd_arg = (uint32_t)fd;
  int32_t len = (int32_t)sh_call(SYS_FLEN, &fd_arg);
  long result = -1;
  if (len >= 0 && (uint32_t)len <= cap) {
    uint32_t read_args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    /* SYS_READ returns the number of bytes NOT read. */
    if (sh_call(SYS_READ, read_args) == 0) result = len;
  }
  sh_call(SYS_CLOSE, &fd_arg);
  return result;
}

/* The port's fault hook (startup.h): cs300_fault on the Corstone-300, mps2_fault on the MPS2 ports. */
#ifdef MPS2_STARTUP_H
#define cs300_fault mps2_fault
#endif
void cs300_fault(const char *what, uint32_t pc, uint32_t cfsr) {
  sh_printf("FAULT %s pc=0x%08lx cfsr=0x%08lx\n", what, (unsigned long)pc, (unsigned long)cfsr);
  sh_exit(3);
}
