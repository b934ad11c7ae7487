/* Arm semihosting, for the self-test and benchmark images only (never the firmware: on a board
 * without a debugger, BKPT 0xAB faults). QEMU needs `-semihosting-config enable=on,target=native`. */
#ifndef SEMIHOST_H
#define SEMIHOST_H

#include <stdint.h>

void sh_puts(const char *text); /* SYS_WRITE0: to QEMU's stdout */
void sh_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* SYS_EXIT_EXTENDED: QEMU exits with `code`. */
void sh_exit(int code) __attribute__((noreturn));
/* Reads a whole host file (path relative to QEMU's working directory) into buf; returns its length, or
 * -1 if it cannot be opened or does not fit. */
long sh_read_file(const char *path, uint8_t *buf, uint32_t cap);

#endif
