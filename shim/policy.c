/*
 * policy.c - the policy file: parsing and matching (see policy.h).
 *
 * The parser holds the whole file in memory and reads it one line at a
 * time.  It keeps going after an error, so that one run of `tlsshim
 * --check` reports every mistake in the file.  It trusts nothing about the
 * input: lines may be of any length and contain any byte, and the last one
 * may lack its newline.  It keeps no global state, so tests and fuzzers may
 * run it on several threads at once.
 *
 * Checks that involve more than one key (a TLS server needs a certificate,
 * client_auth needs client_ca) run when a rule's section ends, because the
 * keys of a section may come in any order.
 */
#include "tlsshim/policy.h"

#include "tlsshim/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* POLICY_FILE_MAX bounds the size of a policy file: anything larger is not
 * a policy someone wrote, and reading it whole would cost memory. */
#define POLICY_FILE_MAX (1024 * 1024)

/* POLICY_HANDSHAKE_TIMEOUT_MAX is the largest handshake_timeout in
 * seconds: an hour is already longer than any program waits. */
#define POLICY_HANDSHAKE_TIMEOUT_MAX 3600

/* POLICY_QUOTE_MAX is how much of a value an error message repeats. */
#define POLICY_QUOTE_MAX 64

/* DNS limits (RFC 1035 section 2.3.4). */
#define POLICY_NAME_MAX  253
#define POLICY_LABEL_MAX 63

/* The keys a rule may contain, in the order of the reference file. */
enum policy_key {
    KEY_MATCH,
    KEY_CONNECT_PORT,
    KEY_SERVER_NAME,
    KEY_VERIFY,
    KEY_CA_FILE,
    KEY_CA_PATH,
    KEY_CERT,
    KEY_KEY,
    KEY_PIN_SHA256,
    KEY_MIN_VERSION,
    KEY_ALPN,
    KEY_CLIENT_CA,
    KEY_CLIENT_AUTH,
    KEY_TLS_ROLE,
    KEY_HANDSHAKE_TIMEOUT,
    KEY_RESUMPTION,
    KEY_COUNT,
};

/* The state of one parse. */
struct parser {
    const char *shown;        /* the path as the user gave it, for messages */
    char *base_dir;           /* absolute directory for relative paths */
    char *err;                /* the caller's message buffer, or NULL */
    size_t err_len;           /* size of |err| */
    size_t err_used;          /* bytes written to |err|, before its NUL */
    unsigned errors;          /* number of errors reported */
    struct policy *policy;    /* the policy being built */
    struct policy_rule *rule; /* the rule of the current section, or NULL */
    bool skipping;            /* inside a section whose header was bad */
    int key_line[KEY_COUNT];  /* line of each key in |rule|, 0 if absent */
    bool key_ok[KEY_COUNT];   /* whether that key's value was accepted */
};

/* A key handler parses |value| (trimmed, NUL-terminated, not empty, and
 * writable) given on |line| into p->rule.  It reports its own errors and
 * returns false after one. */
typedef bool (*policy_key_fn)(struct parser *p, int line, char *value);

struct policy_key_info {
    const char *name; /* as written in the file */
    policy_key_fn fn; /* its parser */
    bool repeatable;  /* may appear more than once in a rule */
};

/*
 * Error messages.
 */

/* parser_vappend appends formatted text to the error buffer, cutting it at
 * the end of the buffer. */
static void
parser_vappend(struct parser *p, const char *fmt, va_list ap)
{
    size_t room;
    int n;

    if (p->err == NULL || p->err_len == 0) {
        return;
    }
    room = p->err_len - p->err_used;
    if (room <= 1) {
        return;
    }
    n = vsnprintf(p->err + p->err_used, room, fmt, ap);
    if (n < 0) {
        p->err[p->err_used] = '\0';
    } else if ((size_t)n >= room) {
        p->err_used = p->err_len - 1;
    } else {
        p->err_used += (size_t)n;
    }
}

static void parser_append(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
parser_append(struct parser *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    parser_vappend(p, fmt, ap);
    va_end(ap);
}

/* parser_error reports "FILE:LINE: message" for |line|, or "FILE: message"
 * for a problem with the file as a whole (|line| 0). */
static void parser_error(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
parser_error(struct parser *p, int line, const char *fmt, ...)
{
    va_list ap;

    if (p->errors > 0) {
        parser_append(p, "\n");
    }
    p->errors++;
    if (line > 0) {
        parser_append(p, "%s:%d: ", p->shown, line);
    } else {
        parser_append(p, "%s: ", p->shown);
    }
    va_start(ap, fmt);
    parser_vappend(p, fmt, ap);
    va_end(ap);
}

/* quote copies |s| into |buf| for an error message, cut to
 * POLICY_QUOTE_MAX bytes with "..." so that a huge value cannot crowd out
 * the other messages.  Returns |buf|. */
static const char *
quote(const char *s, char buf[POLICY_QUOTE_MAX + 4])
{
    size_t len = strlen(s);

    if (len <= POLICY_QUOTE_MAX) {
        memcpy(buf, s, len + 1);
    } else {
        memcpy(buf, s, POLICY_QUOTE_MAX);
        memcpy(buf + POLICY_QUOTE_MAX, "...", 4);
    }
    return buf;
}

/*
 * Small text helpers.  They avoid <ctype.h>, whose answers depend on the
 * program's locale.
 */

static bool
is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char
to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* trim narrows [*s, *s + *len) to exclude leading and trailing blanks. */
static void
trim(const char **s, size_t *len)
{
    while (*len > 0 && is_space((*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_space((*s)[*len - 1])) {
        (*len)--;
    }
}

/* trim_str trims a NUL-terminated string in place and returns its start. */
static char *
trim_str(char *s)
{
    size_t len;

    while (is_space(*s)) {
        s++;
    }
    len = strlen(s);
    while (len > 0 && is_space(s[len - 1])) {
        s[--len] = '\0';
    }
    return s;
}

/* dup_range returns a NUL-terminated copy of |len| bytes at |s|. */
static char *
dup_range(const char *s, size_t len)
{
    char *out = malloc(len + 1);

    if (out != NULL) {
        memcpy(out, s, len);
        out[len] = '\0';
    }
    return out;
}

/* parse_uint parses a plain decimal number no larger than |max|: digits
 * only, no sign, no blanks. */
static bool
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;

    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!is_digit(*s)) {
            return false;
        }
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max) {
            return false;
        }
    }
    *out = v;
    return true;
}

