/*
 * test_names.c - the memory of resolved names.
 *
 * Criterion runs each test in its own process, so each starts with an
 * empty table; names_clear is tested on its own.
 */
#include "tlsshim/names.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

/* addr4 returns an IPv4 socket address for |text| and |port|. */
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

/* addr6 returns an IPv6 socket address for |text| and |port|. */
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

#define SA(x) ((const struct sockaddr *)&(x))

/* lookup returns the name for |sa| or "" when there is none (a static
 * buffer). */
static const char *
lookup(const struct sockaddr *sa, socklen_t len)
{
    static char out[NAMES_NAME_MAX];

    if (!names_lookup(sa, len, out, sizeof(out))) {
        return "";
    }
    return out;
}

Test(names, remembers_an_ipv4_name)
{
    struct sockaddr_in a = addr4("192.0.2.1", 80);

    names_remember(SA(a), sizeof(a), "www.example.com");
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "www.example.com");
}

Test(names, remembers_an_ipv6_name)
{
    struct sockaddr_in6 a = addr6("2001:db8::1", 443);

    names_remember(SA(a), sizeof(a), "v6.example.com");
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "v6.example.com");
}

Test(names, finds_nothing_for_an_unknown_address)
{
    struct sockaddr_in a = addr4("192.0.2.1", 80);
    struct sockaddr_in b = addr4("192.0.2.2", 80);
    struct sockaddr_in6 c = addr6("::ffff:192.0.2.2", 80);
    char out[NAMES_NAME_MAX];

    names_remember(SA(a), sizeof(a), "a.example");
    strcpy(out, "untouched");
    cr_assert_not(names_lookup(SA(b), sizeof(b), out, sizeof(out)));
    cr_assert_not(names_lookup(SA(c), sizeof(c), out, sizeof(out)));
}

Test(names, ignores_the_port)
{
    struct sockaddr_in a = addr4("192.0.2.1", 53);
    struct sockaddr_in b = addr4("192.0.2.1", 636);

    names_remember(SA(a), sizeof(a), "ldap.example.com");
    cr_assert_str_eq(lookup(SA(b), sizeof(b)), "ldap.example.com");
}

Test(names, keeps_ipv4_and_ipv6_apart)
{
    /* The same 16 bytes read as different families are different keys. */
    struct sockaddr_in a = addr4("0.0.0.0", 80);
    struct sockaddr_in6 b = addr6("::", 80);

    names_remember(SA(a), sizeof(a), "four.example");
    names_remember(SA(b), sizeof(b), "six.example");
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "four.example");
    cr_assert_str_eq(lookup(SA(b), sizeof(b)), "six.example");
}

Test(names, stores_mapped_addresses_as_ipv4)
{
    struct sockaddr_in6 mapped = addr6("::ffff:198.51.100.7", 0);
    struct sockaddr_in plain = addr4("198.51.100.7", 25);
    struct sockaddr_in other = addr4("198.51.100.8", 25);
    struct sockaddr_in6 mapped_other = addr6("::ffff:198.51.100.8", 25);

    names_remember(SA(mapped), sizeof(mapped), "mx.example");
    cr_assert_str_eq(lookup(SA(plain), sizeof(plain)), "mx.example");
    cr_assert_str_eq(lookup(SA(mapped), sizeof(mapped)), "mx.example");

    names_remember(SA(other), sizeof(other), "mx2.example");
    cr_assert_str_eq(lookup(SA(mapped_other), sizeof(mapped_other)),
                     "mx2.example");
}

Test(names, replaces_the_name_of_an_address)
{
    struct sockaddr_in a = addr4("192.0.2.1", 80);

    names_remember(SA(a), sizeof(a), "old.example");
    names_remember(SA(a), sizeof(a), "new.example");
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "new.example");
}

