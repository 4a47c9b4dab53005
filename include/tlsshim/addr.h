/*
 * addr.h - small helpers for socket addresses: normalising IPv4-mapped IPv6
 * addresses and formatting an address for log lines.
 */
#ifndef TLSSHIM_ADDR_H
#define TLSSHIM_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* ADDR_TEXT_MAX is enough for "[" IPv6 "]:" port and the NUL. */
#define ADDR_TEXT_MAX 64

/* addr_normalize copies |sa| (|sa_len| bytes) to |out|, turning an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) into AF_INET with the same port.
 * It returns true for AF_INET and AF_INET6 addresses, false (and leaves
 * |out| unspecified) for any other family or a short |sa_len|. */
bool addr_normalize(const struct sockaddr *sa, socklen_t sa_len,
                    struct sockaddr_storage *out);

/* addr_port returns the port of an AF_INET or AF_INET6 address in host
 * order, or 0 for other families. */
unsigned short addr_port(const struct sockaddr *sa);

/* addr_set_port sets the port of an AF_INET or AF_INET6 address. */
void addr_set_port(struct sockaddr *sa, unsigned short port);

/* addr_format writes "1.2.3.4:80" or "[::1]:80" for |sa| into |out|
 * (at least ADDR_TEXT_MAX bytes) and returns |out|.  Mapped addresses are
 * shown as IPv4.  Unknown families give "?". */
char *addr_format(const struct sockaddr *sa, char *out, size_t out_len);

/* addr_format_host is addr_format without the port and brackets: the
 * address as text, suitable for verifying an IP SAN. */
char *addr_format_host(const struct sockaddr *sa, char *out, size_t out_len);

#endif /* TLSSHIM_ADDR_H */
