/*
 * interpose.c - the libc names the shim exports.
 *
 * Each function makes sure the real calls are known, looks the descriptor
 * up, and hands over: to the real call when the descriptor is not wrapped,
 * to session.c when it is.  A process without a policy never has a wrapped
 * descriptor, so for it each call costs one table look-up.
 *
 * Every byte-moving call that can reach a socket is here, including the
 * ones glibc implements without going through the others (send does not
 * call sendto, stdio does not call read): any call missing from this file
 * would carry the program's plaintext to the wire.
 */
#include "tlsshim/fdtable.h"
#include "tlsshim/init.h"
#include "tlsshim/names.h"
#include "tlsshim/readiness.h"
#include "tlsshim/real.h"
#include "tlsshim/session.h"
#include "tlsshim/streams.h"
#include "tlsshim/wrap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

/* Size of the buffer that gathers a writev()/sendmsg() into one TLS record
 * and that carries sendfile() data: one full record. */
#define INTERPOSE_GATHER_MAX 16384

extern void __chk_fail(void) __attribute__((noreturn));

/* interpose_result turns a session result (count or negative errno) into
 * the libc contract. */
static ssize_t
interpose_result(ssize_t rc)
{
    if (rc < 0) {
        errno = (int)-rc;
        return -1;
    }
    return rc;
}

/* interpose_session returns the session of |fd| (a reference), or NULL. */
static struct session *
interpose_session(int fd)
{
    real_resolve();
    return fdtable_get(fd);
}

/* --- connections --- */

SHIM_EXPORT int
connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    real_resolve();
    init_ensure();
    if (!atomic_load_explicit(&init_active, memory_order_acquire)) {
        return libc.connect(fd, addr, len);
    }
    return wrap_connect(fd, addr, len);
}

SHIM_EXPORT int
accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    int conn;

    real_resolve();
    init_ensure();
    conn = libc.accept4(fd, addr, len, flags);
    if (conn < 0 || !atomic_load_explicit(&init_active, memory_order_acquire)) {
        return conn;
    }
    return wrap_accepted(conn) == 0 ? conn : -1;
}

SHIM_EXPORT int
accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    int conn;

    real_resolve();
    init_ensure();
    conn = libc.accept(fd, addr, len);
    if (conn < 0 || !atomic_load_explicit(&init_active, memory_order_acquire)) {
        return conn;
    }
    return wrap_accepted(conn) == 0 ? conn : -1;
}

SHIM_EXPORT int
close(int fd)
{
    real_resolve();
    return wrap_close(fd);
}

SHIM_EXPORT int
close_range(unsigned int first, unsigned int last, int flags)
{
    real_resolve();
    if (!(flags & CLOSE_RANGE_CLOEXEC)) {
        /* Only the part of the range the table can hold needs a look. */
        unsigned int end = last < (unsigned int)INT_MAX ? last : INT_MAX;

        for (unsigned int fd = first; fd <= end && fdtable_count() > 0; fd++) {
            bool was_last;
            struct session *s = fdtable_take((int)fd, &was_last);

            if (s != NULL) {
                readiness_forget(s, (int)fd);
            }
            if (s != NULL && was_last) {
                session_close_last(s, (int)fd);
            }
            session_unref(s);
        }
        readiness_epoll_closed(first, last);
    }
    return libc.close_range(first, last, flags);
}

SHIM_EXPORT int
shutdown(int fd, int how)
{
    struct session *s = interpose_session(fd);

    if (s != NULL) {
        if (how == SHUT_WR || how == SHUT_RDWR) {
            session_shutdown(s, fd);
        }
        session_unref(s);
    }
    return libc.shutdown(fd, how);
}

/* --- descriptors that share a session --- */

/* interpose_dup_done gives |fd2|, just made a copy of |fd|, the session of
 * |fd|.  A wrapped socket copied onto 0, 1 or 2 (as inetd-style servers do
 * before they exec or serve) also gets the matching stdio stream. */
