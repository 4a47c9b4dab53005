/*
 * test_policy.c - the policy parser: every key, every default and every
 * error message.
 *
 * Each test runs in its own process (Criterion) inside a fresh temporary
 * directory holding readable stand-ins for certificate files: the parser
 * checks that files can be read, never what they contain.  Policies are
 * parsed as "t.conf" from that directory, so messages read "t.conf:LINE:".
 */
#include "tlsshim/policy.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef TLSSHIM_SOURCE_DIR
#error "TLSSHIM_SOURCE_DIR must name the source tree"
#endif

static char tmp_dir[PATH_MAX];
static struct policy *pol;
static char err[8192];

static const char *const stand_ins[] = { "cert.pem",   "key.pem",
                                         "ca.pem",     "clients-ca.pem",
                                         "server.pem", "server.key",
                                         "sub/c.pem" };

/* write_file creates |name| under the current directory with |text|. */
static void
write_file(const char *name, const char *text)
{
    FILE *f = fopen(name, "w");

    cr_assert_not_null(f, "cannot create %s: %s", name, strerror(errno));
    fputs(text, f);
    fclose(f);
}

static void
setup(void)
{
    size_t i;

    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/tlsshim-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_dir));
    cr_assert_eq(chdir(tmp_dir), 0);
    cr_assert_eq(mkdir("sub", 0700), 0);
    cr_assert_eq(mkdir("cadir", 0700), 0);
    for (i = 0; i < sizeof(stand_ins) / sizeof(stand_ins[0]); i++) {
        write_file(stand_ins[i], "stand-in: only readability is checked\n");
    }
}

static void
teardown(void)
{
    size_t i;

    policy_free(pol);
    pol = NULL;
    for (i = 0; i < sizeof(stand_ins) / sizeof(stand_ins[0]); i++) {
        unlink(stand_ins[i]);
    }
    unlink("t.conf");
    unlink("big.conf");
    unlink("sub/http-server.conf");
    unlink("sub/server.pem");
    unlink("sub/server.key");
    rmdir("sub");
    rmdir("cadir");
    if (chdir("/") == 0) {
        rmdir(tmp_dir);
    }
}

TestSuite(policy, .init = setup, .fini = teardown);

/* parse runs policy_parse on |text| as the file "t.conf". */
static int
parse(const char *text)
{
    return policy_parse("t.conf", text, strlen(text), &pol, err, sizeof(err));
}

/* parse_ok parses |text|, which must be valid, and returns its policy. */
static struct policy *
parse_ok(const char *text)
{
    int rc = parse(text);

    cr_assert_eq(rc, 0, "unexpected errors:\n%s", err);
    cr_assert_str_eq(err, "");
    cr_assert_not_null(pol);
    return pol;
}

/* parse_one parses a policy that must hold exactly one rule. */
static struct policy_rule *
parse_one(const char *text)
{
    struct policy *p = parse_ok(text);

    cr_assert_eq(p->rules_len, 1);
    return &p->rules[0];
}

/* expect_error parses |text|, which must fail with exactly |want|. */
static void
expect_error(const char *text, const char *want)
{
    int rc = parse(text);

    cr_assert_eq(rc, -1, "accepted: %s", text);
    cr_assert_null(pol);
    cr_assert_str_eq(err, want);
}

/* in_tmp returns |name| under the test's directory (a static buffer). */
static const char *
in_tmp(const char *name)
{
    static char path[PATH_MAX + 64];

    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    return path;
}

/*
 * Happy paths: every key, every default.
 */

Test(policy, accepts_an_empty_file_as_no_rules)
{
    struct policy *p = parse_ok("");

    cr_assert_eq(p->rules_len, 0);
    cr_assert_null(p->rules);
}

Test(policy, accepts_comments_and_blank_lines_only)
{
    struct policy *p = parse_ok("# nothing\n\n   \t\n  # indented\n");

    cr_assert_eq(p->rules_len, 0);
}

Test(policy, applies_defaults_to_a_client_rule)
{
    struct policy_rule *r = parse_one("[client]\nmatch = *:80\n");

    cr_assert_str_eq(r->label, "");
    cr_assert_eq(r->kind, POLICY_CLIENT);
    cr_assert_eq(r->line, 1);
    cr_assert(r->tls_client);
    cr_assert_eq(r->verify, POLICY_VERIFY_PEER);
    cr_assert_str_eq(r->ca_file, POLICY_DEFAULT_CA_FILE);
    cr_assert_eq(r->ca_file_line, 0);
    cr_assert_null(r->ca_path);
    cr_assert_null(r->cert);
    cr_assert_null(r->key);
    cr_assert_null(r->client_ca);
    cr_assert_null(r->server_name);
    cr_assert_eq(r->connect_port, 0);
    cr_assert_eq(r->client_auth, POLICY_CLIENT_AUTH_NONE);
    cr_assert_null(r->pins);
    cr_assert_eq(r->pins_len, 0);
    cr_assert_eq(r->min_version, POLICY_TLS1_2);
    cr_assert_null(r->alpn);
    cr_assert_eq(r->alpn_len, 0);
    cr_assert_eq(r->handshake_timeout_ms, POLICY_DEFAULT_HANDSHAKE_TIMEOUT_MS);
    cr_assert(r->resumption, "sessions are resumed unless a rule says not");
}

Test(policy, parses_resumption_on_and_off)
{
    struct policy_rule *off =
        parse_one("[client]\nmatch = *:1\nresumption = off\n");
    struct policy_rule *on =
        parse_one("[server]\nmatch = *:1\ncert = cert.pem\nkey = key.pem\n"
                  "resumption = on\n");

    cr_assert_not(off->resumption);
    cr_assert(on->resumption);
}

Test(policy, applies_defaults_to_a_server_rule)
{
    struct policy_rule *r = parse_one(
        "[server web]\nmatch = *:443\ncert = cert.pem\nkey = key.pem\n");

    cr_assert_str_eq(r->label, "web");
    cr_assert_eq(r->kind, POLICY_SERVER);
    cr_assert_not(r->tls_client);
    cr_assert_null(r->ca_file, "a TLS server gets no default CA bundle");
    cr_assert_eq(r->client_auth, POLICY_CLIENT_AUTH_NONE);
    cr_assert_eq(r->min_version, POLICY_TLS1_2);
    cr_assert_eq(r->handshake_timeout_ms, POLICY_DEFAULT_HANDSHAKE_TIMEOUT_MS);
}

