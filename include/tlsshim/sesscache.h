/*
 * sesscache.h - TLS sessions kept for resumption by this end as a client.
 *
 * A client that connects to the same server again resumes its TLS session
 * instead of a full handshake: cheaper for both ends.  Sessions are kept per
 * destination (the name verified and the address and port connected to),
 * so a session is only offered to the server it was verified with.  The
 * cache is per process and holds SESSCACHE_CAPACITY destinations; the
 * oldest is dropped when it is full.  All functions are thread-safe.
 */
#ifndef TLSSHIM_SESSCACHE_H
#define TLSSHIM_SESSCACHE_H

#include "tlsshim/boring.h"

/* SESSCACHE_CAPACITY is how many destinations keep a session. */
#define SESSCACHE_CAPACITY 64

/* SESSCACHE_KEY_MAX bounds a destination key, including the NUL. */
#define SESSCACHE_KEY_MAX 320

/* sesscache_take returns a session for |key| that the caller owns (and
 * passes to SSL_set_session, then frees), or NULL.  A session meant for
 * one use only (TLS 1.3 tickets) leaves the cache. */
SSL_SESSION *sesscache_take(const char *key);

/* sesscache_put stores |session| for |key|, taking over the caller's
 * reference, and releases the one it replaces. */
void sesscache_put(const char *key, SSL_SESSION *session);

#endif /* TLSSHIM_SESSCACHE_H */
