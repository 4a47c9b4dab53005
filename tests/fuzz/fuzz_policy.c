/*
 * fuzz_policy.c - libFuzzer harness over the policy parser and matcher.
 *
 * Each input is a policy file.  It is parsed with policy_parse (reported as
 * coming from a file in a scratch directory that holds small readable
 * files with the names the seed corpus uses, so that rules naming them can
 * parse in full), and then:
 *   - the result must be consistent: 0 with a policy and no error text, or
 *     -1 with no policy and error lines that each start "FILE:LINE: " or
 *     "FILE: " (the contract: every error names the file and the line);
 *   - a parsed policy must satisfy the invariants policy.h documents
 *     (non-empty match lists, port ranges in order, prefix lengths within
 *     the address size, absolute paths, ALPN in wire format, ...);
 *   - policy_match is asked about a set of addresses and names, some fixed
 *     and some taken from the input, and must answer NULL or a rule of the
 *     asked kind from the policy;
 *   - the same input parsed with a tiny error buffer must give the same
 *     answer and a NUL-terminated, truncated message.
 * Any violation calls abort(), which libFuzzer reports as a crash; ASan,
 * UBSan and LeakSanitizer report memory errors and leaks.
 *
 * Build: tests/fuzz/run.sh (or tests/fuzz/CMakeLists.txt) with
 *   clang -fsanitize=fuzzer,address,undefined shim/policy.c shim/addr.c
 *   shim/names.c
 */
#include "tlsshim/policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The scratch directory and the policy path inside it. */
static char g_dir[256];
static char g_path[300];

/* Files the seed corpus names; each exists (small, readable) in g_dir. */
static const char *const k_files[] = {
    "server.pem",     "server.key", "ca.pem",  "client.pem",
    "client.key",     "chain.pem",  "ftp.pem", "ftp.key",
    "clients-ca.pem", "a",          "b",
};

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "fuzz_policy: invariant failed: %s (%s:%d)\n", \
                    #cond, __FILE__, __LINE__);                            \
            abort();                                                       \
        }                                                                  \
    } while (0)