Test(policy, parses_every_client_key)
{
    struct policy_rule *r = parse_one("[client ldap]\n"
                                      "match = *:389\n"
                                      "connect_port = 636\n"
                                      "server_name = LDAP.example.com.\n"
                                      "verify = peer\n"
                                      "ca_file = ca.pem\n"
                                      "ca_path = cadir\n"
                                      "cert = cert.pem\n"
                                      "key = key.pem\n"
                                      "pin_sha256 = "
                                      "pMKAPAgcl1wdUPeybUi+y6ryX+mqFxUopgd/"
                                      "IByI4WQ=\n"
                                      "min_version = 1.3\n"
                                      "alpn = ldap\n"
                                      "tls_role = client\n"
                                      "handshake_timeout = 7\n");

    cr_assert_str_eq(r->label, "ldap");
    cr_assert_eq(r->connect_port, 636);
    cr_assert_str_eq(r->server_name, "LDAP.example.com");
    cr_assert_eq(r->verify, POLICY_VERIFY_PEER);
    cr_assert_str_eq(r->ca_file, in_tmp("ca.pem"));
    cr_assert_eq(r->ca_file_line, 6);
    cr_assert_str_eq(r->ca_path, in_tmp("cadir"));
    cr_assert_eq(r->ca_path_line, 7);
    cr_assert_str_eq(r->cert, in_tmp("cert.pem"));
    cr_assert_eq(r->cert_line, 8);
    cr_assert_str_eq(r->key, in_tmp("key.pem"));
    cr_assert_eq(r->key_line, 9);
    cr_assert_eq(r->pins_len, 1);
    cr_assert_eq(r->pins[0].sha256[0], 0xa4);
    cr_assert_eq(r->pins[0].sha256[31], 0x64);
    cr_assert_eq(r->min_version, POLICY_TLS1_3);
    cr_assert_eq(r->alpn_len, 5);
    cr_assert_eq(memcmp(r->alpn, "\x04ldap", 5), 0);
    cr_assert(r->tls_client);
    cr_assert_eq(r->handshake_timeout_ms, 7000);
}

Test(policy, parses_every_server_key)
{
    struct policy_rule *r = parse_one("[server ftp]\n"
                                      "match = *:21\n"
                                      "cert = cert.pem\n"
                                      "key = key.pem\n"
                                      "client_ca = clients-ca.pem\n"
                                      "client_auth = optional\n"
                                      "min_version = 1.2\n"
                                      "alpn = ftp\n"
                                      "tls_role = server\n"
                                      "handshake_timeout = 3600\n");

    cr_assert_eq(r->kind, POLICY_SERVER);
    cr_assert_not(r->tls_client);
    cr_assert_str_eq(r->client_ca, in_tmp("clients-ca.pem"));
    cr_assert_eq(r->client_ca_line, 5);
    cr_assert_eq(r->client_auth, POLICY_CLIENT_AUTH_OPTIONAL);
    cr_assert_eq(r->min_version, POLICY_TLS1_2);
    cr_assert_eq(r->handshake_timeout_ms, 3600000);
}

Test(policy, reads_verify_none)
{
    struct policy_rule *r =
        parse_one("[client]\nmatch = *:80\nverify = none\n");

    cr_assert_eq(r->verify, POLICY_VERIFY_NONE);
    cr_assert_null(r->ca_file, "no CA bundle is needed to verify nothing");
}

Test(policy, uses_no_default_ca_file_when_ca_path_is_given)
{
    struct policy_rule *r =
        parse_one("[client]\nmatch = *:80\nca_path = cadir\n");

    cr_assert_null(r->ca_file);
    cr_assert_str_eq(r->ca_path, in_tmp("cadir"));
}

Test(policy, reads_every_client_auth_value)
{
    static const struct {
        const char *value;
        enum policy_client_auth want;
    } cases[] = {
        { "none", POLICY_CLIENT_AUTH_NONE },
        { "optional", POLICY_CLIENT_AUTH_OPTIONAL },
        { "required", POLICY_CLIENT_AUTH_REQUIRED },
    };
    char text[256];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text),
                 "[server]\nmatch = *:1\ncert = cert.pem\nkey = key.pem\n"
                 "%sclient_auth = %s\n",
                 cases[i].want == POLICY_CLIENT_AUTH_NONE
                     ? ""
                     : "client_ca = clients-ca.pem\n",
                 cases[i].value);
        cr_assert_eq(parse(text), 0, "%s: %s", cases[i].value, err);
        cr_assert_eq(pol->rules[0].client_auth, cases[i].want, "%s",
                     cases[i].value);
        policy_free(pol);
        pol = NULL;
    }
}

Test(policy, makes_client_ca_alone_require_client_certificates)
{
    struct policy_rule *r =
        parse_one("[server]\nmatch = *:1\ncert = cert.pem\nkey = key.pem\n"
                  "client_ca = clients-ca.pem\n");

    cr_assert_eq(r->client_auth, POLICY_CLIENT_AUTH_REQUIRED);
}

Test(policy, lets_a_client_rule_play_the_tls_server)
{
    struct policy_rule *r =
        parse_one("[client data]\nmatch = *:20000-20100\ntls_role = server\n"
                  "cert = cert.pem\nkey = key.pem\n"
                  "client_ca = clients-ca.pem\nclient_auth = required\n");

    cr_assert_eq(r->kind, POLICY_CLIENT);
    cr_assert_not(r->tls_client);
    cr_assert_null(r->ca_file);
    cr_assert_eq(r->client_auth, POLICY_CLIENT_AUTH_REQUIRED);
}

Test(policy, lets_a_server_rule_play_the_tls_client)
{
    struct policy_rule *r = parse_one(
        "[server data]\nmatch = *:40000\ntls_role = client\n"
        "server_name = ftp.example.com\nverify = peer\n"
        "pin_sha256 = pMKAPAgcl1wdUPeybUi+y6ryX+mqFxUopgd/IByI4WQ=\n");

    cr_assert_eq(r->kind, POLICY_SERVER);
    cr_assert(r->tls_client);
    cr_assert_str_eq(r->ca_file, POLICY_DEFAULT_CA_FILE);
    cr_assert_str_eq(r->server_name, "ftp.example.com");
    cr_assert_eq(r->pins_len, 1);
}

Test(policy, spells_a_pin_as_pin_sha256_takes_it)
{
    static const char *const pins[] = {
        "pMKAPAgcl1wdUPeybUi+y6ryX+mqFxUopgd/IByI4WQ=",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "//////////////////////////////////////////8=",
    };
    char text[POLICY_PIN_TEXT_LEN];

    for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
        char line[128];
        struct policy_rule *r;

        snprintf(line, sizeof(line), "[client]\nmatch = *:1\npin_sha256 = %s\n",
                 pins[i]);
        r = parse_one(line);
        cr_assert_eq(r->pins_len, 1);
        policy_pin_text(r->pins[0].sha256, text);
        cr_assert_str_eq(text, pins[i]);
        policy_free(pol);
        pol = NULL;
    }
}

Test(policy, accepts_an_address_as_server_name)
{
    struct policy_rule *r =
        parse_one("[client]\nmatch = *:1\nserver_name = 192.0.2.1\n");

    cr_assert_str_eq(r->server_name, "192.0.2.1");
    policy_free(pol);
    pol = NULL;
    r = parse_one("[client]\nmatch = *:1\nserver_name = 2001:db8::1\n");
    cr_assert_str_eq(r->server_name, "2001:db8::1");
}