static void
interpose_dup_done(int fd, int fd2)
{
    struct session *s = fdtable_get(fd2);

    /* dup2() closed what |fd2| was: its epoll records go with it. */
    if (s != NULL) {
        readiness_forget(s, fd2);
        session_unref(s);
    } else {
        readiness_epoll_closed((unsigned)fd2, (unsigned)fd2);
    }
    fdtable_dup(fd, fd2);
    if (fd2 > 2) {
        return;
    }
    s = fdtable_get(fd2);
    if (s != NULL) {
        streams_adopt_std(fd2);
        session_unref(s);
    }
}

SHIM_EXPORT int
dup(int fd)
{
    int copy;

    real_resolve();
    copy = libc.dup(fd);
    if (copy >= 0) {
        fdtable_dup(fd, copy);
    }
    return copy;
}

SHIM_EXPORT int
dup2(int fd, int fd2)
{
    int rc;

    real_resolve();
    rc = libc.dup2(fd, fd2);
    if (rc >= 0 && fd != fd2) {
        interpose_dup_done(fd, fd2);
    }
    return rc;
}

SHIM_EXPORT int
dup3(int fd, int fd2, int flags)
{
    int rc;

    real_resolve();
    rc = libc.dup3(fd, fd2, flags);
    if (rc >= 0) {
        interpose_dup_done(fd, fd2);
    }
    return rc;
}

/* interpose_fcntl runs fcntl(|fd|, |cmd|, |arg|) and keeps descriptors
 * made by F_DUPFD* on their session.  The third argument is an int or a
 * pointer depending on |cmd|; both travel in the same register on the ABIs
 * glibc supports, so it is passed on as a pointer-sized value. */
static int
interpose_fcntl(int fd, int cmd, void *arg)
{
    int rc;

    real_resolve();
    rc = libc.fcntl(fd, cmd, arg);
    if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) {
        fdtable_dup(fd, rc);
    }
    return rc;
}

SHIM_EXPORT int
fcntl(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return interpose_fcntl(fd, cmd, arg);
}

/* fcntl64 is the name programs built with 64-bit file offsets on glibc
 * 2.28 and later call. */
SHIM_EXPORT int
fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return interpose_fcntl(fd, cmd, arg);
}

/* ioctl(FIONREAD) on a wrapped socket answers how much plaintext a read
 * would return at once, not how many encrypted bytes the kernel holds.
 * Other requests pass through; the third argument is pointer-sized as for
 * fcntl. */
SHIM_EXPORT int
ioctl(int fd, unsigned long request, ...)
{
    struct session *s;
    va_list ap;
    void *arg;
    int rc;

    va_start(ap, request);
    arg = va_arg(ap, void *);
    va_end(ap);

    s = interpose_session(fd);
    if (s == NULL || request != FIONREAD || arg == NULL) {
        session_unref(s);
        return libc.ioctl(fd, request, arg);
    }
    rc = session_readable(s, fd);
    session_unref(s);
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    *(int *)arg = rc;
    return 0;
}

/* --- reading --- */

SHIM_EXPORT ssize_t
read(int fd, void *buf, size_t len)
{
    struct session *s = interpose_session(fd);
    ssize_t rc;

    if (s == NULL) {
        return libc.read(fd, buf, len);
    }
    rc = session_read(s, fd, buf, len, 0);
    session_unref(s);
    return interpose_result(rc);
}

SHIM_EXPORT ssize_t
__read_chk(int fd, void *buf, size_t len, size_t buf_len)
{
    if (len > buf_len) {
        __chk_fail();
    }
    return read(fd, buf, len);
}

SHIM_EXPORT ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
    struct session *s = interpose_session(fd);
    ssize_t rc;

    if (s == NULL) {
        return libc.recv(fd, buf, len, flags);
    }
    rc = session_read(s, fd, buf, len, flags);
    session_unref(s);
    return interpose_result(rc);
}

SHIM_EXPORT ssize_t
__recv_chk(int fd, void *buf, size_t len, size_t buf_len, int flags)
{
    if (len > buf_len) {
        __chk_fail();
    }
    return recv(fd, buf, len, flags);
}

