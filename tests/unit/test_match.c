/*
 * test_match.c - policy_match: which rule a connection gets.
 *
 * One policy with a rule per HOST form, and a table of connections with
 * the label of the rule each must match (or none).
 */
#include "tlsshim/policy.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

static const char policy_text[] =
    "[client v4-host]\n"
    "match = 10.0.0.1:389\n"
    "[client v4-cidr]\n"
    "match = 10.0.0.0/8:3268, 192.168.0.0/16:1000-2000\n"
    "[client v6-host]\n"
    "match = [2001:db8::1]:443\n"
    "[client v6-cidr]\n"
    "match = [2001:db8::]/32:443, [fd00::/8]:80\n"
    "[client mapped]\n"
    "match = [::ffff:172.16.0.5]:25\n"
    "[client name]\n"
    "match = LDAP.example.com:636\n"
    "[client wildcard]\n"
    "match = *.corp.example:22\n"
    "[client first]\n"
    "match = 127.0.0.1:7000\n"
    "[client second]\n"
    "match = 127.0.0.1:7000-7001\n"
    "[client all-v4]\n"
    "match = 0.0.0.0/0:5000\n"
    "[client any]\n"
    "match = *:9999\n"
    "[server srv]\n"
    "match = *:389\n"
    "cert = cert.pem\n"
    "key = key.pem\n"
    "[server srv-v6]\n"
    "match = [::1]:8443\n"
    "cert = cert.pem\n"
    "key = key.pem\n";

static char tmp_dir[PATH_MAX];
static struct policy *pol;

static void
touch(const char *name)
{
    char path[PATH_MAX + 32];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("stand-in\n", f);
    fclose(f);
}

static void
setup(void)
{
    char path[PATH_MAX + 32];
    char err[4096];

    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/tlsshim-match-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_dir));
    touch("cert.pem");
    touch("key.pem");
    snprintf(path, sizeof(path), "%s/t.conf", tmp_dir);
    cr_assert_eq(policy_parse(path, policy_text, strlen(policy_text), &pol, err,
                              sizeof(err)),
                 0, "%s", err);
}

static void
teardown(void)
{
    char path[PATH_MAX + 32];

    policy_free(pol);
    pol = NULL;
    snprintf(path, sizeof(path), "%s/cert.pem", tmp_dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/key.pem", tmp_dir);
    unlink(path);
    rmdir(tmp_dir);
}

TestSuite(match, .init = setup, .fini = teardown);

/* make_addr fills |ss| with |text| (IPv4 or IPv6) and |port| and returns
 * its length. */
static socklen_t
make_addr(const char *text, unsigned short port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (strchr(text, ':') == NULL) {
        struct sockaddr_in *in4 = (struct sockaddr_in *)ss;

        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        cr_assert_eq(inet_pton(AF_INET, text, &in4->sin_addr), 1, "%s", text);
        return sizeof(*in4);
    }

    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    cr_assert_eq(inet_pton(AF_INET6, text, &in6->sin6_addr), 1, "%s", text);
    return sizeof(*in6);
}

struct match_case {
    enum policy_kind kind;
    const char *addr;
    unsigned short port;
    const char *name;       /* the name the program resolved, or NULL */
    const char *want_label; /* the rule that must match, or NULL */
};

static void
check_cases(const struct match_case *cases, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct match_case *c = &cases[i];
        struct sockaddr_storage ss;
        socklen_t len = make_addr(c->addr, c->port, &ss);
        const struct policy_rule *r =
            policy_match(pol, c->kind, (struct sockaddr *)&ss, len, c->name);

        if (c->want_label == NULL) {
            cr_expect_null(r, "%s %s port %u name %s: matched [%s]",
                           policy_kind_name(c->kind), c->addr, c->port,
                           c->name ? c->name : "-", r ? r->label : "");
        } else {
            cr_expect_not_null(r, "%s %s port %u name %s: no match, want [%s]",
                               policy_kind_name(c->kind), c->addr, c->port,
                               c->name ? c->name : "-", c->want_label);
            if (r != NULL) {
                cr_expect_str_eq(r->label, c->want_label,
                                 "%s %s port %u name %s",
                                 policy_kind_name(c->kind), c->addr, c->port,
                                 c->name ? c->name : "-");
            }
        }
    }
}

#define C          POLICY_CLIENT
#define S          POLICY_SERVER
#define N_CASES(a) (sizeof(a) / sizeof((a)[0]))