/* next_item splits a comma-separated list in place: it returns the trimmed
 * item at |*cursor| and advances |*cursor| past its comma, or to NULL after
 * the last item. */
static char *
next_item(char **cursor)
{
    char *item = *cursor;
    char *comma = strchr(item, ',');

    if (comma != NULL) {
        *comma = '\0';
        *cursor = comma + 1;
    } else {
        *cursor = NULL;
    }
    return trim_str(item);
}

/*
 * Paths.
 */

/* path_clean removes "." components and repeated slashes from the absolute
 * path |path| in place.  ".." is kept: removing it by text would be wrong
 * when the component before it is a symbolic link. */
static void
path_clean(char *path)
{
    char *in = path;
    char *out = path;

    while (*in != '\0') {
        if (in[0] == '/' && in[1] == '/') {
            in++;
        } else if (in[0] == '/' && in[1] == '.' &&
                   (in[2] == '/' || in[2] == '\0')) {
            in += 2;
        } else {
            *out++ = *in++;
        }
    }
    if (out == path) {
        *out++ = '/';
    }
    *out = '\0';
}

/* path_join returns |dir| "/" |name|, cleaned, or NULL without memory. */
static char *
path_join(const char *dir, const char *name)
{
    size_t dir_len = strlen(dir);
    size_t name_len = strlen(name);
    char *out = malloc(dir_len + name_len + 2);

    if (out == NULL) {
        return NULL;
    }
    memcpy(out, dir, dir_len);
    out[dir_len] = '/';
    memcpy(out + dir_len + 1, name, name_len + 1);
    path_clean(out);
    return out;
}

/* path_absolute returns |path| made absolute against the working
 * directory, or NULL with errno set. */
static char *
path_absolute(const char *path)
{
    char *cwd;
    char *out;

    if (path[0] == '/') {
        out = strdup(path);
        if (out != NULL) {
            path_clean(out);
        }
        return out;
    }
    cwd = getcwd(NULL, 0);
    if (cwd == NULL) {
        return NULL;
    }
    out = path_join(cwd, path);
    free(cwd);
    return out;
}

/* path_dir returns the directory part of the absolute path |path|. */
static char *
path_dir(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL || slash == path) {
        return strdup("/");
    }
    return dup_range(path, (size_t)(slash - path));
}

/*
 * Rules and their fields.
 */

static void
rule_free_fields(struct policy_rule *rule)
{
    size_t i;

    free(rule->label);
    for (i = 0; i < rule->match_len; i++) {
        free(rule->match[i].name);
    }
    free(rule->match);
    free(rule->server_name);
    free(rule->ca_file);
    free(rule->ca_path);
    free(rule->cert);
    free(rule->key);
    free(rule->client_ca);
    free(rule->pins);
    free(rule->alpn);
}

void
policy_free(struct policy *policy)
{
    size_t i;

    if (policy == NULL) {
        return;
    }
    for (i = 0; i < policy->rules_len; i++) {
        rule_free_fields(&policy->rules[i]);
    }
    free(policy->rules);
    free(policy->path);
    free(policy);
}

const char *
policy_kind_name(enum policy_kind kind)
{
    return kind == POLICY_SERVER ? "server" : "client";
}

/* file_check reports whether |path| is a file that can be read, with
 * errno set when it is not.  Only readability is checked here: whether
 * the content is a certificate is tlsctx's business. */
static bool
file_check(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return false;
    }
    return access(path, R_OK) == 0;
}

/* key_path resolves |value| against the policy's directory and checks the
 * file, or with |want_dir| the directory, it names.  Returns the absolute
 * path, or NULL after reporting an error for |key|. */
static char *
key_path(struct parser *p, int line, const char *key, const char *value,
         bool want_dir)
{
    struct stat st;
    char *path;

    if (value[0] == '/') {
        path = strdup(value);
        if (path != NULL) {
            path_clean(path);
        }
    } else {
        path = path_join(p->base_dir, value);
    }
    if (path == NULL) {
        parser_error(p, line, "%s: out of memory", key);
        return NULL;
    }

    if (!want_dir) {
        if (!file_check(path)) {
            parser_error(p, line, "%s: cannot read %s: %s", key, path,
                         strerror(errno));
            free(path);
            return NULL;
        }
        return path;
    }

    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
        parser_error(p, line, "%s: %s is not a directory", key, path);
        free(path);
        return NULL;
    }
    if (stat(path, &st) != 0 || access(path, R_OK | X_OK) != 0) {
        parser_error(p, line, "%s: cannot read %s: %s", key, path,
                     strerror(errno));
        free(path);
        return NULL;
    }
    return path;
}

/* key_file stores the resolved path of |value| in |*field|. */
static bool
key_file(struct parser *p, int line, const char *key, const char *value,
         char **field, int *field_line, bool want_dir)
{
    char *path = key_path(p, line, key, value, want_dir);

    if (path == NULL) {
        return false;
    }
    *field = path;
    if (field_line != NULL) {
        *field_line = line;
    }
    return true;
}

/*
 * Hosts and ports of `match`.
 */

/* host_name_check reports whether |name| is a DNS name the matcher can
 * compare: labels of letters, digits, '-' and '_' (seen in internal zones)
 * separated by dots, optionally starting with the wildcard label "*". */
static bool
host_name_check(const char *name, bool allow_wildcard)
{
    size_t total = strlen(name);
    size_t label = 0;
    const char *s = name;

    if (total > 0 && name[total - 1] == '.') {
        total--;
    }
    if (total == 0 || total > POLICY_NAME_MAX) {
        return false;
    }
    if (allow_wildcard && total > 2 && s[0] == '*' && s[1] == '.') {
        s += 2;
        total -= 2;
    }

    for (; total > 0; s++, total--) {
        if (*s == '.') {
            if (label == 0) {
                return false;
            }
            label = 0;
        } else if (is_alnum(*s) || *s == '-' || *s == '_') {
            if (++label > POLICY_LABEL_MAX) {
                return false;
            }
        } else {
            return false;
        }
    }
    return label > 0;
}

