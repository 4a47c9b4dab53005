/*
 * readiness.h - poll() and select() that see plaintext buffered inside a
 * TLS session.
 *
 * A TLS record can hold more than the program read; the rest waits inside
 * BoringSSL while the socket itself is not readable.  A program that polls
 * before each read would then wait for data it already has.  These
 * functions report such descriptors readable at once.  A client session
 * that has not sent its ClientHello yet, polled for reading, gets its
 * handshake run first: in protocols where the server speaks first (SMTP,
 * FTP, POP3) nothing would ever arrive otherwise.
 *
 * Each returns what the real call returns, with errno.
 */
#ifndef TLSSHIM_READINESS_H
#define TLSSHIM_READINESS_H

#include "tlsshim/session.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

/* readiness_poll is ppoll() with the shim's view of wrapped descriptors;
 * |timeout| NULL waits for ever. */
int readiness_poll(struct pollfd *fds, nfds_t nfds,
                   const struct timespec *timeout, const sigset_t *sigmask);

/* readiness_select is pselect() with the shim's view of wrapped
 * descriptors. */
int readiness_select(int nfds, fd_set *readfds, fd_set *writefds,
                     fd_set *exceptfds, const struct timespec *timeout,
                     const sigset_t *sigmask);

/* readiness_epoll_ctl is epoll_ctl().  A wrapped descriptor is registered
 * with the kernel under a tagged data value and, during a handshake, for
 * the direction the handshake needs; the program's events and data are
 * kept here. */
int readiness_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);

/* readiness_epoll_wait is epoll_pwait() with the shim's view: buffered
 * plaintext reported as EPOLLIN (for an edge-triggered registration once
 * per read of the program, for EPOLLONESHOT once per arming), handshakes
 * waited for in the direction they need and never past their deadline,
 * and the program's own data handed back.  Its cost grows with the
 * registrations whose session is busy (handshaking or holding buffered
 * bytes), not with all of them. */
int readiness_epoll_wait(int epfd, struct epoll_event *events, int max,
                         int timeout_ms, const sigset_t *sigmask);

/* readiness_forget drops the epoll records of |fd|, whose session is |s|:
 * |fd| is being closed, or is about to name something else. */
void readiness_forget(struct session *s, int fd);

/* readiness_epoll_closed drops the records of the epoll instances whose
 * descriptors, between |first| and |last|, are being closed. */
void readiness_epoll_closed(unsigned first, unsigned last);

#endif /* TLSSHIM_READINESS_H */
