/* kernel310 [--log FILE] [--hold PATH] -- PROG ARGS...: runs PROG as CentOS 7's 3.10 kernel
 * would answer it.
 *
 * Installs a seccomp filter (libseccomp) on every x86_64 system call newer than 3.10, then
 * execs PROG (same pid). The last call 3.10 has is finit_module (313); everything above it
 * (renameat2 316, getrandom 318, memfd_create 319, copy_file_range 326, statx 332, rseq 334,
 * pidfd_*, clone3 435, close_range 436, openat2 437, faccessat2 439, …) answers ENOSYS, as on
 * a kernel without such an entry. x32 calls (bit 30 set) fail libseccomp's architecture check.
 * The filter is inherited by every child and survives execve.
 *
 * Without --hold every process under the filter gets ENOSYS. With --hold PATH only processes
 * whose /proc/PID/exe is PATH (same device and inode) do; the others' calls go on to the real
 * kernel. That is for Debian's programs the held one runs (ssh-keygen, ssh: they stand for
 * CentOS 7's own, built for 3.10, whereas Debian's OpenSSL 3.0 refuses /dev/urandom when
 * uname says 6.x and so cannot seed without getrandom). It works by SCMP_ACT_NOTIFY: a forked
 * supervisor (not itself filtered) answers each call, ENOSYS or SECCOMP_USER_NOTIF_FLAG_CONTINUE,
 * and exits when the last filtered process has gone.
 *
 * --log FILE appends "PID PROG: filter installed" once, and with --hold one line per refused
 * call, "PID PATH: NAME (NR) -> ENOSYS", so a test can show the filter reached its process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LAST_3_10_SYSCALL 313 /* finit_module */
#define HIGHEST_SYSCALL 511   /* above every x86_64 number allocated so far (462 in 6.13) */

static int usage(void) {
    fprintf(stderr,
            "usage: kernel310 [--log FILE] [--hold PATH] -- PROG [ARGS...]\n"
            "runs PROG with every system call newer than Linux 3.10 failing with ENOSYS\n"
            "(with --hold, only in processes running the executable PATH)\n");
    return 2;
}

static FILE* open_log(const char* path) {
    FILE* f = fopen(path, "ae");
    if (f == NULL) fprintf(stderr, "kernel310: cannot open the log %s: %s\n", path, strerror(errno));
    else setvbuf(f, NULL, _IOLBF, 0);
    return f;
}

/* The supervisor: answers every notification on fd until no filtered process is left. */
static int supervise(int fd, dev_t dev, ino_t ino, const char* hold, FILE* log) {
    struct seccomp_notif* req = NULL;
    struct seccomp_notif_resp* resp = NULL;
    if (seccomp_notify_alloc(&req, &resp) != 0) {
        fprintf(stderr, "kernel310: seccomp_notify_alloc failed\n");
        return 1;
    }
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, -1) < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "kernel310: poll on the notification fd: %s\n", strerror(errno));
            return 1;
        }
        if (!(p.revents & POLLIN)) return 0; /* POLLHUP: the last filtered process is gone */
        memset(req, 0, sizeof *req);
        if (seccomp_notify_receive(fd, req) != 0) continue; /* the caller died meanwhile */
        char exe[64];
        struct stat st;
        snprintf(exe, sizeof exe, "/proc/%u/exe", req->pid);
        int held = stat(exe, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
        /* the pid may have died and been reused between the two: only answer a live request */
        if (seccomp_notify_id_valid(fd, req->id) != 0) continue;
        memset(resp, 0, sizeof *resp);
        resp->id = req->id;
        if (held) {
            resp->error = -ENOSYS;
            if (log != NULL) {
                char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, req->data.nr);
                fprintf(log, "%u %s: %s (%d) -> ENOSYS\n", req->pid, hold, name ? name : "?",
                        req->data.nr);
                free(name);
            }
        } else {
            resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        }
        seccomp_notify_respond(fd, resp); /* fails only if the caller died: nothing to do */
    }
}