/* only_digits_and_dots reports whether |s| looks like an IPv4 address, so
 * that "10.0.0.256" is reported as a bad address, not taken as a name. */
static bool
only_digits_and_dots(const char *s)
{
    for (; *s != '\0'; s++) {
        if (!is_digit(*s) && *s != '.') {
            return false;
        }
    }
    return true;
}

/* host_bits_clear reports whether no bit past |prefix_len| is set in the
 * |addr_len|-byte address |addr|. */
static bool
host_bits_clear(const unsigned char *addr, size_t addr_len, unsigned prefix_len)
{
    size_t i;

    for (i = 0; i < addr_len; i++) {
        unsigned first = (unsigned)i * 8;
        unsigned char mask;

        if (first + 8 <= prefix_len) {
            continue;
        }
        mask = first >= prefix_len
                   ? 0xff
                   : (unsigned char)(0xff >> (prefix_len - first));
        if ((addr[i] & mask) != 0) {
            return false;
        }
    }
    return true;
}

/* endpoint_port parses PORT: N, N-M or `*` (every port). */
static bool
endpoint_port(struct parser *p, int line, const char *text, const char *shown,
              struct policy_endpoint *ep)
{
    char q[POLICY_QUOTE_MAX + 4];
    unsigned long lo = 0;
    unsigned long hi = 0;
    const char *dash;
    char *first;
    bool ok;

    if (strcmp(text, "*") == 0) {
        ep->port_lo = 1;
        ep->port_hi = 65535;
        return true;
    }

    dash = strchr(text, '-');
    if (dash == NULL) {
        ok = parse_uint(text, 65535, &lo) && lo > 0;
        hi = lo;
    } else {
        first = dup_range(text, (size_t)(dash - text));
        if (first == NULL) {
            parser_error(p, line, "match: out of memory");
            return false;
        }
        ok = parse_uint(first, 65535, &lo) && lo > 0 &&
             parse_uint(dash + 1, 65535, &hi) && hi > 0;
        free(first);
    }
    if (!ok) {
        parser_error(p, line, "match: bad port '%s' in '%s'", quote(text, q),
                     shown);
        return false;
    }
    if (lo > hi) {
        parser_error(
            p, line,
            "match: bad port range '%s' in '%s': first port above last",
            quote(text, q), shown);
        return false;
    }
    ep->port_lo = (unsigned short)lo;
    ep->port_hi = (unsigned short)hi;
    return true;
}

/* The first 96 bits of an IPv4-mapped IPv6 address (RFC 4291 section
 * 2.5.5.2). */
static const unsigned char v4_mapped_prefix[12] = { 0, 0, 0, 0, 0,    0,
                                                    0, 0, 0, 0, 0xff, 0xff };

/* endpoint_addr parses an address with an optional prefix length:
 * |addr_text| is the address alone, |prefix_text| the digits after '/' or
 * NULL. */
static bool
endpoint_addr(struct parser *p, int line, int family, const char *addr_text,
              const char *prefix_text, const char *shown,
              struct policy_endpoint *ep)
{
    char q[POLICY_QUOTE_MAX + 4];
    unsigned max = family == AF_INET ? 32 : 128;
    unsigned long prefix_len = max;

    if (inet_pton(family, addr_text, ep->addr) != 1) {
        parser_error(p, line, "match: bad %s address '%s' in '%s'",
                     family == AF_INET ? "IPv4" : "IPv6", quote(addr_text, q),
                     shown);
        return false;
    }
    if (prefix_text != NULL && !parse_uint(prefix_text, max, &prefix_len)) {
        parser_error(p, line, "match: bad prefix length '%s' in '%s'",
                     quote(prefix_text, q), shown);
        return false;
    }

    /* 10.0.0.1/8 is most likely a typo for one host or for 10.0.0.0/8;
     * guessing either could expose or wrap the wrong connections. */
    if (!host_bits_clear(ep->addr, family == AF_INET ? 4 : 16,
                         (unsigned)prefix_len)) {
        parser_error(
            p, line,
            "match: address '%s' has bits set past its /%lu prefix in '%s'",
            quote(addr_text, q), prefix_len, shown);
        return false;
    }

    ep->host_kind = POLICY_HOST_ADDR;
    ep->family = family;
    ep->prefix_len = (unsigned)prefix_len;

    /* Connection addresses are normalised to IPv4 before matching, so a
     * rule for ::ffff:a.b.c.d must be written down as IPv4 as well. */
    if (family == AF_INET6 && prefix_len >= 96 &&
        memcmp(ep->addr, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0) {
        memmove(ep->addr, ep->addr + 12, 4);
        memset(ep->addr + 4, 0, 12);
        ep->family = AF_INET;
        ep->prefix_len = (unsigned)prefix_len - 96;
    }
    return true;
}

/* endpoint_bracketed parses "[v6]:PORT", "[v6/N]:PORT" or "[v6]/N:PORT" in
 * the writable copy |item|. */
static bool
endpoint_bracketed(struct parser *p, int line, char *item, const char *shown,
                   struct policy_endpoint *ep)
{
    char *close = strchr(item, ']');
    char *prefix = NULL;
    char *after;
    char *slash;

    if (close == NULL) {
        parser_error(p, line, "match: missing ']' in '%s'", shown);
        return false;
    }
    *close = '\0';
    after = close + 1;

    slash = strchr(item + 1, '/');
    if (slash != NULL) {
        *slash = '\0';
        prefix = slash + 1;
    }
    if (after[0] == '/') {
        char *colon = strchr(after, ':');

        if (prefix != NULL) {
            parser_error(p, line, "match: prefix length given twice in '%s'",
                         shown);
            return false;
        }
        if (colon == NULL) {
            parser_error(p, line,
                         "match: missing port in '%s': write HOST:PORT", shown);
            return false;
        }
        *colon = '\0';
        prefix = after + 1;
        after = colon + 1;
    } else if (after[0] == ':') {
        after++;
    } else {
        parser_error(p, line, "match: missing port in '%s': write HOST:PORT",
                     shown);
        return false;
    }

