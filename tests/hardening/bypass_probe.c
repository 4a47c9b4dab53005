/*
 * bypass_probe.c - try one libc way of sending bytes on a connected TCP
 * socket, to find out whether it goes around the shim.
 *
 *   bypass_probe HOST PORT METHOD MARKER
 *
 * connects to HOST:PORT (under the launcher, with a [client] rule for it)
 * and sends MARKER with METHOD (one of the names printed by `bypass_probe
 * list`).  Each libc function is looked up with dlsym(RTLD_DEFAULT), the
 * way the dynamic linker binds a program's own call, so an interposed name
 * resolves to the shim.  If the shim sees the call it first runs the TLS
 * handshake, and the plaintext marker cannot reach the peer; if the call
 * goes around the shim, the marker arrives as it is.  The peer used by
 * tests/integration/test_hardening_bypass.sh records what it receives.
 *
 * It prints one line "METHOD: result N errno TEXT" and exits 0 whatever
 * the call returned: the verdict is what the peer received.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <aio.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *const k_methods[] = {
    /* __write_nocancel and __sendmmsg also leak, but they are
     * GLIBC_PRIVATE: a program cannot link to them (reviewed-symbols.txt).
     * The code below still knows them, for a manual run. */
    "write",           "__write",       "writev",         "send",
    "__send",          "sendto",        "sendmsg",        "sendmmsg",
    "pwrite",          "pwrite64",      "pwritev",        "pwritev2",
    "pwritev64v2",     "syscall_write", "syscall_sendto", "syscall_writev",
    "dprintf",         "vdprintf",      "__dprintf_chk",  "splice",
    "vmsplice_splice", "tee",           "sendfile",       "sendfile64",
    "copy_file_range", "aio_write",     "lio_listio",     "stdout_printf",
    "_IO_fdopen",      "fdopen",
};

static void *
sym(const char *name)
{
    void *p = dlsym(RTLD_DEFAULT, name);

    if (p == NULL) {
        fprintf(stderr, "bypass_probe: %s: not found\n", name);
        exit(3);
    }
    return p;
}

