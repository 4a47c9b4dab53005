/*
 * names.h - memory of the names a program resolved.
 *
 * Programs connect to addresses, but a certificate is checked against a
 * name.  The interposed resolver calls (getaddrinfo, gethostbyname*) record
 * which name each address came from, so that a later connect() to that
 * address can send SNI and verify the certificate for that name.
 *
 * The memory is a fixed-size table: when it is full the oldest entry is
 * replaced.  All functions are thread-safe.
 */
#ifndef TLSSHIM_NAMES_H
#define TLSSHIM_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* NAMES_CAPACITY is how many address -> name entries are kept. */
#define NAMES_CAPACITY 256

/* NAMES_NAME_MAX bounds a remembered name, including the NUL. */
#define NAMES_NAME_MAX 256

/* names_remember records that |sa| (AF_INET or AF_INET6; the port is
 * ignored, mapped IPv6 is stored as IPv4) was resolved from |name|.
 * An empty name or one longer than NAMES_NAME_MAX - 1 is not recorded.  A
 * name that is itself a numeric address is not recorded either, and makes
 * the shim forget the name recorded earlier for that address: the program
 * now asked for the address itself.  A newer record for the same address
 * replaces the older one. */
void names_remember(const struct sockaddr *sa, socklen_t sa_len,
                    const char *name);

/* names_lookup copies the name last recorded for |sa| into |out| and returns
 * true, or returns false if there is none.  |out_len| should be at least
 * NAMES_NAME_MAX. */
bool names_lookup(const struct sockaddr *sa, socklen_t sa_len, char *out,
                  size_t out_len);

/* names_clear forgets every entry (for tests). */
void names_clear(void);

#endif /* TLSSHIM_NAMES_H */