    return endpoint_addr(p, line, AF_INET6, item + 1, prefix, shown, ep) &&
           endpoint_port(p, line, after, shown, ep);
}

/* endpoint_parse parses one HOST:PORT element of a match list from the
 * writable, trimmed, non-empty |item|. */
static bool
endpoint_parse(struct parser *p, int line, char *item,
               struct policy_endpoint *ep)
{
    char shown[POLICY_QUOTE_MAX + 4];
    char q[POLICY_QUOTE_MAX + 4];
    char *colon;
    char *host;
    char *slash;
    size_t i;

    quote(item, shown);
    memset(ep, 0, sizeof(*ep));

    if (item[0] == '[') {
        return endpoint_bracketed(p, line, item, shown, ep);
    }

    colon = strrchr(item, ':');
    if (colon == NULL) {
        parser_error(p, line, "match: missing port in '%s': write HOST:PORT",
                     shown);
        return false;
    }
    *colon = '\0';
    host = item;
    if (strchr(host, ':') != NULL) {
        parser_error(
            p, line,
            "match: IPv6 address in '%s' must be in brackets, as in [::1]:443",
            shown);
        return false;
    }
    if (host[0] == '\0') {
        parser_error(p, line, "match: missing host in '%s'", shown);
        return false;
    }
    if (!endpoint_port(p, line, colon + 1, shown, ep)) {
        return false;
    }

    if (strcmp(host, "*") == 0) {
        ep->host_kind = POLICY_HOST_ANY;
        return true;
    }

    slash = strchr(host, '/');
    if (slash != NULL) {
        *slash = '\0';
        return endpoint_addr(p, line, AF_INET, host, slash + 1, shown, ep);
    }
    if (only_digits_and_dots(host)) {
        return endpoint_addr(p, line, AF_INET, host, NULL, shown, ep);
    }

