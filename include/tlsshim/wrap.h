/*
 * wrap.h - deciding which connections get TLS, and ending them.
 *
 * The interposed connect(), accept*() and close() call these after the
 * real call (or, for close, before it).  Only TCP over IPv4 or IPv6 is ever
 * wrapped; UNIX sockets, UDP and connections no rule matches are left
 * alone.
 */
#ifndef TLSSHIM_WRAP_H
#define TLSSHIM_WRAP_H

#include <sys/socket.h>

/* wrap_connect connects |fd| to |addr| as connect() does.  If a [client]
 * rule matches the address (and the name the program resolved for it), it
 * connects to the rule's connect_port instead when one is set and, once the
 * connection is made or in progress, registers a PENDING session for |fd|.
 * Returns what the real connect() returned, with its errno. */
int wrap_connect(int fd, const struct sockaddr *addr, socklen_t len);

/* wrap_accepted registers a PENDING session for the connection |fd| that
 * accept() just returned, if a [server] rule matches its local address.
 * If the connection matches but cannot be tracked, it is closed and -1 is
 * returned with errno set; otherwise 0. */
int wrap_accepted(int fd);

/* wrap_recognise wraps a connection the program did not make through the
 * interposed calls: one inherited over exec (inetd-style services get it
 * as fds 0 and 1) or received with SCM_RIGHTS.  A [server] rule is tried on
 * its local address, then a [client] rule on its peer address.  Nothing
 * happens if |fd| is already wrapped, is not TCP, or no rule matches. */
void wrap_recognise(int fd);

/* wrap_close forgets |fd| (sending close_notify if it was the session's
 * last descriptor in the process that owns the session) and closes it. */
int wrap_close(int fd);

#endif /* TLSSHIM_WRAP_H */
