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

#include <poll.h>
#include <signal.h>
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

#endif /* TLSSHIM_READINESS_H */