    if (!host_name_check(host, true)) {
        parser_error(p, line, "match: bad host name '%s' in '%s'",
                     quote(host, q), shown);
        return false;
    }
    ep->host_kind = POLICY_HOST_NAME;
    ep->name = strdup(host);
    if (ep->name == NULL) {
        parser_error(p, line, "match: out of memory");
        return false;
    }
    for (i = 0; ep->name[i] != '\0'; i++) {
        ep->name[i] = to_lower(ep->name[i]);
    }
    if (i > 0 && ep->name[i - 1] == '.') {
        ep->name[i - 1] = '\0';
    }
    return true;
}

/*
 * Key handlers.
 */

static bool
key_match(struct parser *p, int line, char *value)
{
    struct policy_rule *rule = p->rule;
    char q[POLICY_QUOTE_MAX + 4];
    char *cursor = value;
    bool ok = true;

    /* Items are cut out of |value|: quote the whole list first. */
    quote(value, q);

    while (cursor != NULL) {
        struct policy_endpoint ep;
        struct policy_endpoint *grown;
        char *item = next_item(&cursor);

        if (item[0] == '\0') {
            parser_error(p, line, "match: empty entry in '%s'", q);
            ok = false;
            continue;
        }
        if (!endpoint_parse(p, line, item, &ep)) {
            ok = false;
            continue;
        }
        grown = realloc(rule->match, (rule->match_len + 1) * sizeof(ep));
        if (grown == NULL) {
            free(ep.name);
            parser_error(p, line, "match: out of memory");
            return false;
        }
        rule->match = grown;
        rule->match[rule->match_len++] = ep;
    }
    return ok;
}

static bool
key_connect_port(struct parser *p, int line, char *value)
{
    char q[POLICY_QUOTE_MAX + 4];
    unsigned long port;

    /* The program's accept() has no port to change. */
    if (p->rule->kind != POLICY_CLIENT) {
        parser_error(p, line, "connect_port: only valid in [client] rules");
        return false;
    }
    if (!parse_uint(value, 65535, &port) || port == 0) {
        parser_error(p, line, "connect_port: expected a port 1-65535, got '%s'",
                     quote(value, q));
        return false;
    }
    p->rule->connect_port = (unsigned short)port;
    return true;
}

/* server_name_check accepts a DNS name or an address; an address is
 * verified against the IP addresses a certificate lists. */
static bool
server_name_check(const char *value)
{
    unsigned char buf[16];

    if (only_digits_and_dots(value)) {
        return inet_pton(AF_INET, value, buf) == 1;
    }
    if (strchr(value, ':') != NULL) {
        return inet_pton(AF_INET6, value, buf) == 1;
    }
    return host_name_check(value, false);
}

static bool
key_server_name(struct parser *p, int line, char *value)
{
    char q[POLICY_QUOTE_MAX + 4];
    size_t len = strlen(value);

    if (!server_name_check(value)) {
        parser_error(
            p, line,
            "server_name: bad name '%s': expected a DNS name or an address",
            quote(value, q));
        return false;
    }
    if (len > 1 && value[len - 1] == '.') {
        value[len - 1] = '\0';
    }
    p->rule->server_name = strdup(value);
    if (p->rule->server_name == NULL) {
        parser_error(p, line, "server_name: out of memory");
        return false;
    }
    return true;
}

static bool
key_verify(struct parser *p, int line, char *value)
{
    char q[POLICY_QUOTE_MAX + 4];

    if (strcmp(value, "peer") == 0) {
        p->rule->verify = POLICY_VERIFY_PEER;
    } else if (strcmp(value, "none") == 0) {
        p->rule->verify = POLICY_VERIFY_NONE;
    } else {
        parser_error(p, line, "verify: expected peer or none, got '%s'",
                     quote(value, q));
        return false;
    }
    return true;
}

static bool
key_ca_file(struct parser *p, int line, char *value)
{
    return key_file(p, line, "ca_file", value, &p->rule->ca_file,
                    &p->rule->ca_file_line, false);
}

static bool
key_ca_path(struct parser *p, int line, char *value)
{
    return key_file(p, line, "ca_path", value, &p->rule->ca_path,
                    &p->rule->ca_path_line, true);
}

static bool
key_cert(struct parser *p, int line, char *value)
{
    return key_file(p, line, "cert", value, &p->rule->cert, &p->rule->cert_line,
                    false);
}

static bool
key_key(struct parser *p, int line, char *value)
{
    return key_file(p, line, "key", value, &p->rule->key, &p->rule->key_line,
                    false);
}

static bool
key_client_ca(struct parser *p, int line, char *value)
{
    return key_file(p, line, "client_ca", value, &p->rule->client_ca,
                    &p->rule->client_ca_line, false);
}

static const char base64_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
policy_pin_text(const unsigned char sha256[32], char out[POLICY_PIN_TEXT_LEN])
{
    size_t o = 0;

    /* 32 bytes: ten groups of three, then two bytes and one '='. */
    for (size_t i = 0; i < 32; i += 3) {
        unsigned v = (unsigned)sha256[i] << 16 | (unsigned)sha256[i + 1] << 8;

        v |= i + 2 < 32 ? sha256[i + 2] : 0;
        out[o++] = base64_digits[(v >> 18) & 63];
        out[o++] = base64_digits[(v >> 12) & 63];
        out[o++] = base64_digits[(v >> 6) & 63];
        out[o++] = i + 2 < 32 ? base64_digits[v & 63] : '=';
    }
    out[o] = '\0';
}

/* base64_value returns the value of one base64 digit, or -1. */
static int
base64_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (is_digit(c)) {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

/* pin_decode decodes the standard base64 of 32 bytes: 43 digits and an
 * optional '=', whose two spare bits must be zero (RFC 4648 section 3.5),
 * so that each pin has one spelling. */
static bool
pin_decode(const char *s, unsigned char out[32])
{
    size_t len = strlen(s);
    unsigned acc = 0;
    unsigned bits = 0;
    size_t n = 0;
    size_t i;

    if (len == 44 && s[43] == '=') {
        len = 43;
    }
    if (len != 43) {
        return false;
    }
    for (i = 0; i < len; i++) {
        int v = base64_value(s[i]);

        if (v < 0) {
            return false;
        }
        acc = ((acc << 6) | (unsigned)v) & 0xffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n == 32 && (acc & ((1u << bits) - 1)) == 0;
}

static bool
key_pin_sha256(struct parser *p, int line, char *value)
{
    struct policy_rule *rule = p->rule;
    char q[POLICY_QUOTE_MAX + 4];
    char *cursor = value;
    bool ok = true;

    while (cursor != NULL) {
        struct policy_pin pin;
        struct policy_pin *grown;
        char *item = next_item(&cursor);

        if (!pin_decode(item, pin.sha256)) {
            parser_error(
                p, line,
                "pin_sha256: '%s' is not the base64 of a SHA-256 hash (44 characters ending in '=')",
                quote(item, q));
            ok = false;
            continue;
        }
        grown = realloc(rule->pins, (rule->pins_len + 1) * sizeof(pin));
        if (grown == NULL) {
            parser_error(p, line, "pin_sha256: out of memory");
            return false;
        }
        rule->pins = grown;
        rule->pins[rule->pins_len++] = pin;
    }
    return ok;
}

static bool
key_min_version(struct parser *p, int line, char *value)
{
    char q[POLICY_QUOTE_MAX + 4];

    if (strcmp(value, "1.2") == 0) {
        p->rule->min_version = POLICY_TLS1_2;
    } else if (strcmp(value, "1.3") == 0) {
        p->rule->min_version = POLICY_TLS1_3;
    } else {
        parser_error(p, line, "min_version: expected 1.2 or 1.3, got '%s'",
                     quote(value, q));
        return false;
    }
    return true;
}

static bool
key_alpn(struct parser *p, int line, char *value)
{
    char whole[POLICY_QUOTE_MAX + 4];
    char q[POLICY_QUOTE_MAX + 4];
    unsigned char *wire;
    size_t wire_len = 0;
    char *cursor = value;
    bool ok = true;

    /* Each name costs its length plus one byte, so the wire form is never
     * longer than the text plus its terminator. */
    quote(value, whole);
    wire = malloc(strlen(value) + 1);
    if (wire == NULL) {
        parser_error(p, line, "alpn: out of memory");
        return false;
    }

    while (cursor != NULL) {
        char *name = next_item(&cursor);
        size_t len = strlen(name);

        if (len == 0) {
            parser_error(p, line, "alpn: empty protocol name in '%s'", whole);
            ok = false;
            continue;
        }
        if (len > 255) {
            parser_error(p, line,
                         "alpn: protocol name '%s' is longer than 255 bytes",
                         quote(name, q));
            ok = false;
            continue;
        }
        wire[wire_len++] = (unsigned char)len;
        memcpy(wire + wire_len, name, len);
        wire_len += len;
    }

    /* The list travels in a 16-bit length field (RFC 7301 section 3.1). */
    if (ok && wire_len > 65535) {
        parser_error(p, line, "alpn: protocol list longer than 65535 bytes");
        ok = false;
    }
    if (!ok) {
        free(wire);
        return false;
    }
    p->rule->alpn = wire;
    p->rule->alpn_len = wire_len;
    return true;
}

static bool
key_client_auth(struct parser *p, int line, char *value)
{
    char q[POLICY_QUOTE_MAX + 4];

    if (strcmp(value, "none") == 0) {
        p->rule->client_auth = POLICY_CLIENT_AUTH_NONE;
    } else if (strcmp(value, "optional") == 0) {
        p->rule->client_auth = POLICY_CLIENT_AUTH_OPTIONAL;
    } else if (strcmp(value, "required") == 0) {
        p->rule->client_auth = POLICY_CLIENT_AUTH_REQUIRED;
    } else {
        parser_error(
            p, line,
            "client_auth: expected none, optional or required, got '%s'",
            quote(value, q));
        return false;
    }
    return true;
}

static bool
key_tls_role(struct parser *p, int line, char *value)
{
    char q[POLICY_QUOTE_MAX + 4];

    if (strcmp(value, "client") == 0) {
        p->rule->tls_client = true;
    } else if (strcmp(value, "server") == 0) {
        p->rule->tls_client = false;
    } else {
        parser_error(p, line, "tls_role: expected client or server, got '%s'",
                     quote(value, q));
        return false;
    }
    return true;
}

static bool
key_handshake_timeout(struct parser *p, int line, char *value)
{
    char q[POLICY_QUOTE_MAX + 4];
    unsigned long seconds;

    if (!parse_uint(value, POLICY_HANDSHAKE_TIMEOUT_MAX, &seconds) ||
        seconds == 0) {
        parser_error(p, line,
                     "handshake_timeout: expected whole seconds 1-%d, got '%s'",
                     POLICY_HANDSHAKE_TIMEOUT_MAX, quote(value, q));
        return false;
    }
    p->rule->handshake_timeout_ms = (unsigned)seconds * 1000;
    return true;
}

static bool
key_resumption(struct parser *p, int line, char *value)
{
    char q[POLICY_QUOTE_MAX + 4];

    if (strcmp(value, "on") == 0) {
        p->rule->resumption = true;
    } else if (strcmp(value, "off") == 0) {
        p->rule->resumption = false;
    } else {
        parser_error(p, line, "resumption: expected on or off, got '%s'",
                     quote(value, q));
        return false;
    }
    return true;
}

static const struct policy_key_info policy_keys[KEY_COUNT] = {
    [KEY_MATCH] = { "match", key_match, false },
    [KEY_CONNECT_PORT] = { "connect_port", key_connect_port, false },
    [KEY_SERVER_NAME] = { "server_name", key_server_name, false },
    [KEY_VERIFY] = { "verify", key_verify, false },
    [KEY_CA_FILE] = { "ca_file", key_ca_file, false },
    [KEY_CA_PATH] = { "ca_path", key_ca_path, false },
    [KEY_CERT] = { "cert", key_cert, false },
    [KEY_KEY] = { "key", key_key, false },
    [KEY_PIN_SHA256] = { "pin_sha256", key_pin_sha256, true },
    [KEY_MIN_VERSION] = { "min_version", key_min_version, false },
    [KEY_ALPN] = { "alpn", key_alpn, false },
    [KEY_CLIENT_CA] = { "client_ca", key_client_ca, false },
    [KEY_CLIENT_AUTH] = { "client_auth", key_client_auth, false },
    [KEY_TLS_ROLE] = { "tls_role", key_tls_role, false },
    [KEY_HANDSHAKE_TIMEOUT] = { "handshake_timeout", key_handshake_timeout,
                                false },
    [KEY_RESUMPTION] = { "resumption", key_resumption, false },
};

/*
 * Sections.
 */

/* rule_finish checks the keys of the current rule against each other. */
static void
rule_finish(struct parser *p)
{
    static const enum policy_key tls_client_only[] = {
        KEY_SERVER_NAME, KEY_VERIFY, KEY_CA_FILE, KEY_CA_PATH, KEY_PIN_SHA256
    };
    static const enum policy_key tls_server_only[] = { KEY_CLIENT_CA,
                                                       KEY_CLIENT_AUTH };
    struct policy_rule *rule = p->rule;
    const int *at = p->key_line;
    size_t i;

    if (rule == NULL) {
        return;
    }
    p->rule = NULL;

    if (at[KEY_MATCH] == 0) {
        parser_error(p, rule->line,
                     "match: missing; every rule needs a HOST:PORT list");
    }

    /* A key the rule's TLS side never uses would be silently ignored: the
     * administrator meant something this rule will not do. */
    for (i = 0; i < sizeof(tls_client_only) / sizeof(tls_client_only[0]); i++) {
        enum policy_key k = tls_client_only[i];

        if (!rule->tls_client && at[k] != 0) {
            parser_error(p, at[k],
                         "%s: not valid in a rule that plays the TLS server",
                         policy_keys[k].name);
        }
    }
    for (i = 0; i < sizeof(tls_server_only) / sizeof(tls_server_only[0]); i++) {
        enum policy_key k = tls_server_only[i];

        if (rule->tls_client && at[k] != 0) {
            parser_error(p, at[k],
                         "%s: not valid in a rule that plays the TLS client",
                         policy_keys[k].name);
        }
    }

    if (at[KEY_CERT] != 0 && at[KEY_KEY] == 0) {
        parser_error(p, at[KEY_CERT], "cert: given without key");
    }
    if (at[KEY_KEY] != 0 && at[KEY_CERT] == 0) {
        parser_error(p, at[KEY_KEY], "key: given without cert");
    }
    if (!rule->tls_client && at[KEY_CERT] == 0 && at[KEY_KEY] == 0) {
        parser_error(p, rule->line,
                     "cert, key: required in a rule that plays the TLS server");
    }

    if (!rule->tls_client) {
        const char *auth = rule->client_auth == POLICY_CLIENT_AUTH_OPTIONAL
                               ? "optional"
                               : "required";

        if (p->key_ok[KEY_CLIENT_AUTH] &&
            rule->client_auth != POLICY_CLIENT_AUTH_NONE &&
            at[KEY_CLIENT_CA] == 0) {
            parser_error(
                p, at[KEY_CLIENT_AUTH],
                "client_auth: %s needs client_ca, the CA that signs client certificates",
                auth);
        }
        if (at[KEY_CLIENT_CA] != 0 && p->key_ok[KEY_CLIENT_AUTH] &&
            rule->client_auth == POLICY_CLIENT_AUTH_NONE) {
            parser_error(p, at[KEY_CLIENT_CA],
                         "client_ca: not used with client_auth = none");
        }
        if (at[KEY_CLIENT_CA] != 0 && at[KEY_CLIENT_AUTH] == 0) {
            rule->client_auth = POLICY_CLIENT_AUTH_REQUIRED;
        }
    }

    /* A client that verifies needs trust anchors: the system bundle unless
     * the rule names its own. */
    if (rule->tls_client && rule->verify == POLICY_VERIFY_PEER &&
        at[KEY_CA_FILE] == 0 && at[KEY_CA_PATH] == 0) {
        if (!file_check(POLICY_DEFAULT_CA_FILE)) {
            parser_error(
                p, rule->line,
                "ca_file: cannot read the default %s: %s (install ca-certificates, or set ca_file or ca_path)",
                POLICY_DEFAULT_CA_FILE, strerror(errno));
        } else {
            rule->ca_file = strdup(POLICY_DEFAULT_CA_FILE);
            if (rule->ca_file == NULL) {
                parser_error(p, rule->line, "ca_file: out of memory");
            }
        }
    }
}

/* label_check reports whether a section label uses only the characters a
 * log line can show without quoting. */
static bool
label_check(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') {
            return false;
        }
    }
    return true;
}

/* section_begin parses a header "[kind LABEL]" (|s| trimmed, comment
 * removed, starting with '[') and starts its rule. */
static void
section_begin(struct parser *p, int line, const char *s, size_t len)
{
    struct policy *policy = p->policy;
    struct policy_rule *rule;
    struct policy_rule *grown;
    char q[POLICY_QUOTE_MAX + 4];
    const char *close = memchr(s, ']', len);
    const char *inner;
    const char *label;
    size_t inner_len;
    size_t kind_len;
    size_t label_len;
    enum policy_kind kind;
    char *text;

    rule_finish(p);
    p->skipping = true;
    memset(p->key_line, 0, sizeof(p->key_line));
    memset(p->key_ok, 0, sizeof(p->key_ok));

    if (close == NULL) {
        parser_error(p, line, "section header has no closing ']'");
        return;
    }
    if (close != s + len - 1) {
        parser_error(p, line, "unexpected text after ']' in section header");
        return;
    }

    inner = s + 1;
    inner_len = len - 2;
    trim(&inner, &inner_len);
    kind_len = 0;
    while (kind_len < inner_len && !is_space(inner[kind_len])) {
        kind_len++;
    }
    label = inner + kind_len;
    label_len = inner_len - kind_len;
    trim(&label, &label_len);

    if (kind_len == 6 && memcmp(inner, "client", 6) == 0) {
        kind = POLICY_CLIENT;
    } else if (kind_len == 6 && memcmp(inner, "server", 6) == 0) {
        kind = POLICY_SERVER;
    } else {
        text = dup_range(inner, kind_len);
        parser_error(
            p, line,
            "unknown section '[%s]': expected [client LABEL] or [server LABEL]",
            text != NULL ? quote(text, q) : "");
        free(text);
        return;
    }
    if (!label_check(label, label_len)) {
        text = dup_range(label, label_len);
        parser_error(p, line,
                     "bad label '%s': use letters, digits, '-', '_' and '.'",
                     text != NULL ? quote(text, q) : "");
        free(text);
        return;
    }

    if (policy->rules_len >= SIZE_MAX / sizeof(*rule) - 1) {
        parser_error(p, line, "too many rules");
        return;
    }
    grown = realloc(policy->rules, (policy->rules_len + 1) * sizeof(*rule));
    if (grown == NULL) {
        parser_error(p, line, "out of memory");
        return;
    }
    policy->rules = grown;
    rule = &policy->rules[policy->rules_len];
    memset(rule, 0, sizeof(*rule));
    rule->label = dup_range(label, label_len);
    if (rule->label == NULL) {
        parser_error(p, line, "out of memory");
        return;
    }
    policy->rules_len++;

    rule->kind = kind;
    rule->file = policy->path;
    rule->line = line;
    rule->verify = POLICY_VERIFY_PEER;
    rule->client_auth = POLICY_CLIENT_AUTH_NONE;
    rule->min_version = POLICY_TLS1_2;
    rule->tls_client = kind == POLICY_CLIENT;
    rule->handshake_timeout_ms = POLICY_DEFAULT_HANDSHAKE_TIMEOUT_MS;
    rule->resumption = true;
    p->rule = rule;
    p->skipping = false;
}

/* key_value parses "key = value" (|s| trimmed, comment removed). */
static void
key_value(struct parser *p, int line, const char *s, size_t len)
{
    char q[POLICY_QUOTE_MAX + 4];
    const char *eq = memchr(s, '=', len);
    const char *key;
    const char *value;
    size_t key_len;
    size_t value_len;
    char *key_text;
    char *value_text;
    int k;

    if (eq == NULL) {
        char *text = dup_range(s, len);

        parser_error(p, line, "expected 'key = value', got '%s'",
                     text != NULL ? quote(text, q) : "");
        free(text);
        return;
    }
    key = s;
    key_len = (size_t)(eq - s);
    trim(&key, &key_len);
    value = eq + 1;
    value_len = (size_t)(s + len - value);
    trim(&value, &value_len);
    if (key_len == 0) {
        parser_error(p, line, "missing key before '='");
        return;
    }
    if (p->skipping) {
        return;
    }

    key_text = dup_range(key, key_len);
    if (key_text == NULL) {
        parser_error(p, line, "out of memory");
        return;
    }
    for (k = 0; k < KEY_COUNT; k++) {
        if (strcmp(key_text, policy_keys[k].name) == 0) {
            break;
        }
    }
    if (k == KEY_COUNT) {
        parser_error(p, line, "unknown key '%s'", quote(key_text, q));
        free(key_text);
        return;
    }
    free(key_text);

    if (p->rule == NULL) {
        parser_error(
            p, line,
            "%s: outside a rule; start one with [client LABEL] or [server LABEL]",
            policy_keys[k].name);
        return;
    }
    if (p->key_line[k] != 0 && !policy_keys[k].repeatable) {
        parser_error(p, line, "%s: given twice (first on line %d)",
                     policy_keys[k].name, p->key_line[k]);
        return;
    }
    if (p->key_line[k] == 0) {
        p->key_line[k] = line;
        p->key_ok[k] = true;
    }
    if (value_len == 0) {
        parser_error(p, line, "%s: missing value", policy_keys[k].name);
        p->key_ok[k] = false;
        return;
    }

    value_text = dup_range(value, value_len);
    if (value_text == NULL) {
        parser_error(p, line, "%s: out of memory", policy_keys[k].name);
        return;
    }
    if (!policy_keys[k].fn(p, line, value_text)) {
        p->key_ok[k] = false;
    }
    free(value_text);
}

/* parse_line handles one line, without its '\n'. */
static void
parse_line(struct parser *p, int line, const char *s, size_t len)
{
    const char *hash;
    size_t i;

    if (len > 0 && s[len - 1] == '\r') {
        len--;
    }

    /* A NUL would silently cut a value short, and other control bytes are
     * invisible in an editor: refuse both rather than guess. */
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            parser_error(p, line, "control character 0x%02x in line", c);
            return;
        }
    }

    hash = memchr(s, '#', len);
    if (hash != NULL) {
        len = (size_t)(hash - s);
    }
    trim(&s, &len);
    if (len == 0) {
        return;
    }
    if (s[0] == '[') {
        section_begin(p, line, s, len);
    } else {
        key_value(p, line, s, len);
    }
}