SHIM_EXPORT ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
         socklen_t *addr_len)
{
    struct session *s = interpose_session(fd);
    ssize_t rc;

    if (s == NULL) {
        return libc.recvfrom(fd, buf, len, flags, addr, addr_len);
    }
    rc = session_read(s, fd, buf, len, flags);
    session_unref(s);
    /* A connected TCP socket reports no source address. */
    if (addr_len != NULL) {
        *addr_len = 0;
    }
    return interpose_result(rc);
}

SHIM_EXPORT ssize_t
__recvfrom_chk(int fd, void *buf, size_t len, size_t buf_len, int flags,
               struct sockaddr *addr, socklen_t *addr_len)
{
    if (len > buf_len) {
        __chk_fail();
    }
    return recvfrom(fd, buf, len, flags, addr, addr_len);
}

/* interpose_read_iov scatters plaintext over |iov|: it blocks (if the
 * socket does) only for the first byte, then takes what is ready. */
static ssize_t
interpose_read_iov(struct session *s, int fd, const struct iovec *iov,
                   int iovcnt, int flags)
{
    ssize_t got = 0;

    for (int i = 0; i < iovcnt; i++) {
        ssize_t n;

        if (iov[i].iov_len == 0) {
            continue;
        }
        n = session_read(s, fd, iov[i].iov_base, iov[i].iov_len,
                         got > 0 ? flags | MSG_DONTWAIT : flags);
        if (n < 0) {
            return got > 0 ? got : n;
        }
        got += n;
        if ((size_t)n < iov[i].iov_len || (flags & MSG_PEEK)) {
            break;
        }
    }
    return got;
}

SHIM_EXPORT ssize_t
readv(int fd, const struct iovec *iov, int iovcnt)
{
    struct session *s = interpose_session(fd);
    ssize_t rc;

    if (s == NULL) {
        return libc.readv(fd, iov, iovcnt);
    }
    rc = interpose_read_iov(s, fd, iov, iovcnt, 0);
    session_unref(s);
    return interpose_result(rc);
}

/* interpose_recognise_passed wraps connections that arrived as SCM_RIGHTS
 * (vsftpd hands sockets between its processes this way). */
static void
interpose_recognise_passed(struct msghdr *msg)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL;
         c = CMSG_NXTHDR(msg, c)) {
        size_t n;

        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;

            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
            wrap_recognise(fd);
        }
    }
}

SHIM_EXPORT ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
    struct session *s = interpose_session(fd);
    ssize_t rc;

    if (s == NULL) {
        rc = libc.recvmsg(fd, msg, flags);
        if (rc >= 0 && msg->msg_controllen > 0 &&
            atomic_load_explicit(&init_active, memory_order_relaxed)) {
            interpose_recognise_passed(msg);
        }
        return rc;
    }
    rc = interpose_read_iov(s, fd, msg->msg_iov, (int)msg->msg_iovlen, flags);
    session_unref(s);
    /* TCP carries no address and, here, no ancillary data. */
    msg->msg_namelen = 0;
    msg->msg_controllen = 0;
    msg->msg_flags = 0;
    return interpose_result(rc);
}

/* --- writing --- */

SHIM_EXPORT ssize_t
write(int fd, const void *buf, size_t len)
{
    struct session *s = interpose_session(fd);
    ssize_t rc;

    if (s == NULL) {
        return libc.write(fd, buf, len);
    }
    rc = session_write(s, fd, buf, len, 0);
    session_unref(s);
    return interpose_result(rc);
}

SHIM_EXPORT ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
    struct session *s = interpose_session(fd);
    ssize_t rc;

    if (s == NULL) {
        return libc.send(fd, buf, len, flags);
    }
    rc = session_write(s, fd, buf, len, flags);
    session_unref(s);
    return interpose_result(rc);
}