Test(names, ignores_numeric_names)
{
    static const char *const numeric[] = { "192.0.2.1",    "::1",
                                           "2001:db8::1",  "::ffff:192.0.2.1",
                                           "fe80::1%eth0", "127.1",
                                           "0x7f000001",   "3221225985" };
    struct sockaddr_in a = addr4("192.0.2.1", 80);
    size_t i;

    for (i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
        names_remember(SA(a), sizeof(a), numeric[i]);
        cr_assert_str_eq(lookup(SA(a), sizeof(a)), "", "%s was kept",
                         numeric[i]);
    }

    /* A numeric lookup after a real name forgets the name: the program
     * now asks for the address itself (libldap resolves the host's own
     * name at start-up, then connects to "127.0.0.1"). */
    names_remember(SA(a), sizeof(a), "real.example");
    names_remember(SA(a), sizeof(a), "192.0.2.1");
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "");

    /* ... and a name resolved after that counts again. */
    names_remember(SA(a), sizeof(a), "again.example");
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "again.example");
}

Test(names, numeric_lookup_forgets_only_its_own_address)
{
    struct sockaddr_in a = addr4("192.0.2.1", 80);
    struct sockaddr_in b = addr4("192.0.2.2", 80);

    names_remember(SA(a), sizeof(a), "a.example");
    names_remember(SA(b), sizeof(b), "b.example");
    names_remember(SA(b), sizeof(b), "192.0.2.2");
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "a.example");
    cr_assert_str_eq(lookup(SA(b), sizeof(b)), "");
}

Test(names, keeps_names_that_only_start_with_digits)
{
    struct sockaddr_in a = addr4("192.0.2.1", 80);

    names_remember(SA(a), sizeof(a), "1.example");
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "1.example");
}

Test(names, ignores_empty_null_and_overlong_names)
{
    struct sockaddr_in a = addr4("192.0.2.1", 80);
    char longest[NAMES_NAME_MAX];
    char too_long[NAMES_NAME_MAX + 1];

    names_remember(SA(a), sizeof(a), "");
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "");
    names_remember(SA(a), sizeof(a), NULL);
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "");

    memset(too_long, 'a', NAMES_NAME_MAX);
    too_long[NAMES_NAME_MAX] = '\0';
    names_remember(SA(a), sizeof(a), too_long);
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "");

    memset(longest, 'b', NAMES_NAME_MAX - 1);
    longest[NAMES_NAME_MAX - 1] = '\0';
    names_remember(SA(a), sizeof(a), longest);
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), longest);
}

Test(names, ignores_other_families_and_short_addresses)
{
    struct sockaddr_un un;
    struct sockaddr_in a = addr4("192.0.2.1", 80);
    struct sockaddr_in6 b = addr6("2001:db8::1", 80);
    char out[NAMES_NAME_MAX];

    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    names_remember(SA(un), sizeof(un), "unix.example");
    cr_assert_not(names_lookup(SA(un), sizeof(un), out, sizeof(out)));

    names_remember(SA(a), sizeof(a) - 1, "short.example");
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "");
    names_remember(SA(b), sizeof(b) - 1, "short.example");
    cr_assert_str_eq(lookup(SA(b), sizeof(b)), "");

    names_remember(SA(a), sizeof(a), "a.example");
    cr_assert_not(names_lookup(SA(a), sizeof(a) - 1, out, sizeof(out)));
    cr_assert_not(names_lookup(NULL, 0, out, sizeof(out)));
    names_remember(NULL, 0, "null.example");
}

Test(names, refuses_to_cut_a_name_to_fit)
{
    struct sockaddr_in a = addr4("192.0.2.1", 80);
    char small[8];
    char exact[12];

    names_remember(SA(a), sizeof(a), "a.example.com");
    cr_assert_not(names_lookup(SA(a), sizeof(a), small, sizeof(small)));
    cr_assert_not(names_lookup(SA(a), sizeof(a), small, 0));
    cr_assert_not(names_lookup(SA(a), sizeof(a), NULL, 100));

    names_remember(SA(a), sizeof(a), "b.example.");
    cr_assert(names_lookup(SA(a), sizeof(a), exact, 11));
    cr_assert_str_eq(exact, "b.example.");
}

