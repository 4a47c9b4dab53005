/*
 * interpose_rare.c - the less common ways bytes reach a socket.
 *
 * Each function here moves data on a descriptor without going through the
 * calls in interpose.c: glibc implements them with its own internal entry
 * points, which no interposer sees.  Left alone, any of them would carry a
 * wrapped connection's plaintext to the wire.  Each is routed through the
 * session, or refused on a wrapped descriptor where no faithful routing
 * exists (POSIX aio, which glibc runs in threads of its own).
 *
 * tests/integration/test_glibc_audit.sh lists glibc's exports and fails if
 * a new way appears that is neither here, in interpose.c, nor on the
 * reviewed list of harmless ones.
 */
#include "tlsshim/fdtable.h"
#include "tlsshim/real.h"

#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

/* interpose_rare_wrapped reports whether |fd| carries a session. */
static bool
interpose_rare_wrapped(int fd)
{
    struct session *s;

    real_resolve();
    s = fdtable_get(fd);
    session_unref(s);
    return s != NULL;
}

/* --- old and internal-looking names that glibc exports publicly --- */

SHIM_EXPORT ssize_t
__read(int fd, void *buf, size_t len)
{
    return read(fd, buf, len);
}

SHIM_EXPORT ssize_t
__write(int fd, const void *buf, size_t len)
{
    return write(fd, buf, len);
}

SHIM_EXPORT ssize_t
__send(int fd, const void *buf, size_t len, int flags)
{
    return send(fd, buf, len, flags);
}

/* --- several messages per call --- */

SHIM_EXPORT int
sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
    unsigned int i;

    if (!interpose_rare_wrapped(fd)) {
        return libc.sendmmsg(fd, vec, vlen, flags);
    }
    for (i = 0; i < vlen; i++) {
        ssize_t n = sendmsg(fd, &vec[i].msg_hdr, flags);

        if (n < 0) {
            return i > 0 ? (int)i : -1;
        }
        vec[i].msg_len = (unsigned int)n;
    }
    return (int)i;
}

SHIM_EXPORT int
recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
         struct timespec *timeout)
{
    unsigned int i;

    if (!interpose_rare_wrapped(fd)) {
        return libc.recvmmsg(fd, vec, vlen, flags, timeout);
    }
    /* On a stream the first message waits as recvmsg would; the others
     * take only what is ready (MSG_WAITFORONE is what TCP does anyway). */
    for (i = 0; i < vlen; i++) {
        ssize_t n = recvmsg(fd, &vec[i].msg_hdr,
                            i == 0 ? flags & ~MSG_WAITFORONE
                                   : (flags & ~MSG_WAITFORONE) | MSG_DONTWAIT);

        if (n <= 0) {
            if (i == 0) {
                return n < 0 ? -1 : 0;
            }
            break;
        }
        vec[i].msg_len = (unsigned int)n;
    }
    return (int)i;
}

/* --- readv/writev at "the current position" --- */

/* preadv2 and pwritev2 with offset -1 use the file position: on a socket
 * that is readv/writev.  Any other offset fails on a socket (ESPIPE). */
SHIM_EXPORT ssize_t
preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
{
    if (!interpose_rare_wrapped(fd)) {
        return libc.preadv2(fd, iov, iovcnt, offset, flags);
    }
    if (offset != -1) {
        errno = ESPIPE;
        return -1;
    }
    return readv(fd, iov, iovcnt);
}

SHIM_EXPORT ssize_t
preadv64v2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
{
    return preadv2(fd, iov, iovcnt, offset, flags);
}

SHIM_EXPORT ssize_t
pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags)
{
    if (!interpose_rare_wrapped(fd)) {
        return libc.pwritev2(fd, iov, iovcnt, offset, flags);
    }
    if (offset != -1) {
        errno = ESPIPE;
        return -1;
    }
    return writev(fd, iov, iovcnt);
}

SHIM_EXPORT ssize_t
pwritev64v2(int fd, const struct iovec *iov, int iovcnt, off_t offset,
            int flags)
{
    return pwritev2(fd, iov, iovcnt, offset, flags);
}

/* --- formatted output straight to a descriptor --- */

SHIM_EXPORT int
vdprintf(int fd, const char *fmt, va_list ap)
{
    char *text;
    int len;
    ssize_t done = 0;

    if (!interpose_rare_wrapped(fd)) {
        return libc.vdprintf(fd, fmt, ap);
    }
    len = vasprintf(&text, fmt, ap);
    if (len < 0) {
        return -1;
    }
    while (done < len) {
        ssize_t n = write(fd, text + done, (size_t)(len - done));

        if (n < 0) {
            free(text);
            return -1;
        }
        done += n;
    }
    free(text);
    return len;
}

SHIM_EXPORT int
dprintf(int fd, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vdprintf(fd, fmt, ap);
    va_end(ap);
    return rc;
}

/* The fortified forms (-D_FORTIFY_SOURCE=2 turns dprintf into
 * __dprintf_chk): glibc's own implementation writes with its internal
 * write, so they need the same treatment.  |flag| only asks glibc to
 * check the format (%n in writable memory); the session path formats with
 * vasprintf, which is not fortified, so the unwrapped path keeps glibc's. */
SHIM_EXPORT int
__vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
    if (!interpose_rare_wrapped(fd)) {
        return libc.vdprintf_chk(fd, flag, fmt, ap);
    }
    return vdprintf(fd, fmt, ap);
}