SHIM_EXPORT ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
       const struct sockaddr *addr, socklen_t addr_len)
{
    struct session *s = interpose_session(fd);
    ssize_t rc;

    if (s == NULL) {
        return libc.sendto(fd, buf, len, flags, addr, addr_len);
    }
    /* The address is ignored, as it is for a connected TCP socket. */
    rc = session_write(s, fd, buf, len, flags);
    session_unref(s);
    return interpose_result(rc);
}

/* interpose_write_iov sends |iov| through the session.  Small vectors are
 * gathered first so that they leave as one record, not one per piece. */
static ssize_t
interpose_write_iov(struct session *s, int fd, const struct iovec *iov,
                    int iovcnt, int flags)
{
    char gather[INTERPOSE_GATHER_MAX];
    size_t total = 0;
    ssize_t sent = 0;

    if (iovcnt < 0) {
        return -EINVAL;
    }
    for (int i = 0; i < iovcnt; i++) {
        total += iov[i].iov_len;
    }
    if (total <= sizeof(gather)) {
        size_t off = 0;

        for (int i = 0; i < iovcnt; i++) {
            memcpy(gather + off, iov[i].iov_base, iov[i].iov_len);
            off += iov[i].iov_len;
        }
        return session_write(s, fd, gather, total, flags);
    }

    /* Larger: a piece at a time, each but the last with MSG_MORE so that
     * TCP sends full segments across the pieces. */
    for (int i = 0; i < iovcnt; i++) {
        ssize_t n;

        if (iov[i].iov_len == 0) {
            continue;
        }
        total -= iov[i].iov_len;
        n = session_write(s, fd, iov[i].iov_base, iov[i].iov_len,
                          flags | (total > 0 ? MSG_MORE : 0));
        if (n > 0) {
            sent += n;
        }
        if (n < 0 || (size_t)n < iov[i].iov_len) {
            if (total > 0 && !(flags & MSG_MORE)) {
                session_push(s, fd); /* stopped early: send what waits */
            }
            return sent > 0 ? sent : n;
        }
    }
    return sent;
}

SHIM_EXPORT ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
    struct session *s = interpose_session(fd);
    ssize_t rc;

    if (s == NULL) {
        return libc.writev(fd, iov, iovcnt);
    }
    rc = interpose_write_iov(s, fd, iov, iovcnt, 0);
    session_unref(s);
    return interpose_result(rc);
}

SHIM_EXPORT ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
    struct session *s = interpose_session(fd);
    ssize_t rc;

    if (s == NULL) {
        return libc.sendmsg(fd, msg, flags);
    }
    rc = interpose_write_iov(s, fd, msg->msg_iov, (int)msg->msg_iovlen, flags);
    session_unref(s);
    return interpose_result(rc);
}

/* interpose_sendfile copies the file through the session, a record at a
 * time, reading at explicit offsets so that a short send leaves the file
 * position (or |*offset|) just past what was really sent. */
static ssize_t
interpose_sendfile(struct session *s, int out_fd, int in_fd, off_t *offset,
                   size_t count)
{
    char buf[INTERPOSE_GATHER_MAX];
    off_t start = offset != NULL ? *offset : lseek(in_fd, 0, SEEK_CUR);
    size_t done = 0;
    ssize_t rc = 0;

    if (start < 0) {
        return -errno;
    }
    while (done < count) {
        size_t want = count - done < sizeof(buf) ? count - done : sizeof(buf);
        ssize_t got = pread(in_fd, buf, want, start + (off_t)done);
        ssize_t n;

        if (got <= 0) {
            rc = got < 0 ? -errno : 0;
            break;
        }
        /* MSG_MORE while more of the file follows: full TCP segments. */
        n = session_write(s, out_fd, buf, (size_t)got,
                          done + (size_t)got < count ? MSG_MORE : 0);
        if (n < 0) {
            rc = n;
            break;
        }
        done += (size_t)n;
        if (n < got) {
            break;
        }
    }
    if (done < count) {
        session_push(s, out_fd); /* the file ended early, or a short send */
    }
    if (offset != NULL) {
        *offset = start + (off_t)done;
    } else {
        lseek(in_fd, start + (off_t)done, SEEK_SET);
    }
    return done > 0 ? (ssize_t)done : rc;
}