static int send_fd(int sock, int fd) {
    char byte = 0;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof u.buf};
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock) {
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                         .msg_controllen = sizeof u.buf};
    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1) return -1;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (c == NULL || c->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

int main(int argc, char** argv) {
    const char* log_path = NULL;
    const char* hold = NULL;
    int i = 1;
    for (; i < argc; ++i) {
        if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
            log_path = argv[++i];
        } else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc) {
            hold = argv[++i];
        } else if (strcmp(argv[i], "--") == 0) {
            ++i;
            break;
        } else {
            return usage();
        }
    }
    if (i >= argc) return usage();

    struct stat held = {0};
    if (hold != NULL && stat(hold, &held) != 0) {
        fprintf(stderr, "kernel310: --hold %s: %s\n", hold, strerror(errno));
        return 126;
    }
    FILE* log = NULL;
    if (log_path != NULL && (log = open_log(log_path)) == NULL) return 126;

    /* With --hold, the supervisor is forked before the filter exists: its own calls are free,
     * and PROG keeps this process's pid (what the caller's $! and kill name). */
    int sv[2] = {-1, -1};
    if (hold != NULL) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
            fprintf(stderr, "kernel310: socketpair: %s\n", strerror(errno));
            return 126;
        }
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "kernel310: fork: %s\n", strerror(errno));
            return 126;
        }
        if (pid == 0) {
            close(sv[0]);
            setsid(); /* not in PROG's process group: a ^C to PROG leaves it to see POLLHUP */
            /* grandchild, reparented to init: PROG never sees an unexpected child */
            pid_t g = fork();
            if (g != 0) _exit(g < 0);
            /* none of PROG's files (a pipe PROG's caller reads must see EOF with PROG); its
             * errors go to the log when there is one, else to PROG's stderr */
            int null = open("/dev/null", O_RDWR | O_CLOEXEC);
            if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
                if (log != NULL) dup2(fileno(log), 2);
            }
            for (int fd = 3; fd < 1024; ++fd) {
                if (fd != sv[1] && (log == NULL || fd != fileno(log))) close(fd);
            }
            int fd = recv_fd(sv[1]);
            close(sv[1]);
            if (fd < 0) _exit(0); /* PROG failed before the filter: nothing to supervise */
            _exit(supervise(fd, held.st_dev, held.st_ino, hold, log));
        }
        close(sv[1]);
        int status;
        waitpid(pid, &status, 0);
    }

    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL) {
        fprintf(stderr, "kernel310: seccomp_init failed\n");
        return 126;
    }
    const uint32_t action = hold != NULL ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(ENOSYS);
    int rc = 0, count = 0;
    for (int nr = LAST_3_10_SYSCALL + 1; nr <= HIGHEST_SYSCALL && rc == 0; ++nr) {
        rc = seccomp_rule_add(ctx, action, nr, 0);
        count += rc == 0;
    }
    if (rc == 0) rc = seccomp_load(ctx);
    int notify_fd = rc == 0 && hold != NULL ? seccomp_notify_fd(ctx) : -1;
    seccomp_release(ctx);
    if (rc != 0 || (hold != NULL && notify_fd < 0)) {
        fprintf(stderr,
                "kernel310: cannot install the seccomp filter: %s (needs seccomp filters, "
                "and for --hold user notification: Linux 5.5 or later)\n",
                strerror(rc != 0 ? -rc : -notify_fd));
        return 126;
    }
    if (hold != NULL) {
        if (send_fd(sv[0], notify_fd) != 0) {
            fprintf(stderr, "kernel310: cannot hand the filter to the supervisor: %s\n",
                    strerror(errno));
            return 126;
        }
        close(sv[0]);
        close(notify_fd);
    }
    if (log != NULL) {
        fprintf(log, "%ld %s: filter installed, syscalls %d..%d (%d) %s\n", (long)getpid(),
                argv[i], LAST_3_10_SYSCALL + 1, HIGHEST_SYSCALL, count,
                hold != NULL ? "notify the supervisor" : "answer ENOSYS");
        fclose(log);
    }
    execvp(argv[i], argv + i);
    fprintf(stderr, "kernel310: cannot run %s: %s\n", argv[i], strerror(errno));
    return 127;
}
