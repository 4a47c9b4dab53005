/*
 * addr.c - socket address helpers (see addr.h).
 *
 * These run inside interposed calls (connect, accept, getaddrinfo), so they
 * use only functions the shim never interposes: memcpy, inet_ntop and
 * snprintf.
 */
#include "tlsshim/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

bool
addr_normalize(const struct sockaddr *sa, socklen_t sa_len,
               struct sockaddr_storage *out)
{
    struct sockaddr_in6 in6;
    struct sockaddr_in *in4;

    if (sa == NULL || out == NULL || sa_len < sizeof(sa_family_t)) {
        return false;
    }

    if (sa->sa_family == AF_INET) {
        if (sa_len < sizeof(struct sockaddr_in)) {
            return false;
        }
        memset(out, 0, sizeof(*out));
        memcpy(out, sa, sizeof(struct sockaddr_in));
        return true;
    }

    if (sa->sa_family != AF_INET6 || sa_len < sizeof(struct sockaddr_in6)) {
        return false;
    }

    /* Copy first: |sa| need not be aligned for sockaddr_in6. */
    memcpy(&in6, sa, sizeof(in6));
    memset(out, 0, sizeof(*out));
    if (!IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
        memcpy(out, &in6, sizeof(in6));
        return true;
    }

    /* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; rules and
     * name records are written for IPv4, so present them as IPv4. */
    in4 = (struct sockaddr_in *)out;
    in4->sin_family = AF_INET;
    in4->sin_port = in6.sin6_port;
    memcpy(&in4->sin_addr, &in6.sin6_addr.s6_addr[12], 4);
    return true;
}

unsigned short
addr_port(const struct sockaddr *sa)
{
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;

    if (sa == NULL) {
        return 0;
    }
    if (sa->sa_family == AF_INET) {
        memcpy(&in4, sa, sizeof(in4));
        return ntohs(in4.sin_port);
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(&in6, sa, sizeof(in6));
        return ntohs(in6.sin6_port);
    }
    return 0;
}

void
addr_set_port(struct sockaddr *sa, unsigned short port)
{
    unsigned short net_port = htons(port);

    if (sa == NULL) {
        return;
    }
    if (sa->sa_family == AF_INET) {
        memcpy((char *)sa + offsetof(struct sockaddr_in, sin_port), &net_port,
               sizeof(net_port));
    } else if (sa->sa_family == AF_INET6) {
        memcpy((char *)sa + offsetof(struct sockaddr_in6, sin6_port), &net_port,
               sizeof(net_port));
    }
}

/* addr_text writes the host part of |sa| into |host| and sets |*out_v6| if
 * it is an IPv6 address.  Returns false for an unknown family. */
static bool
addr_text(const struct sockaddr *sa, char *host, size_t host_len, bool *out_v6)
{
    struct sockaddr_storage ss;
    socklen_t len;

    if (sa == NULL) {
        return false;
    }

    /* The caller's buffer holds a whole address of its family: the
     * header gives no length, so trust the family. */
    if (sa->sa_family == AF_INET) {
        len = sizeof(struct sockaddr_in);
    } else if (sa->sa_family == AF_INET6) {
        len = sizeof(struct sockaddr_in6);
    } else {
        return false;
    }
    if (!addr_normalize(sa, len, &ss)) {
        return false;
    }

    if (ss.ss_family == AF_INET) {
        *out_v6 = false;
        return inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host,
                         (socklen_t)host_len) != NULL;
    }
    *out_v6 = true;
    return inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host,
                     (socklen_t)host_len) != NULL;
}

char *
addr_format(const struct sockaddr *sa, char *out, size_t out_len)
{
    char host[INET6_ADDRSTRLEN];
    bool v6;

    if (out == NULL || out_len == 0) {
        return out;
    }
    if (!addr_text(sa, host, sizeof(host), &v6)) {
        snprintf(out, out_len, "?");
        return out;
    }
    if (v6) {
        snprintf(out, out_len, "[%s]:%u", host, (unsigned)addr_port(sa));
    } else {
        snprintf(out, out_len, "%s:%u", host, (unsigned)addr_port(sa));
    }
    return out;
}

char *
addr_format_host(const struct sockaddr *sa, char *out, size_t out_len)
{
    char host[INET6_ADDRSTRLEN];
    bool v6;

    if (out == NULL || out_len == 0) {
        return out;
    }
    if (!addr_text(sa, host, sizeof(host), &v6)) {
        snprintf(out, out_len, "?");
        return out;
    }
    snprintf(out, out_len, "%s", host);
    return out;
}