SHIM_EXPORT ssize_t
sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
    struct session *s = interpose_session(out_fd);
    ssize_t rc;

    if (s == NULL) {
        return libc.sendfile(out_fd, in_fd, offset, count);
    }
    rc = interpose_sendfile(s, out_fd, in_fd, offset, count);
    session_unref(s);
    return interpose_result(rc);
}

SHIM_EXPORT ssize_t
sendfile64(int out_fd, int in_fd, off_t *offset, size_t count)
{
    return sendfile(out_fd, in_fd, offset, count);
}

/* splice() would move bytes between a pipe and the socket inside the
 * kernel, around the encryption; programs fall back to read/write when it
 * fails. */
SHIM_EXPORT ssize_t
splice(int fd_in, off64_t *off_in, int fd_out, off64_t *off_out, size_t len,
       unsigned int flags)
{
    struct session *in = interpose_session(fd_in);
    struct session *out = fdtable_get(fd_out);

    if (in != NULL || out != NULL) {
        session_unref(in);
        session_unref(out);
        errno = EINVAL;
        return -1;
    }
    return libc.splice(fd_in, off_in, fd_out, off_out, len, flags);
}

/* --- waiting --- */

SHIM_EXPORT int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    struct timespec ts;

    real_resolve();
    if (!atomic_load_explicit(&init_active, memory_order_acquire)) {
        return libc.poll(fds, nfds, timeout);
    }
    ts.tv_sec = timeout / 1000;
    ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
    return readiness_poll(fds, nfds, timeout < 0 ? NULL : &ts, NULL);
}

SHIM_EXPORT int
ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout,
      const sigset_t *sigmask)
{
    real_resolve();
    if (!atomic_load_explicit(&init_active, memory_order_acquire)) {
        return libc.ppoll(fds, nfds, timeout, sigmask);
    }
    return readiness_poll(fds, nfds, timeout, sigmask);
}

SHIM_EXPORT int
select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
       struct timeval *timeout)
{
    struct timespec start;
    struct timespec ts;
    int rc;

    real_resolve();
    if (!atomic_load_explicit(&init_active, memory_order_acquire)) {
        return libc.select(nfds, readfds, writefds, exceptfds, timeout);
    }
    if (timeout != NULL) {
        ts.tv_sec = timeout->tv_sec;
        ts.tv_nsec = timeout->tv_usec * 1000L;
        clock_gettime(CLOCK_MONOTONIC, &start);
    }
    rc = readiness_select(nfds, readfds, writefds, exceptfds,
                          timeout != NULL ? &ts : NULL, NULL);

    /* Linux's select() leaves the time not slept in |timeout|, and some
     * programs loop on that; pselect() does not, so it is done here. */
    if (timeout != NULL) {
        struct timespec now;
        long long left_us;
        int saved_errno = errno;

        clock_gettime(CLOCK_MONOTONIC, &now);
        left_us = (long long)timeout->tv_sec * 1000000 + timeout->tv_usec -
                  ((long long)(now.tv_sec - start.tv_sec) * 1000000 +
                   (now.tv_nsec - start.tv_nsec) / 1000);
        if (left_us < 0 || rc == 0) {
            left_us = 0;
        }
        timeout->tv_sec = (time_t)(left_us / 1000000);
        timeout->tv_usec = (suseconds_t)(left_us % 1000000);
        errno = saved_errno;
    }
    return rc;
}

SHIM_EXPORT int
pselect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
        const struct timespec *timeout, const sigset_t *sigmask)
{
    real_resolve();
    if (!atomic_load_explicit(&init_active, memory_order_acquire)) {
        return libc.pselect(nfds, readfds, writefds, exceptfds, timeout,
                            sigmask);
    }
    return readiness_select(nfds, readfds, writefds, exceptfds, timeout,
                            sigmask);
}