Test(match, matches_ipv4_hosts_and_blocks)
{
    static const struct match_case cases[] = {
        { C, "10.0.0.1", 389, NULL, "v4-host" },
        { C, "10.0.0.2", 389, NULL, NULL },
        { C, "10.0.0.1", 390, NULL, NULL },
        { C, "10.0.0.1", 3268, NULL, "v4-cidr" },
        { C, "10.255.255.255", 3268, NULL, "v4-cidr" },
        { C, "11.0.0.0", 3268, NULL, NULL },
        { C, "9.255.255.255", 3268, NULL, NULL },
        { C, "192.168.5.5", 999, NULL, NULL },
        { C, "192.168.5.5", 1000, NULL, "v4-cidr" },
        { C, "192.168.255.1", 2000, NULL, "v4-cidr" },
        { C, "192.168.5.5", 2001, NULL, NULL },
        { C, "192.169.0.0", 1500, NULL, NULL },
        { C, "1.2.3.4", 5000, NULL, "all-v4" },
        { C, "255.255.255.255", 5000, NULL, "all-v4" },
    };

    check_cases(cases, N_CASES(cases));
}

Test(match, matches_ipv6_hosts_and_blocks)
{
    static const struct match_case cases[] = {
        { C, "2001:db8::1", 443, NULL, "v6-host" },
        { C, "2001:db8::2", 443, NULL, "v6-cidr" },
        { C, "2001:db8:ffff:ffff::1", 443, NULL, "v6-cidr" },
        { C, "2001:db9::1", 443, NULL, NULL },
        { C, "2001:db8::1", 444, NULL, NULL },
        { C, "fd12:3456::1", 80, NULL, "v6-cidr" },
        { C, "fe00::1", 80, NULL, NULL },
        /* An IPv4 block never matches an IPv6 address. */
        { C, "::1", 5000, NULL, NULL },
        { C, "::", 5000, NULL, NULL },
    };

    check_cases(cases, N_CASES(cases));
}

Test(match, treats_mapped_ipv6_addresses_as_ipv4)
{
    static const struct match_case cases[] = {
        { C, "::ffff:10.0.0.1", 389, NULL, "v4-host" },
        { C, "::ffff:10.9.8.7", 3268, NULL, "v4-cidr" },
        { C, "::ffff:1.2.3.4", 5000, NULL, "all-v4" },
        /* A rule written as a mapped address is an IPv4 rule. */
        { C, "172.16.0.5", 25, NULL, "mapped" },
        { C, "::ffff:172.16.0.5", 25, NULL, "mapped" },
        { C, "172.16.0.6", 25, NULL, NULL },
        /* ::a.b.c.d (the old "compatible" form) is not mapped. */
        { C, "::10.0.0.1", 389, NULL, NULL },
    };

    check_cases(cases, N_CASES(cases));
}

Test(match, matches_names_ignoring_case_and_final_dot)
{
    static const struct match_case cases[] = {
        { C, "192.0.2.1", 636, "ldap.example.com", "name" },
        { C, "2001:db8::99", 636, "LDAP.Example.COM", "name" },
        { C, "192.0.2.1", 636, "ldap.example.com.", "name" },
        { C, "192.0.2.1", 636, NULL, NULL },
        { C, "192.0.2.1", 636, "", NULL },
        { C, "192.0.2.1", 636, "ldap.example.org", NULL },
        { C, "192.0.2.1", 636, "xldap.example.com", NULL },
        { C, "192.0.2.1", 636, "ldap.example.com..", NULL },
        { C, "192.0.2.1", 636, "ldap.example", NULL },
        { C, "192.0.2.1", 637, "ldap.example.com", NULL },
    };

    check_cases(cases, N_CASES(cases));
}

Test(match, matches_exactly_one_label_for_a_wildcard)
{
    static const struct match_case cases[] = {
        { C, "192.0.2.1", 22, "a.corp.example", "wildcard" },
        { C, "192.0.2.1", 22, "Build-7.CORP.example.", "wildcard" },
        { C, "192.0.2.1", 22, "corp.example", NULL },
        { C, "192.0.2.1", 22, ".corp.example", NULL },
        { C, "192.0.2.1", 22, "a.b.corp.example", NULL },
        { C, "192.0.2.1", 22, "a.xcorp.example", NULL },
        { C, "192.0.2.1", 22, "a.corp.example.org", NULL },
        { C, "192.0.2.1", 22, NULL, NULL },
    };

    check_cases(cases, N_CASES(cases));
}