static void
make_scratch(void)
{
    char file[512];
    size_t i;

    snprintf(g_dir, sizeof(g_dir), "/tmp/tlsshim-fuzz.%ld", (long)getpid());
    mkdir(g_dir, 0700);
    for (i = 0; i < sizeof(k_files) / sizeof(k_files[0]); i++) {
        FILE *f;

        snprintf(file, sizeof(file), "%s/%s", g_dir, k_files[i]);
        f = fopen(file, "w");
        if (f != NULL) {
            fputs("placeholder\n", f);
            fclose(f);
        }
    }
    /* A directory for ca_path. */
    snprintf(file, sizeof(file), "%s/certs", g_dir);
    mkdir(file, 0700);
    snprintf(g_path, sizeof(g_path), "%s/fuzz.conf", g_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    make_scratch();
    return 0;
}

/* check_errors checks that every line of |err| names the policy file. */
static void
check_errors(const char *err, size_t err_size)
{
    size_t plen = strlen(g_path);
    const char *line = err;
    /* A full buffer means the last line was cut: it is not checked. */
    bool full = strlen(err) == err_size - 1;

    CHECK(err[0] != '\0');
    while (line != NULL && *line != '\0') {
        const char *p;

        if (full && strchr(line, '\n') == NULL) {
            break;
        }
        CHECK(strncmp(line, g_path, plen) == 0);
        p = line + plen;
        CHECK(*p == ':');
        p++;
        if (*p >= '0' && *p <= '9') {
            while (*p >= '0' && *p <= '9') {
                p++;
            }
            CHECK(*p == ':');
            p++;
        }
        CHECK(*p == ' ');
        line = strchr(line, '\n');
        if (line != NULL) {
            line++;
        }
    }
}

static void
check_path(const char *path)
{
    if (path != NULL) {
        CHECK(path[0] == '/');
    }
}

static void
check_rule(const struct policy *pol, const struct policy_rule *r)
{
    size_t i;

    CHECK(r->label != NULL);
    CHECK(r->kind == POLICY_CLIENT || r->kind == POLICY_SERVER);
    CHECK(r->match != NULL && r->match_len > 0);
    CHECK(r->line > 0);
    CHECK(r->file == pol->path);
    for (i = 0; i < r->match_len; i++) {
        const struct policy_endpoint *e = &r->match[i];

        CHECK(e->port_lo <= e->port_hi);
        switch (e->host_kind) {
        case POLICY_HOST_ANY:
            break;
        case POLICY_HOST_ADDR:
            CHECK(e->family == AF_INET || e->family == AF_INET6);
            CHECK(e->prefix_len <= (e->family == AF_INET ? 32u : 128u));
            break;
        case POLICY_HOST_NAME:
            CHECK(e->name != NULL && e->name[0] != '\0');
            break;
        default:
            CHECK(!"bad host kind");
        }
    }
    check_path(r->ca_file);
    check_path(r->ca_path);
    check_path(r->cert);
    check_path(r->key);
    check_path(r->client_ca);
    CHECK(r->min_version == POLICY_TLS1_2 || r->min_version == POLICY_TLS1_3);
    CHECK(r->pins_len == 0 || r->pins != NULL);
    CHECK((r->alpn == NULL) == (r->alpn_len == 0));
    if (r->alpn != NULL) {
        size_t off = 0;

        while (off < r->alpn_len) {
            CHECK(r->alpn[off] > 0);
            off += 1 + (size_t)r->alpn[off];
        }
        CHECK(off == r->alpn_len);
    }
    CHECK(r->handshake_timeout_ms > 0);
    /* A TLS server needs its certificate and key. */
    if (!r->tls_client) {
        CHECK(r->cert != NULL && r->key != NULL);
    }
    if (r->verify == POLICY_VERIFY_PEER && r->tls_client) {
        CHECK(r->ca_file != NULL || r->ca_path != NULL);
    }
}

/* ask calls policy_match for both kinds and checks the answer. */
static void
ask(const struct policy *pol, const struct sockaddr *sa, socklen_t len,
    const char *name)
{
    int k;

    for (k = 0; k < 2; k++) {
        enum policy_kind kind = k == 0 ? POLICY_CLIENT : POLICY_SERVER;
        const struct policy_rule *r = policy_match(pol, kind, sa, len, name);

        if (r != NULL) {
            CHECK(r >= pol->rules && r < pol->rules + pol->rules_len);
            CHECK(r->kind == kind);
        }
    }
}

static void
match_many(const struct policy *pol, const uint8_t *data, size_t size)
{
    static const char *const names[] = {
        NULL,
        "localhost",
        "a.example.com",
        "A.EXAMPLE.COM.",
        "example.com",
        "ldap.example.com",
        "x",
        "",
    };
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    char name[64];
    size_t i, j;
    uint32_t h = 2166136261u;

    for (i = 0; i < size; i++) {
        h = (h ^ data[i]) * 16777619u;
    }
    /* A name from the input: the first label-like run. */
    for (i = 0, j = 0; i < size && j < sizeof(name) - 1; i++) {
        char c = (char)data[i];

        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
            c == '-') {
            name[j++] = c;
        } else if (j > 0) {
            break;
        }
    }
    name[j] = '\0';

    for (i = 0; i < sizeof(names) / sizeof(names[0]) + 1; i++) {
        const char *n = i < sizeof(names) / sizeof(names[0]) ? names[i] : name;
        static const char *const v4s[] = { "127.0.0.1", "10.1.2.3", "0.0.0.0",
                                           "255.255.255.255" };
        static const char *const v6s[] = { "::1", "::ffff:127.0.0.1",
                                           "2001:db8::1", "::" };
        static const unsigned short ports[] = { 0,   1,    21,    389,
                                                443, 8443, 40050, 65535 };
        size_t a, p;

        for (a = 0; a < 4; a++) {
            for (p = 0; p < 8; p++) {
                memset(&v4, 0, sizeof(v4));
                v4.sin_family = AF_INET;
                v4.sin_port = htons(ports[p]);
                inet_pton(AF_INET, v4s[a], &v4.sin_addr);
                ask(pol, (struct sockaddr *)&v4, sizeof(v4), n);
                memset(&v6, 0, sizeof(v6));
                v6.sin6_family = AF_INET6;
                v6.sin6_port = htons(ports[p]);
                inet_pton(AF_INET6, v6s[a], &v6.sin6_addr);
                ask(pol, (struct sockaddr *)&v6, sizeof(v6), n);
            }
        }
        /* Addresses and a port from the hash of the input. */
        memset(&v4, 0, sizeof(v4));
        v4.sin_family = AF_INET;
        v4.sin_port = (in_port_t)(h >> 16);
        memcpy(&v4.sin_addr, &h, 4);
        ask(pol, (struct sockaddr *)&v4, sizeof(v4), n);
        memset(&v6, 0, sizeof(v6));
        v6.sin6_family = AF_INET6;
        v6.sin6_port = (in_port_t)h;
        memcpy(&v6.sin6_addr, &h, 4);
        memcpy((char *)&v6.sin6_addr + 12, &h, 4);
        ask(pol, (struct sockaddr *)&v6, sizeof(v6), n);
    }
    /* Short and odd addresses must be refused, not read past. */
    memset(&v4, 0, sizeof(v4));
    v4.sin_family = AF_INET;
    ask(pol, (struct sockaddr *)&v4, 2, "localhost");
    v4.sin_family = AF_UNIX;
    ask(pol, (struct sockaddr *)&v4, sizeof(v4), NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct policy *pol = NULL;
    struct policy *pol2 = NULL;
    char err[4096];
    char small[8];
    int rc, rc2;
    size_t i;

    memset(err, 'X', sizeof(err));
    rc = policy_parse(g_path, (const char *)data, size, &pol, err, sizeof(err));
    CHECK(rc == 0 || rc == -1);
    CHECK(memchr(err, '\0', sizeof(err)) != NULL);
    if (rc == 0) {
        CHECK(pol != NULL);
        CHECK(err[0] == '\0');
        CHECK(pol->path != NULL && strcmp(pol->path, g_path) == 0);
        CHECK(pol->rules_len == 0 || pol->rules != NULL);
        for (i = 0; i < pol->rules_len; i++) {
            check_rule(pol, &pol->rules[i]);
        }
        match_many(pol, data, size);
    } else {
        CHECK(pol == NULL);
        check_errors(err, sizeof(err));
    }

    /* The same input with a tiny error buffer: same verdict, and the
     * message is cut, never overrun. */
    memset(small, 'X', sizeof(small));
    rc2 = policy_parse(g_path, (const char *)data, size, &pol2, small,
                       sizeof(small));
    CHECK(rc2 == rc);
    CHECK(memchr(small, '\0', sizeof(small)) != NULL);
    CHECK((pol2 == NULL) == (pol == NULL));
    /* And with no error buffer at all. */
    policy_free(pol2);
    pol2 = NULL;
    rc2 = policy_parse(g_path, (const char *)data, size, &pol2, NULL, 0);
    CHECK(rc2 == rc);
    policy_free(pol2);

    policy_free(pol);
    return 0;
}
