/*
 * policy.h - the policy file: parsing and matching an address to a rule.
 *
 * A policy is a list of rules, one per INI section, tried top to bottom.
 * `[client LABEL]` rules apply to connections the program opens with
 * connect(); `[server LABEL]` rules apply to connections it accepts.  The
 * language is documented in policy/reference.conf and README.md.
 *
 * This module does not depend on BoringSSL: it checks that every file a rule
 * names is readable, but whether a key matches its certificate is checked by
 * tlsctx.h when the rule's TLS context is built.
 */
#ifndef TLSSHIM_POLICY_H
#define TLSSHIM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* POLICY_DEFAULT_CA_FILE is the CA bundle used when a rule names none. */
#define POLICY_DEFAULT_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

/* POLICY_DEFAULT_HANDSHAKE_TIMEOUT_MS is the default handshake_timeout. */
#define POLICY_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000

/* POLICY_TLS1_2 and POLICY_TLS1_3 are the protocol numbers min_version
 * maps to (the values BoringSSL uses). */
#define POLICY_TLS1_2 0x0303
#define POLICY_TLS1_3 0x0304

enum policy_kind {
    POLICY_CLIENT, /* [client]: connections the program opens */
    POLICY_SERVER, /* [server]: connections the program accepts */
};

enum policy_verify {
    POLICY_VERIFY_PEER, /* chain and name (default) */
    POLICY_VERIFY_NONE, /* no verification; logged as a warning */
};

enum policy_client_auth {
    POLICY_CLIENT_AUTH_NONE,     /* do not ask for a client certificate */
    POLICY_CLIENT_AUTH_OPTIONAL, /* ask; verify one if sent */
    POLICY_CLIENT_AUTH_REQUIRED, /* ask; fail the handshake without one */
};

enum policy_host_kind {
    POLICY_HOST_ANY,  /* `*` */
    POLICY_HOST_ADDR, /* an IP address or a CIDR block */
    POLICY_HOST_NAME, /* a DNS name, compared with the resolved name */
};

/* One HOST:PORT element of a `match` list. */
struct policy_endpoint {
    enum policy_host_kind host_kind; /* which of the host fields is used */
    int family;                      /* POLICY_HOST_ADDR: AF_INET or AF_INET6 */
    unsigned char addr[16];          /* POLICY_HOST_ADDR: network order */
    unsigned prefix_len;             /* POLICY_HOST_ADDR: 32/128 for one host */
    char *name;                      /* POLICY_HOST_NAME: lower case; a leading
                                      * "*." matches exactly one more label */
    unsigned short port_lo;          /* first port of the range */
    unsigned short port_hi;          /* last port (== port_lo for one port) */
};

/* One SPKI pin: the SHA-256 of a certificate's SubjectPublicKeyInfo. */
struct policy_pin {
    unsigned char sha256[32];
};

/* The pin_sha256 spelling of a pin: 44 base64 characters and a NUL. */
#define POLICY_PIN_TEXT_LEN 45

/* One rule.  Every string is owned by the rule and freed by policy_free.
 * The *_line fields give the line of the key, for error messages about the
 * file it names; they are 0 when the key was not given. */
struct policy_rule {
    char *label;           /* the word after client/server; may be "" */
    enum policy_kind kind; /* the TCP role the rule applies to */
    const char *file;      /* the policy file (owned by the policy) */
    int line;              /* line of the [section] header */

    struct policy_endpoint *match; /* the `match` list, never empty */
    size_t match_len;              /* number of entries in |match| */

    unsigned short connect_port; /* client rules: port to use instead; 0 */
    char *server_name;           /* SNI and name to verify; NULL: default */
    enum policy_verify verify;   /* how the TLS peer is verified */
    char *ca_file;               /* absolute; the default bundle if unset */
    int ca_file_line;
    char *ca_path; /* absolute directory, or NULL */
    int ca_path_line;
    char *cert; /* absolute certificate chain, or NULL */
    int cert_line;
    char *key; /* absolute private key, or NULL */
    int key_line;
    char *client_ca; /* absolute CA file for client certs */
    int client_ca_line;
    enum policy_client_auth client_auth; /* default: NONE, or REQUIRED
                                          * when client_ca is set */
    struct policy_pin *pins;             /* pin_sha256 values, or NULL */
    size_t pins_len;                     /* number of entries in |pins| */
    int min_version;               /* POLICY_TLS1_2 (default) or _TLS1_3 */
    unsigned char *alpn;           /* ALPN list in wire format, or NULL */
    size_t alpn_len;               /* length of |alpn| in bytes */
    bool tls_client;               /* true if this end plays the TLS client:
                                    * the TCP role unless tls_role says so */
    unsigned handshake_timeout_ms; /* handshake_timeout, in milliseconds */
    bool resumption; /* resumption: TLS sessions resumed (default true) */
};

/* A parsed policy file. */
struct policy {
    char *path;                /* absolute path of the file */
    struct policy_rule *rules; /* rules in file order */
    size_t rules_len;          /* number of rules */
};

/* policy_load reads and parses the policy file at |path|.  On success it
 * returns 0 and sets |*out_policy| to a policy the caller frees with
 * policy_free.  On failure it returns -1, sets |*out_policy| to NULL and
 * writes one or more lines "FILE:LINE: message" (the message names the key
 * at fault) separated by '\n' into |err|, truncated to |err_len|.
 * Relative paths in the file are resolved against the file's directory, and
 * every file a rule names must be readable. */
int policy_load(const char *path, struct policy **out_policy, char *err,
                size_t err_len);

/* policy_parse is policy_load on text already in memory: |text| of |len|
 * bytes (not necessarily NUL-terminated), reported as coming from |path|,
 * which is also the base for relative paths.  Used by tests and fuzzers. */
int policy_parse(const char *path, const char *text, size_t len,
                 struct policy **out_policy, char *err, size_t err_len);

/* policy_free frees |policy| and everything it owns.  NULL is allowed. */
void policy_free(struct policy *policy);

/* policy_match returns the first rule of kind |kind| whose match list fits
 * the address |sa| (AF_INET or AF_INET6; an IPv4-mapped IPv6 address is
 * treated as IPv4) with its port, or NULL.  |name| is the DNS name the
 * program resolved for the address, or NULL; rules with DNS names can only
 * match when it is given.  The comparison of names ignores case. */
const struct policy_rule *policy_match(const struct policy *policy,
                                       enum policy_kind kind,
                                       const struct sockaddr *sa,
                                       socklen_t sa_len, const char *name);

/* policy_kind_name returns "client" or "server". */
const char *policy_kind_name(enum policy_kind kind);

/* policy_pin_text writes |sha256| as pin_sha256 takes it (standard base64,
 * ending in '='), for messages that tell the administrator a pin. */
void policy_pin_text(const unsigned char sha256[32],
                     char out[POLICY_PIN_TEXT_LEN]);

#endif /* TLSSHIM_POLICY_H */