SHIM_EXPORT int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    real_resolve();
    if (!atomic_load_explicit(&init_active, memory_order_acquire)) {
        return libc.epoll_ctl(epfd, op, fd, event);
    }
    return readiness_epoll_ctl(epfd, op, fd, event);
}

SHIM_EXPORT int
epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout,
            const sigset_t *sigmask)
{
    real_resolve();
    if (!atomic_load_explicit(&init_active, memory_order_acquire)) {
        return libc.epoll_pwait(epfd, events, max, timeout, sigmask);
    }
    return readiness_epoll_wait(epfd, events, max, timeout, sigmask);
}

SHIM_EXPORT int
epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
    return epoll_pwait(epfd, events, max, timeout, NULL);
}

/* epoll_pwait2 takes a timespec; the shim rounds it up to milliseconds,
 * which is all the precision epoll_pwait has. */
SHIM_EXPORT int
epoll_pwait2(int epfd, struct epoll_event *events, int max,
             const struct timespec *timeout, const sigset_t *sigmask)
{
    int ms = -1;

    if (timeout != NULL) {
        long long total = (long long)timeout->tv_sec * 1000 +
                          (timeout->tv_nsec + 999999) / 1000000;

        ms = total > INT_MAX ? INT_MAX : (int)total;
    }
    return epoll_pwait(epfd, events, max, ms, sigmask);
}

/* --- stdio --- */

SHIM_EXPORT FILE *
fdopen(int fd, const char *mode)
{
    struct session *s = interpose_session(fd);

    if (s == NULL) {
        return libc.fdopen(fd, mode);
    }
    session_unref(s);
    return streams_fdopen(fd, mode);
}

SHIM_EXPORT int
fileno(FILE *stream)
{
    int fd;

    real_resolve();
    if (streams_fileno(stream, &fd)) {
        return fd;
    }
    return libc.fileno(stream);
}

SHIM_EXPORT int
fileno_unlocked(FILE *stream)
{
    int fd;

    real_resolve();
    if (streams_fileno(stream, &fd)) {
        return fd;
    }
    return libc.fileno_unlocked(stream);
}

/* --- names --- */

SHIM_EXPORT int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
            struct addrinfo **res)
{
    int rc;

    real_resolve();
    rc = libc.getaddrinfo(node, service, hints, res);
    if (rc == 0 && node != NULL &&
        atomic_load_explicit(&init_active, memory_order_acquire)) {
        for (struct addrinfo *ai = *res; ai != NULL; ai = ai->ai_next) {
            names_remember(ai->ai_addr, ai->ai_addrlen, node);
        }
    }
    return rc;
}

/* interpose_remember_host records every address of |h| as |name|. */
static void
interpose_remember_host(const struct hostent *h, const char *name)
{
    if (h == NULL || name == NULL ||
        !atomic_load_explicit(&init_active, memory_order_acquire)) {
        return;
    }
    for (char **a = h->h_addr_list; *a != NULL; a++) {
        struct sockaddr_storage ss;
        socklen_t len;

        memset(&ss, 0, sizeof(ss));
        if (h->h_addrtype == AF_INET && h->h_length == 4) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

            sin->sin_family = AF_INET;
            memcpy(&sin->sin_addr, *a, 4);
            len = sizeof(*sin);
        } else if (h->h_addrtype == AF_INET6 && h->h_length == 16) {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

            sin6->sin6_family = AF_INET6;
            memcpy(&sin6->sin6_addr, *a, 16);
            len = sizeof(*sin6);
        } else {
            continue;
        }
        names_remember((struct sockaddr *)&ss, len, name);
    }
}

SHIM_EXPORT struct hostent *
gethostbyname(const char *name)
{
    struct hostent *h;

    real_resolve();
    h = libc.gethostbyname(name);
    interpose_remember_host(h, name);
    return h;
}

SHIM_EXPORT int
gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
                struct hostent **result, int *h_errnop)
{
    int rc;

    real_resolve();
    rc = libc.gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
    if (rc == 0 && result != NULL) {
        interpose_remember_host(*result, name);
    }
    return rc;
}
