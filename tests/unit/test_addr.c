/*
 * test_addr.c - normalising and formatting socket addresses.
 */
#include "tlsshim/addr.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

static struct sockaddr_in
addr4(const char *text, unsigned short port)
{
    struct sockaddr_in in4;

    memset(&in4, 0, sizeof(in4));
    in4.sin_family = AF_INET;
    in4.sin_port = htons(port);
    cr_assert_eq(inet_pton(AF_INET, text, &in4.sin_addr), 1, "%s", text);
    return in4;
}

static struct sockaddr_in6
addr6(const char *text, unsigned short port)
{
    struct sockaddr_in6 in6;

    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    cr_assert_eq(inet_pton(AF_INET6, text, &in6.sin6_addr), 1, "%s", text);
    return in6;
}

#define SA(x) ((struct sockaddr *)&(x))

Test(addr, normalizes_ipv4_unchanged)
{
    struct sockaddr_in a = addr4("192.0.2.1", 80);
    struct sockaddr_storage out;

    cr_assert(addr_normalize(SA(a), sizeof(a), &out));
    cr_assert_eq(out.ss_family, AF_INET);
    cr_assert_eq(memcmp(&out, &a, sizeof(a)), 0);
}

Test(addr, normalizes_ipv6_unchanged)
{
    struct sockaddr_in6 a = addr6("2001:db8::1", 443);
    struct sockaddr_storage out;

    a.sin6_scope_id = 3;
    cr_assert(addr_normalize(SA(a), sizeof(a), &out));
    cr_assert_eq(out.ss_family, AF_INET6);
    cr_assert_eq(memcmp(&out, &a, sizeof(a)), 0);
}

Test(addr, turns_mapped_ipv6_into_ipv4_with_its_port)
{
    struct sockaddr_in6 a = addr6("::ffff:198.51.100.7", 8443);
    struct sockaddr_in want = addr4("198.51.100.7", 8443);
    struct sockaddr_storage out;

    cr_assert(addr_normalize(SA(a), sizeof(a), &out));
    cr_assert_eq(out.ss_family, AF_INET);
    cr_assert_eq(memcmp(&out, &want, sizeof(want)), 0);
}

Test(addr, leaves_compatible_and_loopback_ipv6_alone)
{
    static const char *const cases[] = { "::1", "::", "::198.51.100.7",
                                         "64:ff9b::198.51.100.7" };
    struct sockaddr_storage out;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sockaddr_in6 a = addr6(cases[i], 1);

        cr_assert(addr_normalize(SA(a), sizeof(a), &out), "%s", cases[i]);
        cr_assert_eq(out.ss_family, AF_INET6, "%s", cases[i]);
    }
}

Test(addr, refuses_other_families_and_short_lengths)
{
    struct sockaddr_un un;
    struct sockaddr_in a = addr4("192.0.2.1", 80);
    struct sockaddr_in6 b = addr6("::1", 80);
    struct sockaddr_storage out;

    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    cr_assert_not(addr_normalize(SA(un), sizeof(un), &out));
    cr_assert_not(addr_normalize(SA(a), sizeof(a) - 1, &out));
    cr_assert_not(addr_normalize(SA(b), sizeof(b) - 1, &out));
    cr_assert_not(addr_normalize(SA(a), 1, &out));
    cr_assert_not(addr_normalize(SA(a), 0, &out));
    cr_assert_not(addr_normalize(NULL, sizeof(a), &out));
    cr_assert_not(addr_normalize(SA(a), sizeof(a), NULL));
}

Test(addr, reads_and_sets_ports)
{
    struct sockaddr_in a = addr4("192.0.2.1", 80);
    struct sockaddr_in6 b = addr6("::1", 443);
    struct sockaddr_un un;

    cr_assert_eq(addr_port(SA(a)), 80);
    cr_assert_eq(addr_port(SA(b)), 443);
    addr_set_port(SA(a), 636);
    addr_set_port(SA(b), 65535);
    cr_assert_eq(ntohs(a.sin_port), 636);
    cr_assert_eq(ntohs(b.sin6_port), 65535);
    cr_assert_eq(addr_port(SA(b)), 65535);

    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    cr_assert_eq(addr_port(SA(un)), 0);
    addr_set_port(SA(un), 1);
    cr_assert_eq(un.sun_path[0], '\0', "a UNIX address is left alone");
    cr_assert_eq(addr_port(NULL), 0);
    addr_set_port(NULL, 1);
}

struct format_case {
    int family;
    const char *addr;
    unsigned short port;
    const char *want;      /* addr_format */
    const char *want_host; /* addr_format_host */
};

Test(addr, formats_addresses_for_logs)
{
    static const struct format_case cases[] = {
        { AF_INET, "192.0.2.1", 80, "192.0.2.1:80", "192.0.2.1" },
        { AF_INET, "0.0.0.0", 0, "0.0.0.0:0", "0.0.0.0" },
        { AF_INET6, "::1", 443, "[::1]:443", "::1" },
        { AF_INET6, "2001:db8::ab:1", 65535, "[2001:db8::ab:1]:65535",
          "2001:db8::ab:1" },
        { AF_INET6, "::ffff:198.51.100.7", 25, "198.51.100.7:25",
          "198.51.100.7" },
        { AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
          "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
    };
    char out[ADDR_TEXT_MAX];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct format_case *c = &cases[i];
        struct sockaddr_storage ss;

        memset(&ss, 0, sizeof(ss));
        if (c->family == AF_INET) {
            struct sockaddr_in a = addr4(c->addr, c->port);

            memcpy(&ss, &a, sizeof(a));
        } else {
            struct sockaddr_in6 a = addr6(c->addr, c->port);

            memcpy(&ss, &a, sizeof(a));
        }
        cr_assert_eq(addr_format(SA(ss), out, sizeof(out)), out);
        cr_assert_str_eq(out, c->want);
        cr_assert_eq(addr_format_host(SA(ss), out, sizeof(out)), out);
        cr_assert_str_eq(out, c->want_host);
    }
}

Test(addr, formats_unknown_families_as_a_question_mark)
{
    struct sockaddr_un un;
    char out[ADDR_TEXT_MAX];

    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    cr_assert_str_eq(addr_format(SA(un), out, sizeof(out)), "?");
    cr_assert_str_eq(addr_format_host(SA(un), out, sizeof(out)), "?");
    cr_assert_str_eq(addr_format(NULL, out, sizeof(out)), "?");
}

Test(addr, cuts_text_to_a_small_buffer)
{
    struct sockaddr_in a = addr4("192.0.2.1", 8080);
    char out[8];

    memset(out, 'Z', sizeof(out));
    addr_format(SA(a), out, sizeof(out));
    cr_assert_str_eq(out, "192.0.2");
    addr_format_host(SA(a), out, 4);
    cr_assert_str_eq(out, "192");
    out[0] = 'Z';
    addr_format(SA(a), out, 0);
    cr_assert_eq(out[0], 'Z');
}
