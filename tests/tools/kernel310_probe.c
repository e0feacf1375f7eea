/* kernel310_probe: calls getrandom(2) directly (no libc fallback) and prints what the kernel
 * answered: "getrandom: ok" (exit 0) or "getrandom: ENOSYS (Function not implemented)" (exit 1).
 * Under tests/tools/kernel310 it must say ENOSYS; without it, ok (Linux 3.17 and later). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
    unsigned char buf[16];
    long n;
    do {
        n = syscall(SYS_getrandom, buf, sizeof buf, 0);
    } while (n < 0 && errno == EINTR);
    if (n == (long)sizeof buf) {
        printf("getrandom: ok\n");
        return 0;
    }
    if (n >= 0) {
        printf("getrandom: short read (%ld bytes)\n", n);
        return 1;
    }
    int e = errno;
    printf("getrandom: %s (%s)\n", e == ENOSYS ? "ENOSYS" : "error", strerror(e));
    return 1;
}