Test(match, lets_the_first_matching_rule_win)
{
    static const struct match_case cases[] = {
        { C, "127.0.0.1", 7000, NULL, "first" },
        { C, "127.0.0.1", 7001, NULL, "second" },
        { C, "127.0.0.1", 7002, NULL, NULL },
        /* v4-host comes before srv's *:389 but srv is a server rule. */
        { C, "10.0.0.1", 389, "ldap.example.com", "v4-host" },
        /* An address rule before a name rule wins for the same port. */
        { C, "10.0.0.1", 3268, "ldap.example.com", "v4-cidr" },
    };

    check_cases(cases, N_CASES(cases));
}

Test(match, matches_any_host)
{
    static const struct match_case cases[] = {
        { C, "198.51.100.1", 9999, NULL, "any" },
        { C, "2001:db8:abcd::1", 9999, NULL, "any" },
        { C, "::ffff:198.51.100.1", 9999, "any.example", "any" },
        { C, "198.51.100.1", 9998, NULL, NULL },
    };

    check_cases(cases, N_CASES(cases));
}

Test(match, matches_every_port_with_a_star)
{
    static const char text[] = "[client all]\nmatch = *:*\n";
    static const struct {
        const char *addr;
        unsigned short port;
    } cases[] = { { "127.0.0.1", 1 }, { "::1", 65535 }, { "10.0.0.1", 80 } };
    struct sockaddr_storage ss;
    struct policy *all;
    char err[256];
    size_t i;

    cr_assert_eq(
        policy_parse("all.conf", text, strlen(text), &all, err, sizeof(err)), 0,
        "%s", err);
    for (i = 0; i < N_CASES(cases); i++) {
        socklen_t len = make_addr(cases[i].addr, cases[i].port, &ss);

        cr_expect_not_null(
            policy_match(all, C, (struct sockaddr *)&ss, len, NULL),
            "%s port %u", cases[i].addr, cases[i].port);
        cr_expect_null(policy_match(all, S, (struct sockaddr *)&ss, len, NULL),
                       "%s port %u", cases[i].addr, cases[i].port);
    }
    policy_free(all);
}

Test(match, applies_only_rules_of_the_connection_kind)
{
    static const struct match_case cases[] = {
        { S, "10.0.0.1", 389, NULL, "srv" },
        { S, "0.0.0.0", 389, NULL, "srv" },
        { S, "::ffff:127.0.0.1", 389, NULL, "srv" },
        { S, "::1", 8443, NULL, "srv-v6" },
        { S, "::2", 8443, NULL, NULL },
        { S, "127.0.0.1", 8443, NULL, NULL },
        { S, "2001:db8::1", 443, NULL, NULL },
        { S, "127.0.0.1", 7000, NULL, NULL },
        { S, "192.0.2.1", 636, "ldap.example.com", NULL },
    };

    check_cases(cases, N_CASES(cases));
}

Test(match, ignores_other_families_and_short_addresses)
{
    struct sockaddr_un un;
    struct sockaddr_storage ss;
    socklen_t len;

    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    strcpy(un.sun_path, "/tmp/sock");
    cr_assert_null(
        policy_match(pol, C, (struct sockaddr *)&un, sizeof(un), NULL));

    len = make_addr("198.51.100.1", 9999, &ss);
    cr_assert_null(policy_match(pol, C, (struct sockaddr *)&ss, len - 1, NULL));
    len = make_addr("2001:db8::1", 9999, &ss);
    cr_assert_null(policy_match(pol, C, (struct sockaddr *)&ss, len - 1, NULL));
    cr_assert_null(policy_match(pol, C, NULL, 0, NULL));
    cr_assert_null(policy_match(NULL, C, (struct sockaddr *)&ss, len, NULL));
}

Test(match, finds_nothing_in_an_empty_policy)
{
    struct policy *empty;
    struct sockaddr_storage ss;
    socklen_t len = make_addr("127.0.0.1", 80, &ss);
    char err[256];

    cr_assert_eq(policy_parse("empty.conf", "", 0, &empty, err, sizeof(err)),
                 0);
    cr_assert_null(policy_match(empty, C, (struct sockaddr *)&ss, len, NULL));
    policy_free(empty);
}
