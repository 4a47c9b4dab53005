/*
 * streams.h - stdio on a wrapped socket.
 *
 * Programs such as tnftp, inetutils-ftp and busybox wget fdopen() their
 * socket and use fgets()/fprintf().  glibc's stdio reads and writes through
 * internal calls that no interposed read() or write() sees, so such a
 * stream would carry plaintext.  streams_fdopen() returns instead a stream
 * made with fopencookie() whose I/O goes through the session.  Such a
 * stream has no descriptor of its own, so fileno() must be answered from
 * the table kept here.
 */
#ifndef TLSSHIM_STREAMS_H
#define TLSSHIM_STREAMS_H

#include <stdbool.h>
#include <stdio.h>

/* streams_fdopen returns a stream over the wrapped socket |fd| opened with
 * |mode|, or NULL with errno set (EINVAL for a bad mode, ENOMEM).
 * Closing the stream closes |fd|, as fclose() of an fdopen()ed stream
 * does. */
FILE *streams_fdopen(int fd, const char *mode);

/* streams_fileno sets |*out_fd| to the socket under |stream| and returns
 * true if |stream| was made by streams_fdopen, else returns false. */
bool streams_fileno(FILE *stream, int *out_fd);

/* streams_flush_all flushes every stream made by streams_fdopen.  Called
 * at exit before sessions send close_notify: glibc flushes stdio only after
 * the library's destructor has run, too late for the session. */
void streams_flush_all(void);

/* streams_adopt_std replaces stdin, stdout or stderr (|fd| 0, 1 or 2,
 * which has just become a wrapped socket: inherited from inetd, or dup2'd
 * there) with a stream through the session, so that printf() and
 * fgets(stdin) do not write or read the socket in the clear.  Output the
 * old stream still buffered was meant for what the descriptor was before;
 * it is discarded, since flushing it now would put it on the socket
 * unencrypted. */
void streams_adopt_std(int fd);

#endif /* TLSSHIM_STREAMS_H */