/* a_file writes |data| into a temporary file and returns its fd at 0. */
static int
a_file(const char *data)
{
    char path[] = "/tmp/bypass_probe.XXXXXX";
    int fd = mkstemp(path);

    if (fd < 0 || write(fd, data, strlen(data)) < 0) {
        perror("bypass_probe: temporary file");
        exit(3);
    }
    unlink(path);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static int
vdp(int fd, const char *fmt, ...)
{
    int (*f)(int, const char *, va_list) = sym("vdprintf");
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = f(fd, fmt, ap);
    va_end(ap);
    return rc;
}

static long
probe(int fd, const char *m, const char *data)
{
    size_t len = strlen(data);
    struct iovec iov = { (void *)data, len };

    if (strcmp(m, "write") == 0 || strcmp(m, "__write") == 0 ||
        strcmp(m, "__write_nocancel") == 0) {
        ssize_t (*f)(int, const void *, size_t) = sym(m);
        return f(fd, data, len);
    }
    if (strcmp(m, "writev") == 0) {
        ssize_t (*f)(int, const struct iovec *, int) = sym(m);
        return f(fd, &iov, 1);
    }
    if (strcmp(m, "send") == 0 || strcmp(m, "__send") == 0) {
        ssize_t (*f)(int, const void *, size_t, int) = sym(m);
        return f(fd, data, len, 0);
    }
    if (strcmp(m, "sendto") == 0) {
        ssize_t (*f)(int, const void *, size_t, int, const struct sockaddr *,
                     socklen_t) = sym(m);
        return f(fd, data, len, 0, NULL, 0);
    }
    if (strcmp(m, "sendmsg") == 0) {
        ssize_t (*f)(int, const struct msghdr *, int) = sym(m);
        struct msghdr msg = { 0 };
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        return f(fd, &msg, 0);
    }
    if (strcmp(m, "sendmmsg") == 0 || strcmp(m, "__sendmmsg") == 0) {
        int (*f)(int, struct mmsghdr *, unsigned, int) = sym(m);
        struct mmsghdr mm = { 0 };
        mm.msg_hdr.msg_iov = &iov;
        mm.msg_hdr.msg_iovlen = 1;
        return f(fd, &mm, 1, 0);
    }
    if (strcmp(m, "pwrite") == 0 || strcmp(m, "pwrite64") == 0) {
        ssize_t (*f)(int, const void *, size_t, off_t) = sym(m);
        return f(fd, data, len, 0);
    }
    if (strcmp(m, "pwritev") == 0) {
        ssize_t (*f)(int, const struct iovec *, int, off_t) = sym(m);
        return f(fd, &iov, 1, 0);
    }
    if (strcmp(m, "pwritev2") == 0 || strcmp(m, "pwritev64v2") == 0) {
        /* Offset -1: "the current file position", which on a socket
         * makes it a writev. */
        ssize_t (*f)(int, const struct iovec *, int, off_t, int) = sym(m);
        return f(fd, &iov, 1, -1, 0);
    }
    if (strcmp(m, "syscall_write") == 0) {
        long (*f)(long, ...) = sym("syscall");
        return f(SYS_write, fd, data, len);
    }
    if (strcmp(m, "syscall_sendto") == 0) {
        long (*f)(long, ...) = sym("syscall");
        return f(SYS_sendto, fd, data, len, 0, NULL, 0);
    }
    if (strcmp(m, "syscall_writev") == 0) {
        long (*f)(long, ...) = sym("syscall");
        return f(SYS_writev, fd, &iov, 1);
    }
    if (strcmp(m, "dprintf") == 0) {
        int (*f)(int, const char *, ...) = sym(m);
        return f(fd, "%s", data);
    }
    if (strcmp(m, "vdprintf") == 0) {
        return vdp(fd, "%s", data);
    }
    if (strcmp(m, "__dprintf_chk") == 0) {
        int (*f)(int, int, const char *, ...) = sym(m);
        return f(fd, 1, "%s", data);
    }
    if (strcmp(m, "splice") == 0 || strcmp(m, "vmsplice_splice") == 0 ||
        strcmp(m, "tee") == 0) {
        ssize_t (*sp)(int, loff_t *, int, loff_t *, size_t, unsigned) =
            sym("splice");
        int p[2], q[2];

        if (pipe(p) != 0 || pipe(q) != 0) {
            return -1;
        }
        if (strcmp(m, "vmsplice_splice") == 0) {
            ssize_t (*vs)(int, const struct iovec *, unsigned long, unsigned) =
                sym("vmsplice");
            if (vs(p[1], &iov, 1, 0) < 0) {
                return -2;
            }
        } else if (write(p[1], data, len) < 0) {
            return -2;
        }
        if (strcmp(m, "tee") == 0) {
            /* tee duplicates pipe to pipe; then splice the copy out. */
            ssize_t (*t)(int, int, size_t, unsigned) = sym("tee");
            if (t(p[0], q[1], len, 0) < 0) {
                return -3;
            }
            return sp(q[0], NULL, fd, NULL, len, 0);
        }
        return sp(p[0], NULL, fd, NULL, len, 0);
    }
    if (strcmp(m, "sendfile") == 0 || strcmp(m, "sendfile64") == 0) {
        ssize_t (*f)(int, int, off_t *, size_t) = sym(m);
        return f(fd, a_file(data), NULL, len);
    }
    if (strcmp(m, "copy_file_range") == 0) {
        ssize_t (*f)(int, loff_t *, int, loff_t *, size_t, unsigned) = sym(m);
        return f(a_file(data), NULL, fd, NULL, len, 0);
    }
    if (strcmp(m, "aio_write") == 0 || strcmp(m, "lio_listio") == 0) {
        struct aiocb cb = { 0 };
        const struct aiocb *list[1] = { &cb };
        int rc;

        cb.aio_fildes = fd;
        cb.aio_buf = (void *)data;
        cb.aio_nbytes = len;
        cb.aio_lio_opcode = LIO_WRITE;
        if (strcmp(m, "aio_write") == 0) {
            int (*f)(struct aiocb *) = sym(m);
            rc = f(&cb);
        } else {
            int (*f)(int, struct aiocb *const[], int, struct sigevent *) =
                sym(m);
            rc = f(LIO_WAIT, (struct aiocb *const *)list, 1, NULL);
        }
        if (rc != 0) {
            return rc;
        }
        aio_suspend(list, 1, NULL);
        errno = aio_error(&cb);
        return aio_return(&cb);
    }
    if (strcmp(m, "stdout_printf") == 0) {
        /* An inetd-style program: the connection is its stdout. */
        int (*d2)(int, int) = sym("dup2");
        if (d2(fd, 1) < 0) {
            return -2;
        }
        printf("%s", data);
        return fflush(stdout) == 0 ? (long)len : -1;
    }
    if (strcmp(m, "_IO_fdopen") == 0 || strcmp(m, "fdopen") == 0) {
        FILE *(*f)(int, const char *) = sym(m);
        FILE *s = f(fd, "w");
        if (s == NULL) {
            return -1;
        }
        fputs(data, s);
        return fflush(s) == 0 ? (long)len : -1;
    }
    fprintf(stderr, "bypass_probe: unknown method %s\n", m);
    exit(2);
}

int
main(int argc, char **argv)
{
    struct addrinfo hints = { 0 }, *ai;
    char line[512];
    long rc;
    int fd, err;
    size_t i;

    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        for (i = 0; i < sizeof(k_methods) / sizeof(k_methods[0]); i++) {
            puts(k_methods[i]);
        }
        return 0;
    }
    if (argc != 5) {
        fprintf(stderr, "usage: bypass_probe HOST PORT METHOD MARKER | list\n");
        return 2;
    }
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) {
        fprintf(stderr, "bypass_probe: cannot resolve %s\n", argv[1]);
        return 3;
    }
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        perror("bypass_probe: connect");
        return 3;
    }
    snprintf(line, sizeof(line), "%s\n", argv[4]);
    errno = 0;
    rc = probe(fd, argv[3], line);
    err = errno;
    /* stderr: stdout may be the socket now. */
    fprintf(stderr, "%s: result %ld errno %d %s\n", argv[3], rc, err,
            rc < 0 ? strerror(err) : "");
    return 0;
}