Test(names, replaces_the_oldest_entry_when_full)
{
    struct sockaddr_in a;
    char name[32];
    char text[32];
    int i;

    for (i = 0; i <= NAMES_CAPACITY; i++) {
        snprintf(text, sizeof(text), "10.0.%d.%d", i / 256, i % 256);
        snprintf(name, sizeof(name), "host%d.example", i);
        a = addr4(text, 80);
        names_remember(SA(a), sizeof(a), name);
    }

    /* Entry 0 made room for entry NAMES_CAPACITY; the rest stayed. */
    a = addr4("10.0.0.0", 80);
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "");
    for (i = 1; i <= NAMES_CAPACITY; i++) {
        snprintf(text, sizeof(text), "10.0.%d.%d", i / 256, i % 256);
        snprintf(name, sizeof(name), "host%d.example", i);
        a = addr4(text, 80);
        cr_assert_str_eq(lookup(SA(a), sizeof(a)), name);
    }
}

Test(names, counts_a_renewed_entry_as_new)
{
    struct sockaddr_in a;
    char name[32];
    char text[32];
    int i;

    for (i = 0; i < NAMES_CAPACITY; i++) {
        snprintf(text, sizeof(text), "10.1.%d.%d", i / 256, i % 256);
        snprintf(name, sizeof(name), "host%d.example", i);
        a = addr4(text, 80);
        names_remember(SA(a), sizeof(a), name);
    }

    /* Resolving entry 0 again makes entry 1 the oldest. */
    a = addr4("10.1.0.0", 80);
    names_remember(SA(a), sizeof(a), "again.example");
    a = addr4("192.0.2.99", 80);
    names_remember(SA(a), sizeof(a), "newest.example");

    a = addr4("10.1.0.0", 80);
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "again.example");
    a = addr4("10.1.0.1", 80);
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "");
    a = addr4("192.0.2.99", 80);
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "newest.example");
}

Test(names, forgets_everything_on_clear)
{
    struct sockaddr_in a = addr4("192.0.2.1", 80);

    names_remember(SA(a), sizeof(a), "a.example");
    names_clear();
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "");
    names_remember(SA(a), sizeof(a), "b.example");
    cr_assert_str_eq(lookup(SA(a), sizeof(a)), "b.example");
}

/* A resolver thread records while the main thread connects: each thread
 * works on its own addresses and must always read back its own names. */
static void *
names_worker(void *arg)
{
    int id = (int)(long)arg;
    char text[32];
    char name[64];
    char out[NAMES_NAME_MAX];
    long bad = 0;
    int i;

    for (i = 0; i < 2000; i++) {
        struct sockaddr_in a;

        snprintf(text, sizeof(text), "10.%d.%d.%d", id, (i / 256) % 256,
                 i % 256);
        snprintf(name, sizeof(name), "t%d-%d.example", id, i);
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        inet_pton(AF_INET, text, &a.sin_addr);
        names_remember(SA(a), sizeof(a), name);
        if (!names_lookup(SA(a), sizeof(a), out, sizeof(out))) {
            continue; /* another thread may have evicted it already */
        }
        if (strcmp(out, name) != 0) {
            bad++;
        }
    }
    return (void *)bad;
}

Test(names, stays_consistent_across_threads)
{
    pthread_t threads[4];
    long i;

    for (i = 0; i < 4; i++) {
        cr_assert_eq(
            pthread_create(&threads[i], NULL, names_worker, (void *)(i + 1)),
            0);
    }
    for (i = 0; i < 4; i++) {
        void *bad;

        cr_assert_eq(pthread_join(threads[i], &bad), 0);
        cr_expect_eq((long)bad, 0, "thread %ld read wrong names", i + 1);
    }
}