int
policy_parse(const char *path, const char *text, size_t len,
             struct policy **out_policy, char *err, size_t err_len)
{
    struct parser p;
    size_t pos = 0;
    int line = 0;

    memset(&p, 0, sizeof(p));
    p.shown = (path != NULL && path[0] != '\0') ? path : "(policy)";
    p.err = err;
    p.err_len = err_len;
    if (err != NULL && err_len > 0) {
        err[0] = '\0';
    }
    if (out_policy != NULL) {
        *out_policy = NULL;
    }
    if (text == NULL && len > 0) {
        parser_error(&p, 0, "no text to parse");
        return -1;
    }

    p.policy = calloc(1, sizeof(*p.policy));
    if (p.policy != NULL) {
        p.policy->path = path_absolute(path != NULL ? path : "");
    }
    if (p.policy == NULL || p.policy->path == NULL) {
        parser_error(&p, 0, "cannot make the path absolute: %s",
                     strerror(errno));
        policy_free(p.policy);
        return -1;
    }
    p.base_dir = path_dir(p.policy->path);
    if (p.base_dir == NULL) {
        parser_error(&p, 0, "out of memory");
        policy_free(p.policy);
        return -1;
    }

    /* Editors on some systems start UTF-8 files with a byte order mark. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        pos = 3;
    }
    while (pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t line_len = nl != NULL ? (size_t)(nl - start) : len - pos;

        pos += line_len + (nl != NULL ? 1 : 0);
        if (line == INT_MAX) {
            parser_error(&p, line, "too many lines");
            break;
        }
        parse_line(&p, ++line, start, line_len);
    }
    rule_finish(&p);
    free(p.base_dir);

    if (p.errors > 0 || out_policy == NULL) {
        policy_free(p.policy);
        return p.errors > 0 ? -1 : 0;
    }
    *out_policy = p.policy;
    return 0;
}

int
policy_load(const char *path, struct policy **out_policy, char *err,
            size_t err_len)
{
    struct parser p;
    char *text = NULL;
    size_t len = 0;
    size_t cap = 0;
    FILE *f;
    int rc;

    memset(&p, 0, sizeof(p));
    p.shown = (path != NULL && path[0] != '\0') ? path : "(none)";
    p.err = err;
    p.err_len = err_len;
    if (err != NULL && err_len > 0) {
        err[0] = '\0';
    }
    if (out_policy != NULL) {
        *out_policy = NULL;
    }
    if (path == NULL || path[0] == '\0') {
        parser_error(&p, 0, "no policy file given");
        return -1;
    }

    /* stdio rather than open/read: the shim interposes read(), and this
     * runs while the shim starts. */
    f = fopen(path, "re");
    if (f == NULL) {
        parser_error(&p, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    for (;;) {
        size_t n;

        if (len == cap) {
            char *grown;

            if (cap >= POLICY_FILE_MAX) {
                parser_error(&p, 0, "larger than %d bytes; not a policy file?",
                             POLICY_FILE_MAX);
                goto out_free_text;
            }
            cap = cap == 0 ? 4096 : cap * 2;
            grown = realloc(text, cap + 1);
            if (grown == NULL) {
                parser_error(&p, 0, "out of memory");
                goto out_free_text;
            }
            text = grown;
        }
        n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            break;
        }
    }
    if (ferror(f)) {
        parser_error(&p, 0, "cannot read: %s", strerror(errno));
        goto out_free_text;
    }
    fclose(f);

    rc = policy_parse(path, text, len, out_policy, err, err_len);
    free(text);
    return rc;

out_free_text:
    free(text);
    fclose(f);
    return -1;
}

/*
 * Matching.
 */

/* prefix_equal reports whether the first |bits| bits of |a| and |b| are
 * equal. */
static bool
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned full = bits / 8;
    unsigned rest = bits % 8;
    unsigned char mask;

