/*
 * wrap.c - turn a matching TCP connection into a TLS session.
 */
#include "tlsshim/wrap.h"

#include "tlsshim/addr.h"
#include "tlsshim/fdtable.h"
#include "tlsshim/init.h"
#include "tlsshim/log.h"
#include "tlsshim/names.h"
#include "tlsshim/readiness.h"
#include "tlsshim/real.h"
#include "tlsshim/session.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

/* wrap_is_tcp reports whether |fd| is a TCP stream socket (SCTP and others
 * also use SOCK_STREAM over IP). */
static bool
wrap_is_tcp(int fd)
{
    int type = 0;
    int proto = 0;
    socklen_t len = sizeof(type);

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
        type != SOCK_STREAM) {
        return false;
    }
    len = sizeof(proto);
    return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 &&
           proto == IPPROTO_TCP;
}

/* wrap_forget drops a stale entry for |fd|: its number was reused by a
 * descriptor that is not wrapped. */
static void
wrap_forget(int fd)
{
    bool last;

    session_unref(fdtable_take(fd, &last));
}

/* wrap_register creates and registers the session.  On failure (also when
 * the rule's TLS context is missing, |ctx| NULL) the connection cannot be
 * protected, so it is shut down. */
static int
wrap_register(int fd, const struct policy_rule *rule, SSL_CTX *ctx,
              const struct sockaddr *peer, const struct sockaddr *local,
              const char *name, const char *verb)
{
    struct session *s;
    int rc;

    if (ctx == NULL) {
        /* TLS could not be set up (init logged why once): the connection
         * is cut rather than left to carry plaintext. */
        libc.shutdown(fd, SHUT_RDWR);
        errno = ECONNREFUSED;
        return -1;
    }
    s = session_new(fd, rule, ctx, peer, local, name, verb);
    rc = s != NULL ? fdtable_set(fd, s) : -ENOMEM;
    session_unref(s);
    if (rc != 0) {
        log_msg(LOG_LEVEL_ERROR, "fd %d: %s: cannot track the connection: %s",
                fd, verb, strerror(-rc));
        libc.shutdown(fd, SHUT_RDWR);
        errno = -rc;
        return -1;
    }
    log_msg(LOG_LEVEL_DEBUG, "fd %d: wrapped by rule [%s %s] at %s:%d", fd,
            policy_kind_name(rule->kind), rule->label, rule->file, rule->line);
    return 0;
}

int
wrap_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct sockaddr_storage target;
    const struct policy_rule *rule;
    char name[NAMES_NAME_MAX];
    bool named;
    SSL_CTX *ctx;
    int saved_errno;
    int rc;

    if (addr == NULL || !addr_normalize(addr, len, &target) ||
        !wrap_is_tcp(fd)) {
        return libc.connect(fd, addr, len);
    }
    named = names_lookup(addr, len, name, sizeof(name));
    rule = init_match(POLICY_CLIENT, addr, len, named ? name : NULL, &ctx);
    if (rule == NULL) {
        wrap_forget(fd);
        return libc.connect(fd, addr, len);
    }
    if (ctx == NULL) {
        /* The rule wants TLS but TLS could not be set up (logged once):
         * no connection rather than a plaintext one. */
        errno = ECONNREFUSED;
        return -1;
    }

    /* Keep the program's own address family (an IPv6 socket needs the
     * mapped form) and change only the port, if the rule says so. */
    memcpy(&target, addr, len < sizeof(target) ? len : sizeof(target));
    if (rule->connect_port != 0) {
        addr_set_port((struct sockaddr *)&target, rule->connect_port);
    }
    rc = libc.connect(fd, (struct sockaddr *)&target, len);
    saved_errno = errno;
    if (rc == 0 || saved_errno == EINPROGRESS) {
        struct session *existing = fdtable_get(fd);

        /* A second connect() on a non-blocking socket keeps its session. */
        if (existing == NULL &&
            wrap_register(fd, rule, ctx, (struct sockaddr *)&target, NULL,
                          named ? name : NULL, "connect") != 0) {
            return -1;
        }
        session_unref(existing);
    }
    errno = saved_errno;
    return rc;
}

/* wrap_addresses reads the local and peer addresses of |fd| and reports
 * whether it is a TCP connection over IPv4 or IPv6, the only kind ever
 * wrapped.  A peer getpeername() cannot name is left zeroed (AF_UNSPEC). */
static bool
wrap_addresses(int fd, struct sockaddr_storage *local, socklen_t *local_len,
               struct sockaddr_storage *peer, socklen_t *peer_len)
{
    *local_len = sizeof(*local);
    *peer_len = sizeof(*peer);
    if (getsockname(fd, (struct sockaddr *)local, local_len) != 0 ||
        (local->ss_family != AF_INET && local->ss_family != AF_INET6) ||
        !wrap_is_tcp(fd)) {
        return false;
    }
    if (getpeername(fd, (struct sockaddr *)peer, peer_len) != 0) {
        memset(peer, 0, sizeof(*peer));
    }
    return true;
}

int
wrap_accepted(int fd)
{
    struct sockaddr_storage local;
    struct sockaddr_storage peer;
    socklen_t local_len;
    socklen_t peer_len;
    const struct policy_rule *rule;
    SSL_CTX *ctx;

    if (!wrap_addresses(fd, &local, &local_len, &peer, &peer_len)) {
        wrap_forget(fd);
        return 0;
    }
    rule = init_match(POLICY_SERVER, (struct sockaddr *)&local, local_len, NULL,
                      &ctx);
    if (rule == NULL) {
        wrap_forget(fd);
        return 0;
    }
    if (wrap_register(fd, rule, ctx, (struct sockaddr *)&peer,
                      (struct sockaddr *)&local, NULL, "accept") != 0) {
        int saved_errno = errno;

        libc.close(fd);
        errno = saved_errno;
        return -1;
    }
    return 0;
}

void
wrap_recognise(int fd)
{
    struct sockaddr_storage local;
    struct sockaddr_storage peer;
    socklen_t local_len;
    socklen_t peer_len;
    const struct policy_rule *rule;
    struct session *known = fdtable_get(fd);
    char name[NAMES_NAME_MAX];
    bool named;
    SSL_CTX *ctx;

    if (known != NULL) {
        session_unref(known);
        return;
    }
    if (!wrap_addresses(fd, &local, &local_len, &peer, &peer_len) ||
        peer.ss_family == AF_UNSPEC) {
        return;
    }

    rule = init_match(POLICY_SERVER, (struct sockaddr *)&local, local_len, NULL,
                      &ctx);
    if (rule != NULL) {
        (void)wrap_register(fd, rule, ctx, (struct sockaddr *)&peer,
                            (struct sockaddr *)&local, NULL, "accept");
        return;
    }
    named =
        names_lookup((struct sockaddr *)&peer, peer_len, name, sizeof(name));
    rule = init_match(POLICY_CLIENT, (struct sockaddr *)&peer, peer_len,
                      named ? name : NULL, &ctx);
    if (rule != NULL) {
        (void)wrap_register(fd, rule, ctx, (struct sockaddr *)&peer, NULL,
                            named ? name : NULL, "connect");
    }
}

int
wrap_close(int fd)
{
    bool last;
    struct session *s = fdtable_take(fd, &last);

    if (s != NULL) {
        readiness_forget(s, fd);
        if (last) {
            session_close_last(s, fd);
        }
        session_unref(s);
    } else {
        readiness_epoll_closed((unsigned)fd, (unsigned)fd);
    }
    return libc.close(fd);
}
