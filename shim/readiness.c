/*
 * readiness.c - poll/select over wrapped descriptors.
 *
 * The work per call is one table look-up per descriptor (no lock for the
 * unwrapped ones); a real ppoll/pselect follows, with a zero timeout when a
 * wrapped descriptor already has plaintext to give.
 */
#include "tlsshim/readiness.h"

#include "tlsshim/fdtable.h"
#include "tlsshim/real.h"
#include "tlsshim/session.h"

/* readiness_ready_now reports whether a read on |fd| would return at once
 * because of what the session holds, kicking a client handshake that
 * waits for the program's first read. */
static bool
readiness_ready_now(int fd)
{
    struct session *s = fdtable_get(fd);
    bool ready;

    if (s == NULL) {
        return false;
    }
    if (session_wants_kick(s)) {
        (void)session_handshake(s, fd);
    }
    ready = session_pending(s) > 0;
    session_unref(s);
    return ready;
}

int
readiness_poll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout,
               const sigset_t *sigmask)
{
    static const struct timespec zero = { 0, 0 };
    nfds_t buffered = 0;
    int rc;

    for (nfds_t i = 0; i < nfds; i++) {
        if ((fds[i].events & (POLLIN | POLLRDNORM)) &&
            readiness_ready_now(fds[i].fd)) {
            buffered++;
        }
    }
    rc = libc.ppoll(fds, nfds, buffered > 0 ? &zero : timeout, sigmask);
    if (buffered == 0 || rc < 0) {
        return rc;
    }

    /* Second pass: the buffered descriptors are readable whatever the
     * kernel said. */
    for (nfds_t i = 0; i < nfds; i++) {
        short in = fds[i].events & (POLLIN | POLLRDNORM);

        if (in && readiness_ready_now(fds[i].fd)) {
            if (fds[i].revents == 0) {
                rc++;
            }
            fds[i].revents |= in;
        }
    }
    return rc;
}

int
readiness_select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                 const struct timespec *timeout, const sigset_t *sigmask)
{
    static const struct timespec zero = { 0, 0 };
    fd_set buffered;
    int n_buffered = 0;
    int rc;

    FD_ZERO(&buffered);
    for (int fd = 0; readfds != NULL && fd < nfds && fd < FD_SETSIZE; fd++) {
        if (FD_ISSET(fd, readfds) && readiness_ready_now(fd)) {
            FD_SET(fd, &buffered);
            n_buffered++;
        }
    }
    rc = libc.pselect(nfds, readfds, writefds, exceptfds,
                      n_buffered > 0 ? &zero : timeout, sigmask);
    if (n_buffered == 0 || rc < 0) {
        return rc;
    }
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
        if (FD_ISSET(fd, &buffered) && !FD_ISSET(fd, readfds)) {
            FD_SET(fd, readfds);
            rc++;
        }
    }
    return rc;
}