Test(policy, collects_pins_from_repeated_keys_and_commas)
{
    struct policy_rule *r =
        parse_one("[client]\nmatch = *:1\n"
                  "pin_sha256 = pMKAPAgcl1wdUPeybUi+y6ryX+mqFxUopgd/IByI4WQ=\n"
                  "pin_sha256 = 4eNv//9a0Y3oh5AUIhOIJSWq259bdG7rglipqBFLX/c= , "
                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");

    cr_assert_eq(r->pins_len, 3);
    cr_assert_eq(r->pins[0].sha256[0], 0xa4);
    cr_assert_eq(r->pins[1].sha256[0], 0xe1);
    cr_assert_eq(r->pins[1].sha256[31], 0xf7);
    cr_assert_eq(r->pins[2].sha256[0], 0x00, "padding '=' is optional");
}

Test(policy, encodes_alpn_in_wire_format)
{
    struct policy_rule *r =
        parse_one("[client]\nmatch = *:1\nalpn = h2 , http/1.1\n");

    cr_assert_eq(r->alpn_len, 12);
    cr_assert_eq(memcmp(r->alpn, "\x02h2\x08http/1.1", 12), 0);
}

Test(policy, accepts_an_alpn_name_of_255_bytes)
{
    char text[512];
    char name[256];
    struct policy_rule *r;

    memset(name, 'a', 255);
    name[255] = '\0';
    snprintf(text, sizeof(text), "[client]\nmatch = *:1\nalpn = %s\n", name);
    r = parse_one(text);
    cr_assert_eq(r->alpn_len, 256);
    cr_assert_eq(r->alpn[0], 255);
}

Test(policy, resolves_relative_paths_against_the_policy_directory)
{
    struct policy_rule *r;
    char shown[PATH_MAX + 64];
    char text[PATH_MAX + 256];

    /* Parsed as sub/t.conf from the temporary directory: "./c.pem" is
     * sub/c.pem, and ".." is kept as written (it may follow a link). */
    snprintf(text, sizeof(text),
             "[server]\nmatch = *:1\ncert = ./c.pem\nkey = ..//key.pem\n"
             "client_ca = %s/clients-ca.pem\n",
             tmp_dir);
    cr_assert_eq(
        policy_parse("sub/t.conf", text, strlen(text), &pol, err, sizeof(err)),
        0, "%s", err);
    r = &pol->rules[0];

    snprintf(shown, sizeof(shown), "%s/sub/t.conf", tmp_dir);
    cr_assert_str_eq(pol->path, shown);
    cr_assert_str_eq(r->file, shown);
    cr_assert_str_eq(r->cert, in_tmp("sub/c.pem"));
    snprintf(shown, sizeof(shown), "%s/sub/../key.pem", tmp_dir);
    cr_assert_str_eq(r->key, shown);
    cr_assert_str_eq(r->client_ca, in_tmp("clients-ca.pem"));
}

Test(policy, keeps_absolute_policy_paths)
{
    char path[2 * PATH_MAX + 256];
    const char *text = "[client]\nmatch = *:1\nca_file = ca.pem\n";

    snprintf(path, sizeof(path), "%s/./sub/t.conf", tmp_dir);
    cr_assert_eq(policy_parse(path, text, strlen(text), &pol, err, sizeof(err)),
                 -1);
    snprintf(
        path, sizeof(path),
        "%s/./sub/t.conf:3: ca_file: cannot read %s/sub/ca.pem: No such file or directory",
        tmp_dir, tmp_dir);
    cr_assert_str_eq(err, path, "the message shows the path as given");
}

Test(policy, keeps_rules_in_file_order)
{
    struct policy *p = parse_ok("[client a]\nmatch = *:1\n"
                                "[server b]\nmatch = *:2\n"
                                "cert = cert.pem\nkey = key.pem\n"
                                "[client c.d-e_f]\nmatch = *:3\n");

    cr_assert_eq(p->rules_len, 3);
    cr_assert_str_eq(p->rules[0].label, "a");
    cr_assert_str_eq(p->rules[1].label, "b");
    cr_assert_eq(p->rules[1].kind, POLICY_SERVER);
    cr_assert_eq(p->rules[1].line, 3);
    cr_assert_str_eq(p->rules[2].label, "c.d-e_f");
    cr_assert_eq(p->rules[2].line, 7);
}

Test(policy, strips_comments_blanks_and_crlf)
{
    struct policy_rule *r =
        parse_one("\xEF\xBB\xBF# BOM first\r\n"
                  "  [ client   spaced ]   # comment\r\n"
                  "\tmatch\t=\t*:80 ,*:81# no blank before\r\n"
                  "verify=none#x\r\n"
                  "alpn = h2   # trailing\r\n");

    cr_assert_str_eq(r->label, "spaced");
    cr_assert_eq(r->match_len, 2);
    cr_assert_eq(r->match[1].port_lo, 81);
    cr_assert_eq(r->verify, POLICY_VERIFY_NONE);
    cr_assert_eq(r->alpn_len, 3);
}

Test(policy, accepts_a_last_line_without_newline)
{
    struct policy_rule *r = parse_one("[client]\nmatch = *:80");

    cr_assert_eq(r->match[0].port_lo, 80);
}

Test(policy, accepts_very_long_lines)
{
    size_t n = 100000;
    char *text = malloc(n + 64);
    struct policy_rule *r;

    /* One long comment and a match list of many elements. */
    cr_assert_not_null(text);
    strcpy(text, "#");
    memset(text + 1, 'x', n);
    strcpy(text + 1 + n, "\n[client]\nmatch = *:1");
    for (size_t i = 0; i < 2000; i++) {
        size_t len = strlen(text);

        text = realloc(text, len + 16);
        cr_assert_not_null(text);
        strcpy(text + len, ", *:2");
    }
    r = parse_one(text);
    cr_assert_eq(r->match_len, 2001);
    free(text);
}

Test(policy, loads_a_file_and_makes_its_path_absolute)
{
    write_file("t.conf", "[client]\nmatch = *:1\ncert = cert.pem\n"
                         "key = key.pem\n");
    cr_assert_eq(policy_load("t.conf", &pol, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(pol->path, in_tmp("t.conf"));
    cr_assert_str_eq(pol->rules[0].file, in_tmp("t.conf"));
    cr_assert_str_eq(pol->rules[0].cert, in_tmp("cert.pem"));
}

Test(policy, validates_without_keeping_the_result)
{
    const char *text = "[client]\nmatch = *:1\n";

    cr_assert_eq(
        policy_parse("t.conf", text, strlen(text), NULL, err, sizeof(err)), 0);
}

Test(policy, names_the_kinds)
{
    cr_assert_str_eq(policy_kind_name(POLICY_CLIENT), "client");
    cr_assert_str_eq(policy_kind_name(POLICY_SERVER), "server");
}

Test(policy, frees_null)
{
    policy_free(NULL);
}

/*
 * Match lists: what each HOST and PORT form parses to.
 */

struct endpoint_case {
    const char *text;
    enum policy_host_kind want_kind;
    int want_family;
    const char *want_addr; /* as text, for ADDR */
    unsigned want_prefix;
    const char *want_name;
    unsigned short want_lo;
    unsigned short want_hi;
};

Test(policy, parses_every_host_and_port_form)
{
    static const struct endpoint_case cases[] = {
        { "*:80", POLICY_HOST_ANY, 0, NULL, 0, NULL, 80, 80 },
        { "*:*", POLICY_HOST_ANY, 0, NULL, 0, NULL, 1, 65535 },
        { "*:1-65535", POLICY_HOST_ANY, 0, NULL, 0, NULL, 1, 65535 },
        { "*:40000-40100", POLICY_HOST_ANY, 0, NULL, 0, NULL, 40000, 40100 },
        { "*:0080", POLICY_HOST_ANY, 0, NULL, 0, NULL, 80, 80 },
        { "10.0.0.1:389", POLICY_HOST_ADDR, AF_INET, "10.0.0.1", 32, NULL, 389,
          389 },
        { "10.0.0.0/8:3268", POLICY_HOST_ADDR, AF_INET, "10.0.0.0", 8, NULL,
          3268, 3268 },
        { "0.0.0.0/0:1", POLICY_HOST_ADDR, AF_INET, "0.0.0.0", 0, NULL, 1, 1 },
        { "[::1]:25", POLICY_HOST_ADDR, AF_INET6, "::1", 128, NULL, 25, 25 },
        { "[2001:db8::]/32:25", POLICY_HOST_ADDR, AF_INET6, "2001:db8::", 32,
          NULL, 25, 25 },
        { "[2001:db8::/32]:25", POLICY_HOST_ADDR, AF_INET6, "2001:db8::", 32,
          NULL, 25, 25 },
        { "[::ffff:192.0.2.7]:25", POLICY_HOST_ADDR, AF_INET, "192.0.2.7", 32,
          NULL, 25, 25 },
        { "[::ffff:192.0.2.0]/120:25", POLICY_HOST_ADDR, AF_INET, "192.0.2.0",
          24, NULL, 25, 25 },
        { "LDAP.Example.COM:389", POLICY_HOST_NAME, 0, NULL, 0,
          "ldap.example.com", 389, 389 },
        { "ldap.example.com.:389", POLICY_HOST_NAME, 0, NULL, 0,
          "ldap.example.com", 389, 389 },
        { "*.Example.com:443", POLICY_HOST_NAME, 0, NULL, 0, "*.example.com",
          443, 443 },
        { "localhost:1", POLICY_HOST_NAME, 0, NULL, 0, "localhost", 1, 1 },
        { "_ldap-1.corp:1", POLICY_HOST_NAME, 0, NULL, 0, "_ldap-1.corp", 1,
          1 },
    };
    char text[256];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct endpoint_case *c = &cases[i];
        const struct policy_endpoint *ep;
        unsigned char want_addr[16] = { 0 };

        snprintf(text, sizeof(text), "[client]\nmatch = %s\n", c->text);
        cr_assert_eq(parse(text), 0, "%s: %s", c->text, err);
        cr_assert_eq(pol->rules[0].match_len, 1);
        ep = &pol->rules[0].match[0];
        cr_assert_eq(ep->host_kind, c->want_kind, "%s", c->text);
        cr_assert_eq(ep->port_lo, c->want_lo, "%s", c->text);
        cr_assert_eq(ep->port_hi, c->want_hi, "%s", c->text);
        if (c->want_kind == POLICY_HOST_ADDR) {
            cr_assert_eq(ep->family, c->want_family, "%s", c->text);
            cr_assert_eq(inet_pton(c->want_family, c->want_addr, want_addr), 1);
            cr_assert_eq(
                memcmp(ep->addr, want_addr, c->want_family == AF_INET ? 4 : 16),
                0, "%s", c->text);
            cr_assert_eq(ep->prefix_len, c->want_prefix, "%s", c->text);
        }
        if (c->want_kind == POLICY_HOST_NAME) {
            cr_assert_str_eq(ep->name, c->want_name, "%s", c->text);
        } else {
            cr_assert_null(ep->name, "%s", c->text);
        }
        policy_free(pol);
        pol = NULL;
    }
}

Test(policy, keeps_every_element_of_a_match_list)
{
    struct policy_rule *r = parse_one(
        "[client]\nmatch = *:389,10.0.0.0/8:3268 ,  [::1]:1 , a.b:2\n");

    cr_assert_eq(r->match_len, 4);
    cr_assert_eq(r->match[0].host_kind, POLICY_HOST_ANY);
    cr_assert_eq(r->match[1].prefix_len, 8);
    cr_assert_eq(r->match[2].family, AF_INET6);
    cr_assert_str_eq(r->match[3].name, "a.b");
}

/*
 * Errors in the structure of the file.
 */

Test(policy, rejects_unknown_key)
{
    expect_error("[client]\nmatch = *:1\nverfy = peer\n",
                 "t.conf:3: unknown key 'verfy'");
}

Test(policy, rejects_unknown_key_before_any_section)
{
    expect_error("colour = blue\n", "t.conf:1: unknown key 'colour'");
}

Test(policy, rejects_a_key_before_any_section)
{
    expect_error(
        "match = *:1\n[client]\nmatch = *:2\n",
        "t.conf:1: match: outside a rule; start one with [client LABEL] or [server LABEL]");
}

Test(policy, rejects_a_line_without_equals)
{
    expect_error("[client]\nmatch *:1\n",
                 "t.conf:2: expected 'key = value', got 'match *:1'\n"
                 "t.conf:1: match: missing; every rule needs a HOST:PORT list");
}

Test(policy, rejects_a_missing_key)
{
    expect_error("[client]\nmatch = *:1\n= peer\n",
                 "t.conf:3: missing key before '='");
}

Test(policy, rejects_an_empty_value)
{
    expect_error("[client]\nmatch = *:1\nverify =   # nothing\n",
                 "t.conf:3: verify: missing value");
}

Test(policy, rejects_an_empty_match)
{
    expect_error("[client]\nmatch =\n", "t.conf:2: match: missing value");
}

Test(policy, rejects_a_duplicate_key)
{
    expect_error("[client]\nmatch = *:1\nverify = peer\nverify = none\n",
                 "t.conf:4: verify: given twice (first on line 3)");
}

Test(policy, rejects_a_duplicate_match)
{
    expect_error("[client]\nmatch = *:1\nmatch = *:2\n",
                 "t.conf:3: match: given twice (first on line 2)");
}

Test(policy, allows_the_same_key_in_different_rules)
{
    struct policy *p = parse_ok("[client]\nmatch = *:1\nverify = none\n"
                                "[client]\nmatch = *:2\nverify = none\n");

    cr_assert_eq(p->rules_len, 2);
}

Test(policy, rejects_a_rule_without_match)
{
    expect_error("# comment\n[client ldap]\nverify = peer\n[client]\n"
                 "match = *:1\n",
                 "t.conf:2: match: missing; every rule needs a HOST:PORT list");
}

Test(policy, rejects_an_unknown_section_kind)
{
    expect_error(
        "[proxy x]\nmatch = *:1\n",
        "t.conf:1: unknown section '[proxy]': expected [client LABEL] or [server LABEL]");
}

Test(policy, rejects_an_empty_section_header)
{
    expect_error(
        "[ ]\n",
        "t.conf:1: unknown section '[]': expected [client LABEL] or [server LABEL]");
}

Test(policy, rejects_a_capitalised_section_kind)
{
    expect_error(
        "[Client]\nmatch = *:1\n",
        "t.conf:1: unknown section '[Client]': expected [client LABEL] or [server LABEL]");
}

Test(policy, rejects_a_section_header_without_closing_bracket)
{
    expect_error("[client x\nmatch = *:1\n",
                 "t.conf:1: section header has no closing ']'");
}

Test(policy, rejects_text_after_a_section_header)
{
    expect_error("[client x] y\nmatch = *:1\n",
                 "t.conf:1: unexpected text after ']' in section header");
}

Test(policy, rejects_a_label_with_odd_characters)
{
    expect_error(
        "[client a b]\nmatch = *:1\n",
        "t.conf:1: bad label 'a b': use letters, digits, '-', '_' and '.'");
    expect_error(
        "[client a/b]\n",
        "t.conf:1: bad label 'a/b': use letters, digits, '-', '_' and '.'");
}

Test(policy, ignores_the_keys_of_a_section_with_a_bad_header)
{
    /* One error, not one per key of the section that follows. */
    expect_error(
        "[clinet x]\nmatch = *:1\nverify = peer\n[client]\n"
        "match = *:2\n",
        "t.conf:1: unknown section '[clinet]': expected [client LABEL] or [server LABEL]");
}

Test(policy, rejects_a_nul_byte)
{
    static const char text[] = "[client]\nmatch = *:1\0 evil\n";
    int rc =
        policy_parse("t.conf", text, sizeof(text) - 1, &pol, err, sizeof(err));

    cr_assert_eq(rc, -1);
    cr_assert_null(pol);
    cr_assert_str_eq(
        err, "t.conf:2: control character 0x00 in line\n"
             "t.conf:1: match: missing; every rule needs a HOST:PORT list");
}

Test(policy, rejects_control_characters)
{
    expect_error("[client]\nmatch = *:1\rverify = none\n",
                 "t.conf:2: control character 0x0d in line\n"
                 "t.conf:1: match: missing; every rule needs a HOST:PORT list");
    expect_error("[client]\nmatch = *:1\n# \x1b[31m\n",
                 "t.conf:3: control character 0x1b in line");
    expect_error("[client]\nmatch = *:1\n\x7f\n",
                 "t.conf:3: control character 0x7f in line");
}

Test(policy, reports_every_error_in_order)
{
    expect_error(
        "[client a]\n"
        "match = *:1\n"
        "verfy = peer\n"
        "min_version = 1.1\n"
        "[server b]\n"
        "match = *:70000\n",
        "t.conf:3: unknown key 'verfy'\n"
        "t.conf:4: min_version: expected 1.2 or 1.3, got '1.1'\n"
        "t.conf:6: match: bad port '70000' in '*:70000'\n"
        "t.conf:5: cert, key: required in a rule that plays the TLS server");
}

Test(policy, cuts_messages_to_the_buffer)
{
    const char *text = "[client]\nmatch = *:1\nverfy = peer\n";
    char small[12];

    memset(small, 'Z', sizeof(small));
    cr_assert_eq(
        policy_parse("t.conf", text, strlen(text), &pol, small, sizeof(small)),
        -1);
    cr_assert_str_eq(small, "t.conf:3: u");
    cr_assert_eq(policy_parse("t.conf", text, strlen(text), &pol, NULL, 0), -1);
    memset(small, 'Z', sizeof(small));
    cr_assert_eq(policy_parse("t.conf", text, strlen(text), &pol, small, 0),
                 -1);
    cr_assert_eq(small[0], 'Z', "a zero-length buffer is not written");
}

Test(policy, quotes_only_the_start_of_a_huge_value)
{
    char text[512];
    char want[256];

    snprintf(text, sizeof(text), "[client]\nmatch = *:1\nverify = %0200d\n", 0);
    snprintf(want, sizeof(want),
             "t.conf:3: verify: expected peer or none, got '%064d...'", 0);
    expect_error(text, want);
}

Test(policy, rejects_null_text)
{
    cr_assert_eq(policy_parse("t.conf", NULL, 5, &pol, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "t.conf: no text to parse");
}

/*
 * Errors in the values of each key.
 */

struct error_case {
    const char *text;     /* the rule, from its header */
    const char *want_err; /* the whole message */
};

static void
expect_errors(const struct error_case *cases, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        int rc = parse(cases[i].text);

        cr_assert_eq(rc, -1, "accepted: %s", cases[i].text);
        cr_assert_null(pol);
        cr_assert_str_eq(err, cases[i].want_err, "for: %s", cases[i].text);
    }
}

Test(policy, rejects_bad_match_entries)
{
    static const struct error_case cases[] = {
        { "[client]\nmatch = *:80,,*:81\n",
          "t.conf:2: match: empty entry in '*:80,,*:81'" },
        { "[client]\nmatch = *:80,\n",
          "t.conf:2: match: empty entry in '*:80,'" },
        { "[client]\nmatch = ldap.example.com\n",
          "t.conf:2: match: missing port in 'ldap.example.com': write HOST:PORT" },
        { "[client]\nmatch = :80\n", "t.conf:2: match: missing host in ':80'" },
        { "[client]\nmatch = *:70000\n",
          "t.conf:2: match: bad port '70000' in '*:70000'" },
        { "[client]\nmatch = *:0\n", "t.conf:2: match: bad port '0' in '*:0'" },
        { "[client]\nmatch = *:\n", "t.conf:2: match: bad port '' in '*:'" },
        { "[client]\nmatch = *:http\n",
          "t.conf:2: match: bad port 'http' in '*:http'" },
        { "[client]\nmatch = *:+80\n",
          "t.conf:2: match: bad port '+80' in '*:+80'" },
        { "[client]\nmatch = *:80-\n",
          "t.conf:2: match: bad port '80-' in '*:80-'" },
        { "[client]\nmatch = *:-80\n",
          "t.conf:2: match: bad port '-80' in '*:-80'" },
        { "[client]\nmatch = *:1-2-3\n",
          "t.conf:2: match: bad port '1-2-3' in '*:1-2-3'" },
        { "[client]\nmatch = *:99999999999999999999\n",
          "t.conf:2: match: bad port '99999999999999999999' in '*:99999999999999999999'" },
        { "[client]\nmatch = *:90-80\n",
          "t.conf:2: match: bad port range '90-80' in '*:90-80': first port above last" },
        { "[client]\nmatch = ::1:80\n",
          "t.conf:2: match: IPv6 address in '::1:80' must be in brackets, as in [::1]:443" },
        { "[client]\nmatch = [::1:80\n",
          "t.conf:2: match: missing ']' in '[::1:80'" },
        { "[client]\nmatch = [::1]\n",
          "t.conf:2: match: missing port in '[::1]': write HOST:PORT" },
        { "[client]\nmatch = [::1]80\n",
          "t.conf:2: match: missing port in '[::1]80': write HOST:PORT" },
        { "[client]\nmatch = [::1]/64\n",
          "t.conf:2: match: missing port in '[::1]/64': write HOST:PORT" },
        { "[client]\nmatch = [::g]:80\n",
          "t.conf:2: match: bad IPv6 address '::g' in '[::g]:80'" },
        { "[client]\nmatch = [10.0.0.1]:80\n",
          "t.conf:2: match: bad IPv6 address '10.0.0.1' in '[10.0.0.1]:80'" },
        { "[client]\nmatch = [::/64]/64:80\n",
          "t.conf:2: match: prefix length given twice in '[::/64]/64:80'" },
        { "[client]\nmatch = [::]/129:80\n",
          "t.conf:2: match: bad prefix length '129' in '[::]/129:80'" },
        { "[client]\nmatch = [2001:db8::1]/32:80\n",
          "t.conf:2: match: address '2001:db8::1' has bits set past its /32 prefix in '[2001:db8::1]/32:80'" },
        { "[client]\nmatch = 10.0.0.256:80\n",
          "t.conf:2: match: bad IPv4 address '10.0.0.256' in '10.0.0.256:80'" },
        { "[client]\nmatch = 10.0.0:80\n",
          "t.conf:2: match: bad IPv4 address '10.0.0' in '10.0.0:80'" },
        { "[client]\nmatch = 10.0.0.0/33:80\n",
          "t.conf:2: match: bad prefix length '33' in '10.0.0.0/33:80'" },
        { "[client]\nmatch = 10.0.0.0/:80\n",
          "t.conf:2: match: bad prefix length '' in '10.0.0.0/:80'" },
        { "[client]\nmatch = 10.0.0.0/x:80\n",
          "t.conf:2: match: bad prefix length 'x' in '10.0.0.0/x:80'" },
        { "[client]\nmatch = example.com/8:80\n",
          "t.conf:2: match: bad IPv4 address 'example.com' in 'example.com/8:80'" },
        { "[client]\nmatch = 10.0.0.1/8:80\n",
          "t.conf:2: match: address '10.0.0.1' has bits set past its /8 prefix in '10.0.0.1/8:80'" },
        { "[client]\nmatch = a..b:80\n",
          "t.conf:2: match: bad host name 'a..b' in 'a..b:80'" },
        { "[client]\nmatch = .a:80\n",
          "t.conf:2: match: bad host name '.a' in '.a:80'" },
        { "[client]\nmatch = a b:80\n",
          "t.conf:2: match: bad host name 'a b' in 'a b:80'" },
        { "[client]\nmatch = *.:80\n",
          "t.conf:2: match: bad host name '*.' in '*.:80'" },
        { "[client]\nmatch = a.*.com:80\n",
          "t.conf:2: match: bad host name 'a.*.com' in 'a.*.com:80'" },
        { "[client]\nmatch = **:80\n",
          "t.conf:2: match: bad host name '**' in '**:80'" },
        { "[client]\nmatch = h\xc3\xa9.fr:80\n",
          "t.conf:2: match: bad host name 'h\xc3\xa9.fr' in 'h\xc3\xa9.fr:80'" },
        /* A label of 64 letters; both quotes are cut at 64 bytes. */
        { "[client]\nmatch = "
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b:80\n",
          "t.conf:2: match: bad host name "
          "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' "
          "in 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'" },
    };

    expect_errors(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(policy, reports_each_bad_element_of_a_match_list)
{
    expect_error("[client]\nmatch = *:0, *:1, x:y\n",
                 "t.conf:2: match: bad port '0' in '*:0'\n"
                 "t.conf:2: match: bad port 'y' in 'x:y'");
}

Test(policy, rejects_bad_values)
{
    static const struct error_case cases[] = {
        { "[client]\nmatch = *:1\nconnect_port = 0\n",
          "t.conf:3: connect_port: expected a port 1-65535, got '0'" },
        { "[client]\nmatch = *:1\nconnect_port = 65536\n",
          "t.conf:3: connect_port: expected a port 1-65535, got '65536'" },
        { "[client]\nmatch = *:1\nconnect_port = https\n",
          "t.conf:3: connect_port: expected a port 1-65535, got 'https'" },
        { "[client]\nmatch = *:1\nserver_name = a..b\n",
          "t.conf:3: server_name: bad name 'a..b': expected a DNS name or an address" },
        { "[client]\nmatch = *:1\nserver_name = *.example.com\n",
          "t.conf:3: server_name: bad name '*.example.com': expected a DNS name or an address" },
        { "[client]\nmatch = *:1\nserver_name = 10.0.0.300\n",
          "t.conf:3: server_name: bad name '10.0.0.300': expected a DNS name or an address" },
        { "[client]\nmatch = *:1\nverify = yes\n",
          "t.conf:3: verify: expected peer or none, got 'yes'" },
        { "[client]\nmatch = *:1\nmin_version = 1.1\n",
          "t.conf:3: min_version: expected 1.2 or 1.3, got '1.1'" },
        { "[client]\nmatch = *:1\nmin_version = TLSv1.2\n",
          "t.conf:3: min_version: expected 1.2 or 1.3, got 'TLSv1.2'" },
        { "[client]\nmatch = *:1\nalpn = h2,,http/1.1\n",
          "t.conf:3: alpn: empty protocol name in 'h2,,http/1.1'" },
        { "[client]\nmatch = *:1\nresumption = no\n",
          "t.conf:3: resumption: expected on or off, got 'no'" },
        { "[client]\nmatch = *:1\ntls_role = both\n",
          "t.conf:3: tls_role: expected client or server, got 'both'" },
        { "[client]\nmatch = *:1\nhandshake_timeout = 0\n",
          "t.conf:3: handshake_timeout: expected whole seconds 1-3600, got '0'" },
        { "[client]\nmatch = *:1\nhandshake_timeout = 3601\n",
          "t.conf:3: handshake_timeout: expected whole seconds 1-3600, got '3601'" },
        { "[client]\nmatch = *:1\nhandshake_timeout = 1.5\n",
          "t.conf:3: handshake_timeout: expected whole seconds 1-3600, got '1.5'" },
        { "[client]\nmatch = *:1\nhandshake_timeout = -1\n",
          "t.conf:3: handshake_timeout: expected whole seconds 1-3600, got '-1'" },
        { "[client]\nmatch = *:1\nhandshake_timeout = 10s\n",
          "t.conf:3: handshake_timeout: expected whole seconds 1-3600, got '10s'" },
        { "[server]\nmatch = *:1\ncert = cert.pem\nkey = key.pem\n"
          "client_ca = clients-ca.pem\nclient_auth = always\n",
          "t.conf:6: client_auth: expected none, optional or required, got 'always'" },
    };

    expect_errors(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(policy, rejects_an_alpn_name_over_255_bytes)
{
    char text[512];
    char want[512];
    char name[257];

    memset(name, 'a', 256);
    name[256] = '\0';
    snprintf(text, sizeof(text), "[client]\nmatch = *:1\nalpn = %s\n", name);
    snprintf(
        want, sizeof(want),
        "t.conf:3: alpn: protocol name '%.64s...' is longer than 255 bytes",
        name);
    expect_error(text, want);
}

Test(policy, rejects_an_alpn_list_over_65535_bytes)
{
    size_t names = 300;
    size_t len = strlen("[client]\nmatch = *:1\nalpn = ");
    char *text = malloc(len + names * 251 + 2);
    size_t i;

    /* 300 names of 250 bytes: 75300 bytes on the wire. */
    cr_assert_not_null(text);
    memcpy(text, "[client]\nmatch = *:1\nalpn = ", len);
    for (i = 0; i < names; i++) {
        memset(text + len, 'p', 250);
        text[len + 250] = ',';
        len += 251;
    }
    text[len - 1] = '\n';
    text[len] = '\0';
    expect_error(text, "t.conf:3: alpn: protocol list longer than 65535 bytes");
    free(text);
}

Test(policy, rejects_bad_pins)
{
    static const struct error_case cases[] = {
        { "[client]\nmatch = *:1\npin_sha256 = abc\n",
          "t.conf:3: pin_sha256: 'abc' is not the base64 of a SHA-256 hash (44 characters ending in '=')" },
        /* 45 characters: one too many. */
        { "[client]\nmatch = *:1\npin_sha256 = "
          "pMKAPAgcl1wdUPeybUi+y6ryX+mqFxUopgd/IByI4WQ==\n",
          "t.conf:3: pin_sha256: 'pMKAPAgcl1wdUPeybUi+y6ryX+mqFxUopgd/IByI4WQ==' is not the base64 of a SHA-256 hash (44 characters ending in '=')" },
        /* base64url is a different alphabet. */
        { "[client]\nmatch = *:1\npin_sha256 = "
          "pMKAPAgcl1wdUPeybUi-y6ryX-mqFxUopgd_IByI4WQ=\n",
          "t.conf:3: pin_sha256: 'pMKAPAgcl1wdUPeybUi-y6ryX-mqFxUopgd_IByI4WQ=' is not the base64 of a SHA-256 hash (44 characters ending in '=')" },
        /* The last digit carries two spare bits, which must be zero. */
        { "[client]\nmatch = *:1\npin_sha256 = "
          "pMKAPAgcl1wdUPeybUi+y6ryX+mqFxUopgd/IByI4WR=\n",
          "t.conf:3: pin_sha256: 'pMKAPAgcl1wdUPeybUi+y6ryX+mqFxUopgd/IByI4WR=' is not the base64 of a SHA-256 hash (44 characters ending in '=')" },
        /* A SHA-1 pin is 28 characters. */
        { "[client]\nmatch = *:1\npin_sha256 = "
          "2jmj7l5rSw0yVb/vlWAYkK/YBwk=\n",
          "t.conf:3: pin_sha256: '2jmj7l5rSw0yVb/vlWAYkK/YBwk=' is not the base64 of a SHA-256 hash (44 characters ending in '=')" },
        { "[client]\nmatch = *:1\npin_sha256 = "
          "pMKAPAgcl1wdUPeybUi+y6ryX+mqFxUopgd/IByI4WQ=,\n",
          "t.conf:3: pin_sha256: '' is not the base64 of a SHA-256 hash (44 characters ending in '=')" },
    };

    expect_errors(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(policy, rejects_connect_port_in_a_server_rule)
{
    expect_error("[server]\nmatch = *:1\ncert = cert.pem\nkey = key.pem\n"
                 "connect_port = 2\n",
                 "t.conf:5: connect_port: only valid in [client] rules");
}

Test(policy, rejects_tls_client_keys_in_a_rule_that_plays_the_tls_server)
{
    static const struct error_case cases[] = {
        { "[server]\nmatch = *:1\ncert = cert.pem\nkey = key.pem\n"
          "server_name = a.example\n",
          "t.conf:5: server_name: not valid in a rule that plays the TLS server" },
        { "[server]\nmatch = *:1\ncert = cert.pem\nkey = key.pem\n"
          "verify = none\n",
          "t.conf:5: verify: not valid in a rule that plays the TLS server" },
        { "[server]\nmatch = *:1\ncert = cert.pem\nkey = key.pem\n"
          "ca_file = ca.pem\n",
          "t.conf:5: ca_file: not valid in a rule that plays the TLS server" },
        { "[server]\nmatch = *:1\ncert = cert.pem\nkey = key.pem\n"
          "ca_path = cadir\n",
          "t.conf:5: ca_path: not valid in a rule that plays the TLS server" },
        { "[server]\nmatch = *:1\ncert = cert.pem\nkey = key.pem\n"
          "pin_sha256 = pMKAPAgcl1wdUPeybUi+y6ryX+mqFxUopgd/IByI4WQ=\n"
          "pin_sha256 = 4eNv//9a0Y3oh5AUIhOIJSWq259bdG7rglipqBFLX/c=\n",
          "t.conf:5: pin_sha256: not valid in a rule that plays the TLS server" },
        /* tls_role after the key still counts: checks run at the end. */
        { "[client]\nmatch = *:1\nserver_name = a.example\ncert = cert.pem\n"
          "key = key.pem\ntls_role = server\n",
          "t.conf:3: server_name: not valid in a rule that plays the TLS server" },
    };

    expect_errors(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(policy, rejects_tls_server_keys_in_a_rule_that_plays_the_tls_client)
{
    static const struct error_case cases[] = {
        { "[client]\nmatch = *:1\nclient_ca = clients-ca.pem\n",
          "t.conf:3: client_ca: not valid in a rule that plays the TLS client" },
        { "[client]\nmatch = *:1\nclient_auth = none\n",
          "t.conf:3: client_auth: not valid in a rule that plays the TLS client" },
        { "[server]\nmatch = *:1\ntls_role = client\n"
          "client_ca = clients-ca.pem\nclient_auth = required\n",
          "t.conf:4: client_ca: not valid in a rule that plays the TLS client\n"
          "t.conf:5: client_auth: not valid in a rule that plays the TLS client" },
    };

    expect_errors(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(policy, requires_cert_and_key_to_play_the_tls_server)
{
    static const struct error_case cases[] = {
        { "[server web]\nmatch = *:443\n",
          "t.conf:1: cert, key: required in a rule that plays the TLS server" },
        { "[client data]\nmatch = *:20\ntls_role = server\n",
          "t.conf:1: cert, key: required in a rule that plays the TLS server" },
        { "[server]\nmatch = *:443\ncert = cert.pem\n",
          "t.conf:3: cert: given without key" },
        { "[server]\nmatch = *:443\nkey = key.pem\n",
          "t.conf:3: key: given without cert" },
        { "[client]\nmatch = *:443\ncert = cert.pem\n",
          "t.conf:3: cert: given without key" },
        { "[client]\nmatch = *:443\nkey = key.pem\n",
          "t.conf:3: key: given without cert" },
    };

    expect_errors(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(policy, requires_client_ca_to_ask_for_client_certificates)
{
    static const struct error_case cases[] = {
        { "[server]\nmatch = *:1\ncert = cert.pem\nkey = key.pem\n"
          "client_auth = required\n",
          "t.conf:5: client_auth: required needs client_ca, the CA that signs client certificates" },
        { "[server]\nmatch = *:1\ncert = cert.pem\nkey = key.pem\n"
          "client_auth = optional\n",
          "t.conf:5: client_auth: optional needs client_ca, the CA that signs client certificates" },
        { "[server]\nmatch = *:1\ncert = cert.pem\nkey = key.pem\n"
          "client_ca = clients-ca.pem\nclient_auth = none\n",
          "t.conf:5: client_ca: not used with client_auth = none" },
    };

    expect_errors(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(policy, rejects_unreadable_files_with_their_absolute_path)
{
    static const char *const keys[] = { "ca_file", "cert", "key", "client_ca" };
    char text[512];
    char want[PATH_MAX + 256];
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *k = keys[i];
        bool server = strcmp(k, "client_ca") == 0;

        snprintf(text, sizeof(text), "[%s]\nmatch = *:1\n%s = missing.pem\n%s",
                 server ? "server" : "client", k,
                 strcmp(k, "cert") == 0  ? "key = key.pem\n"
                 : strcmp(k, "key") == 0 ? "cert = cert.pem\n"
                 : server                ? "cert = cert.pem\nkey = key.pem\n"
                                         : "");
        snprintf(want, sizeof(want),
                 "t.conf:3: %s: cannot read %s: No such file or directory", k,
                 in_tmp("missing.pem"));
        expect_error(text, want);
    }
}

Test(policy, rejects_a_directory_where_a_file_is_expected)
{
    char want[PATH_MAX + 256];

    snprintf(want, sizeof(want), "t.conf:3: ca_file: cannot read %s: %s",
             in_tmp("cadir"), strerror(EISDIR));
    expect_error("[client]\nmatch = *:1\nca_file = cadir\n", want);
}

Test(policy, rejects_a_ca_path_that_is_not_a_directory)
{
    char want[PATH_MAX + 256];

    snprintf(want, sizeof(want), "t.conf:3: ca_path: %s is not a directory",
             in_tmp("ca.pem"));
    expect_error("[client]\nmatch = *:1\nca_path = ca.pem\n", want);
    snprintf(want, sizeof(want),
             "t.conf:3: ca_path: cannot read %s: No such file or directory",
             in_tmp("nodir"));
    expect_error("[client]\nmatch = *:1\nca_path = nodir\n", want);
}

/*
 * policy_load: problems with the file itself.
 */

Test(policy, reports_a_missing_policy_file)
{
    cr_assert_eq(policy_load("nope.conf", &pol, err, sizeof(err)), -1);
    cr_assert_null(pol);
    cr_assert_str_eq(err, "nope.conf: cannot open: No such file or directory");
}

Test(policy, reports_a_directory_as_policy_file)
{
    cr_assert_eq(policy_load("cadir", &pol, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "cadir: cannot read: Is a directory");
}

Test(policy, refuses_a_huge_policy_file)
{
    FILE *f = fopen("big.conf", "w");
    size_t i;

    cr_assert_not_null(f);
    for (i = 0; i < 1024 * 1024 / 8 + 1; i++) {
        fputs("#######\n", f);
    }
    fclose(f);
    cr_assert_eq(policy_load("big.conf", &pol, err, sizeof(err)), -1);
    cr_assert_str_eq(err,
                     "big.conf: larger than 1048576 bytes; not a policy file?");
}

Test(policy, refuses_no_path)
{
    cr_assert_eq(policy_load(NULL, &pol, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "(none): no policy file given");
    cr_assert_eq(policy_load("", &pol, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "(none): no policy file given");
}

Test(policy, reports_errors_with_the_path_as_given)
{
    write_file("t.conf", "[client]\nmatch = *:1\nverfy = peer\n");
    cr_assert_eq(policy_load("./t.conf", &pol, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "./t.conf:3: unknown key 'verfy'");
}

/*
 * The sample policies shipped under policy/.
 */

Test(policy, parses_the_reference_policy)
{
    const struct policy_rule *r;

    cr_assert_eq(policy_load(TLSSHIM_SOURCE_DIR "/policy/reference.conf", &pol,
                             err, sizeof(err)),
                 0, "%s", err);
    cr_assert_geq(pol->rules_len, 5);
    r = &pol->rules[0];
    cr_assert_str_eq(r->label, "ldap");
    cr_assert_eq(r->connect_port, 636);
}

Test(policy, parses_the_http_client_sample)
{
    const struct policy_rule *r;

    cr_assert_eq(policy_load(TLSSHIM_SOURCE_DIR "/policy/http.conf", &pol, err,
                             sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(pol->rules_len, 1);
    r = &pol->rules[0];
    cr_assert_eq(r->kind, POLICY_CLIENT);
    cr_assert_eq(r->connect_port, 443);
    cr_assert_eq(r->match[0].port_lo, 80);
    cr_assert_eq(r->verify, POLICY_VERIFY_PEER);
}

Test(policy, parses_the_http_server_sample_next_to_its_certificate)
{
    FILE *in = fopen(TLSSHIM_SOURCE_DIR "/policy/http-server.conf", "r");
    FILE *out = fopen("sub/http-server.conf", "w");
    const struct policy_rule *r;
    char buf[4096];
    size_t n;

    /* The sample names server.pem and server.key next to itself. */
    cr_assert_not_null(in);
    cr_assert_not_null(out);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        fwrite(buf, 1, n, out);
    }
    fclose(in);
    fclose(out);
    rename("server.pem", "sub/server.pem");
    rename("server.key", "sub/server.key");

    cr_assert_eq(policy_load("sub/http-server.conf", &pol, err, sizeof(err)), 0,
                 "%s", err);
    cr_assert_eq(pol->rules_len, 1);
    r = &pol->rules[0];
    cr_assert_eq(r->kind, POLICY_SERVER);
    cr_assert_not(r->tls_client);
    cr_assert_eq(r->match[0].port_lo, 8443);
    cr_assert_str_eq(r->cert, in_tmp("sub/server.pem"));
    unlink("sub/server.pem");
    unlink("sub/server.key");
}