    if (memcmp(a, b, full) != 0) {
        return false;
    }
    if (rest == 0) {
        return true;
    }
    mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

/* name_equal compares the rule name |want| (lower case, no trailing dot)
 * with |len| bytes of the resolved name |have|, ignoring case. */
static bool
name_equal(const char *want, const char *have, size_t len)
{
    return strlen(want) == len && strncasecmp(want, have, len) == 0;
}

/* name_matches applies a rule name to a resolved name.  "*.example.com"
 * matches exactly one label more, like a wildcard certificate. */
static bool
name_matches(const char *want, const char *have)
{
    size_t len = strlen(have);
    const char *dot;

    if (len > 0 && have[len - 1] == '.') {
        len--;
    }
    if (want[0] != '*') {
        return name_equal(want, have, len);
    }
    dot = memchr(have, '.', len);
    if (dot == NULL || dot == have) {
        return false;
    }
    return name_equal(want + 1, dot, len - (size_t)(dot - have));
}

static bool
endpoint_matches(const struct policy_endpoint *ep, int family,
                 const unsigned char *addr, unsigned short port,
                 const char *name)
{
    if (port < ep->port_lo || port > ep->port_hi) {
        return false;
    }
    switch (ep->host_kind) {
    case POLICY_HOST_ANY:
        return true;
    case POLICY_HOST_ADDR:
        return ep->family == family &&
               prefix_equal(ep->addr, addr, ep->prefix_len);
    case POLICY_HOST_NAME:
        return name != NULL && name_matches(ep->name, name);
    }
    return false;
}

const struct policy_rule *
policy_match(const struct policy *policy, enum policy_kind kind,
             const struct sockaddr *sa, socklen_t sa_len, const char *name)
{
    struct sockaddr_storage ss;
    const unsigned char *addr;
    unsigned short port;
    size_t i;
    size_t j;

    if (policy == NULL || !addr_normalize(sa, sa_len, &ss)) {
        return NULL;
    }
    port = addr_port((const struct sockaddr *)&ss);
    if (ss.ss_family == AF_INET) {
        addr = (const unsigned char *)&((struct sockaddr_in *)&ss)->sin_addr;
    } else {
        addr = ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
    }

    for (i = 0; i < policy->rules_len; i++) {
        const struct policy_rule *rule = &policy->rules[i];

        if (rule->kind != kind) {
            continue;
        }
        for (j = 0; j < rule->match_len; j++) {
            if (endpoint_matches(&rule->match[j], ss.ss_family, addr, port,
                                 name)) {
                return rule;
            }
        }
    }
    return NULL;
}