SHIM_EXPORT int
__dprintf_chk(int fd, int flag, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = __vdprintf_chk(fd, flag, fmt, ap);
    va_end(ap);
    return rc;
}

/* _IO_fdopen is glibc's old public name of fdopen (GLIBC_2.2.5). */
SHIM_EXPORT FILE *
_IO_fdopen(int fd, const char *mode)
{
    return fdopen(fd, mode);
}

/* --- POSIX aio: refused on wrapped sockets --- */

/* glibc runs aio requests in helper threads that call its internal write
 * and read: they cannot be routed through a session.  aio on a socket is
 * rare; programs that try it get EINVAL, the error for an fd the
 * implementation cannot do asynchronous I/O on. */
static bool
interpose_rare_aio_refused(const struct aiocb *cb)
{
    if (cb != NULL && interpose_rare_wrapped(cb->aio_fildes)) {
        errno = EINVAL;
        return true;
    }
    return false;
}

SHIM_EXPORT int
aio_read(struct aiocb *cb)
{
    return interpose_rare_aio_refused(cb) ? -1 : libc.aio_read(cb);
}

SHIM_EXPORT int
aio_write(struct aiocb *cb)
{
    return interpose_rare_aio_refused(cb) ? -1 : libc.aio_write(cb);
}

/* On x86-64 struct aiocb64 and struct aiocb are the same layout. */
SHIM_EXPORT int
aio_read64(struct aiocb64 *cb)
{
    return aio_read((struct aiocb *)cb);
}

SHIM_EXPORT int
aio_write64(struct aiocb64 *cb)
{
    return aio_write((struct aiocb *)cb);
}

SHIM_EXPORT int
lio_listio(int mode, struct aiocb *const list[], int n, struct sigevent *sev)
{
    for (int i = 0; i < n; i++) {
        if (interpose_rare_aio_refused(list[i])) {
            return -1;
        }
    }
    return libc.lio_listio(mode, list, n, sev);
}

SHIM_EXPORT int
lio_listio64(int mode, struct aiocb64 *const list[restrict], int n,
             struct sigevent *restrict sev)
{
    return lio_listio(mode, (struct aiocb *const *)list, n, sev);
}

/* --- syscall() --- */

/* A program may make the I/O system calls through syscall(3) instead of
 * their libc wrappers.  Those that move or manage a socket's data are sent
 * to the interposed wrappers (which pass unwrapped descriptors straight
 * on); everything else goes to the kernel unchanged.  System calls made
 * with inline instructions cannot be seen at all (README: limits). */
SHIM_EXPORT long
syscall(long number, ...)
{
    va_list ap;
    long a[6];

    va_start(ap, number);
    for (int i = 0; i < 6; i++) {
        a[i] = va_arg(ap, long);
    }
    va_end(ap);
    real_resolve();

    switch (number) {
    case SYS_read:
        return read((int)a[0], (void *)a[1], (size_t)a[2]);
    case SYS_write:
        return write((int)a[0], (const void *)a[1], (size_t)a[2]);
    case SYS_readv:
        return readv((int)a[0], (const struct iovec *)a[1], (int)a[2]);
    case SYS_writev:
        return writev((int)a[0], (const struct iovec *)a[1], (int)a[2]);
    case SYS_recvfrom:
        return recvfrom((int)a[0], (void *)a[1], (size_t)a[2], (int)a[3],
                        (struct sockaddr *)a[4], (socklen_t *)a[5]);
    case SYS_sendto:
        return sendto((int)a[0], (const void *)a[1], (size_t)a[2], (int)a[3],
                      (const struct sockaddr *)a[4], (socklen_t)a[5]);
    case SYS_recvmsg:
        return recvmsg((int)a[0], (struct msghdr *)a[1], (int)a[2]);
    case SYS_sendmsg:
        return sendmsg((int)a[0], (const struct msghdr *)a[1], (int)a[2]);
    case SYS_recvmmsg:
        return recvmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2],
                        (int)a[3], (struct timespec *)a[4]);
    case SYS_sendmmsg:
        return sendmmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned int)a[2],
                        (int)a[3]);
    case SYS_sendfile:
        return sendfile((int)a[0], (int)a[1], (off_t *)a[2], (size_t)a[3]);
    case SYS_splice:
        return splice((int)a[0], (off64_t *)a[1], (int)a[2], (off64_t *)a[3],
                      (size_t)a[4], (unsigned int)a[5]);
    case SYS_preadv2:
        return preadv2((int)a[0], (const struct iovec *)a[1], (int)a[2], a[3],
                       (int)a[5]);
    case SYS_pwritev2:
        return pwritev2((int)a[0], (const struct iovec *)a[1], (int)a[2], a[3],
                        (int)a[5]);
    case SYS_connect:
        return connect((int)a[0], (const struct sockaddr *)a[1],
                       (socklen_t)a[2]);
    case SYS_accept:
        return accept((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2]);
    case SYS_accept4:
        return accept4((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2],
                       (int)a[3]);
    case SYS_close:
        return close((int)a[0]);
    case SYS_shutdown:
        return shutdown((int)a[0], (int)a[1]);
    case SYS_dup:
        return dup((int)a[0]);
    case SYS_dup2:
        return dup2((int)a[0], (int)a[1]);
    case SYS_dup3:
        return dup3((int)a[0], (int)a[1], (int)a[2]);
    case SYS_ioctl:
        return ioctl((int)a[0], (unsigned long)a[1], (void *)a[2]);
    default:
        return libc.syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
}
