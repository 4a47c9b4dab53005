/*
 * tlsctx.c - build the BoringSSL context of one policy rule.
 *
 * Everything a rule names on disk is read here, at start-up: the program
 * may chroot() or drop privileges before its first connection.  The same
 * code serves `tlsshim --check`, so a policy that checks clean is one the
 * library will accept.
 */
#include "tlsshim/tlsctx.h"

#include "tlsshim/sesscache.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* TLS 1.2 suites: forward secrecy and AEAD only.  TLS 1.3 suites are all
 * AEAD with forward secrecy and BoringSSL does not make them configurable. */
static const char tlsctx_tls12_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/* tlsctx_fail formats "FILE:LINE: KEY: what PATH: reason" from the
 * BoringSSL error queue. */
static int
tlsctx_fail(const struct policy_rule *rule, int line, const char *key,
            const char *what, const char *path, char *err, size_t err_len)
{
    char reason[256];

    boring_last_error(reason, sizeof(reason), "unknown error");
    snprintf(err, err_len, "%s:%d: %s: %s %s: %s", rule->file,
             line > 0 ? line : rule->line, key, what, path, reason);
    return -1;
}

/* tlsctx_new_session keeps a session the server gave us for the next
 * connection to the same destination; the key was attached to the
 * connection as its app data when it started. */
static int
tlsctx_new_session(SSL *ssl, SSL_SESSION *session)
{
    const char *key = bssl.SSL_get_ex_data(ssl, 0);

    if (key == NULL || *key == '\0') {
        return 0;
    }
    sesscache_put(key, session);
    return 1; /* the cache owns the reference now */
}

/* tlsctx_enable_resumption turns session resumption on (unless the rule
 * says resumption = off): a TLS client keeps
 * sessions per destination; a TLS server issues tickets under keys made
 * here, at start-up, so that every process a forking server makes accepts
 * the tickets of the others. */
static int
tlsctx_enable_resumption(SSL_CTX *ctx, const struct policy_rule *rule)
{
    uint8_t keys[48];
    int ok;

    if (!rule->resumption) {
        bssl.SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        bssl.SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        return 0;
    }
    if (rule->tls_client) {
        bssl.SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
        bssl.SSL_CTX_sess_set_new_cb(ctx, tlsctx_new_session);
        return 0;
    }
    bssl.SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    if (!bssl.RAND_bytes(keys, sizeof(keys))) {
        return -1;
    }
    ok = bssl.SSL_CTX_set_tlsext_ticket_keys(ctx, keys, sizeof(keys));
    memset(keys, 0, sizeof(keys));
    return ok ? 0 : -1;
}

/* tlsctx_alpn_select lets a TLS server pick the first protocol of the
 * client's list that the rule also names.  No overlap means no ALPN rather
 * than a failed handshake, as most servers do. */
static int
tlsctx_alpn_select(SSL *ssl, const uint8_t **out, uint8_t *out_len,
                   const uint8_t *in, unsigned in_len, void *arg)
{
    const struct policy_rule *rule = arg;
    uint8_t *selected;
    uint8_t selected_len;

    (void)ssl;
    if (bssl.SSL_select_next_proto(&selected, &selected_len, rule->alpn,
                                   (unsigned)rule->alpn_len, in,
                                   in_len) != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;
    }
    *out = selected;
    *out_len = selected_len;
    return SSL_TLSEXT_ERR_OK;
}

/* tlsctx_wrong_order explains a certificate or key that would not load
 * when the cause is a chain file in the wrong order: the key matches a
 * later certificate of the file, not the first, which must be the leaf.
 * Returns -1 with the message in |err| if so, else 0. */
static int
tlsctx_wrong_order(const struct policy_rule *rule, char *err, size_t err_len)
{
    BIO *bio = bssl.BIO_new_file(rule->key, "r");
    EVP_PKEY *key = bio != NULL
                        ? bssl.PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                        : NULL;
    int found = 0;

    if (bio != NULL) {
        bssl.BIO_free(bio);
    }
    bio = key != NULL ? bssl.BIO_new_file(rule->cert, "r") : NULL;
    for (int i = 0; bio != NULL && found == 0; i++) {
        X509 *cert = bssl.PEM_read_bio_X509(bio, NULL, NULL, NULL);

        if (cert == NULL) {
            break;
        }
        if (i > 0 && bssl.X509_check_private_key(cert, key)) {
            found = i + 1;
        }
        bssl.X509_free(cert);
    }
    if (bio != NULL) {
        bssl.BIO_free(bio);
    }
    if (key != NULL) {
        bssl.EVP_PKEY_free(key);
    }
    bssl.ERR_clear_error();
    if (found == 0) {
        return 0;
    }
    snprintf(
        err, err_len,
        "%s:%d: cert: the chain in %s is in the wrong order: the key matches certificate %d, but the server's own certificate must come first",
        rule->file, rule->cert_line, rule->cert, found);
    return -1;
}

static int
tlsctx_set_credentials(SSL_CTX *ctx, const struct policy_rule *rule, char *err,
                       size_t err_len)
{
    if (rule->cert == NULL) {
        return 0;
    }
    if (!bssl.SSL_CTX_use_certificate_chain_file(ctx, rule->cert)) {
        /* The reason comes first: tlsctx_wrong_order() clears the error
         * queue, and replaces the message only if it finds the cause. */
        (void)tlsctx_fail(rule, rule->cert_line, "cert",
                          "cannot load certificate chain", rule->cert, err,
                          err_len);
        if (rule->key != NULL) {
            (void)tlsctx_wrong_order(rule, err, err_len);
        }
        return -1;
    }
    /* BoringSSL refuses a key that does not fit the certificate already
     * loaded, so a mismatch shows up here rather than in
     * SSL_CTX_check_private_key(). */
    if (!bssl.SSL_CTX_use_PrivateKey_file(ctx, rule->key, SSL_FILETYPE_PEM) ||
        !bssl.SSL_CTX_check_private_key(ctx)) {
        uint32_t code = bssl.ERR_peek_last_error();

        if (ERR_GET_LIB(code) == ERR_LIB_X509 &&
            ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) {
            bssl.ERR_clear_error();
            snprintf(err, err_len,
                     "%s:%d: key: %s does not match the certificate in %s",
                     rule->file, rule->key_line, rule->key, rule->cert);
            (void)tlsctx_wrong_order(rule, err, err_len);
            return -1;
        }
        (void)tlsctx_fail(rule, rule->key_line, "key",
                          "cannot load private key", rule->key, err, err_len);
        (void)tlsctx_wrong_order(rule, err, err_len);
        return -1;
    }
    return 0;
}

/* tlsctx_set_peer_checks configures how this end checks the certificate of
 * its TLS peer: the server's when it plays the client, the client's
 * (if asked for) when it plays the server. */
static int
tlsctx_set_peer_checks(SSL_CTX *ctx, const struct policy_rule *rule, char *err,
                       size_t err_len)
{
    if (!rule->tls_client) {
        STACK_OF(X509_NAME) * names;
        int mode = SSL_VERIFY_PEER;

        if (rule->client_auth == POLICY_CLIENT_AUTH_NONE) {
            return 0;
        }
        if (!bssl.SSL_CTX_load_verify_locations(ctx, rule->client_ca, NULL)) {
            return tlsctx_fail(rule, rule->client_ca_line, "client_ca",
                               "cannot load CA certificates from",
                               rule->client_ca, err, err_len);
        }
        names = bssl.SSL_load_client_CA_file(rule->client_ca);
        if (names == NULL) {
            return tlsctx_fail(rule, rule->client_ca_line, "client_ca",
                               "no CA names in", rule->client_ca, err, err_len);
        }
        bssl.SSL_CTX_set_client_CA_list(ctx, names);
        if (rule->client_auth == POLICY_CLIENT_AUTH_REQUIRED) {
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        }
        bssl.SSL_CTX_set_verify(ctx, mode, NULL);
        return 0;
    }

    if (rule->verify == POLICY_VERIFY_NONE) {
        bssl.SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return 0;
    }
    if (rule->ca_file != NULL &&
        !bssl.SSL_CTX_load_verify_locations(ctx, rule->ca_file, NULL)) {
        return tlsctx_fail(rule, rule->ca_file_line, "ca_file",
                           "cannot load CA certificates from", rule->ca_file,
                           err, err_len);
    }
    if (rule->ca_path != NULL &&
        !bssl.SSL_CTX_load_verify_locations(ctx, NULL, rule->ca_path)) {
        return tlsctx_fail(rule, rule->ca_path_line, "ca_path",
                           "cannot use CA directory", rule->ca_path, err,
                           err_len);
    }
    bssl.SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return 0;
}

int
tlsctx_new(const struct policy_rule *rule, SSL_CTX **out_ctx, char *err,
           size_t err_len)
{
    SSL_CTX *ctx;

    *out_ctx = NULL;
    bssl.ERR_clear_error();
    ctx = bssl.SSL_CTX_new(bssl.TLS_method());
    if (ctx == NULL) {
        snprintf(err, err_len, "%s:%d: out of memory for a TLS context",
                 rule->file, rule->line);
        return -1;
    }

    /* The floor is TLS 1.2 whatever the rule says; the parser only lets
     * 1.2 or 1.3 through. */
    bssl.SSL_CTX_set_min_proto_version(ctx, rule->min_version > TLS1_2_VERSION
                                                ? (uint16_t)rule->min_version
                                                : TLS1_2_VERSION);
    bssl.SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    if (!bssl.SSL_CTX_set_strict_cipher_list(ctx, tlsctx_tls12_ciphers)) {
        snprintf(err, err_len, "%s:%d: cipher list rejected by BoringSSL",
                 rule->file, rule->line);
        goto out_free_ctx;
    }

    /* Partial writes let a non-blocking program see a short count instead
     * of EAGAIN after part of its buffer is sealed; moving buffers let it
     * retry from another address, as plain send() allows. */
    bssl.SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                   SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (tlsctx_enable_resumption(ctx, rule) != 0) {
        snprintf(err, err_len, "%s:%d: cannot set up session resumption",
                 rule->file, rule->line);
        goto out_free_ctx;
    }

    if (tlsctx_set_credentials(ctx, rule, err, err_len) != 0 ||
        tlsctx_set_peer_checks(ctx, rule, err, err_len) != 0) {
        goto out_free_ctx;
    }

    if (rule->alpn != NULL) {
        if (rule->tls_client) {
            /* SSL_CTX_set_alpn_protos returns 0 on success. */
            if (bssl.SSL_CTX_set_alpn_protos(ctx, rule->alpn, rule->alpn_len) !=
                0) {
                snprintf(err, err_len, "%s:%d: alpn: rejected by BoringSSL",
                         rule->file, rule->line);
                goto out_free_ctx;
            }
        } else {
            bssl.SSL_CTX_set_alpn_select_cb(ctx, tlsctx_alpn_select,
                                            (void *)rule);
        }
    }

    *out_ctx = ctx;
    return 0;

out_free_ctx:
    bssl.SSL_CTX_free(ctx);
    return -1;
}

int
tlsctx_key_warning(const struct policy_rule *rule, char *out, size_t out_len)
{
    struct stat st;

    if (rule->key == NULL || stat(rule->key, &st) != 0 ||
        (st.st_mode & (S_IRWXG | S_IRWXO)) == 0) {
        return 0;
    }
    snprintf(
        out, out_len,
        "%s:%d: warning: key: %s is readable by %s (mode %03o): anyone who can read it can impersonate this end; chmod 600 it",
        rule->file, rule->key_line, rule->key,
        (st.st_mode & S_IROTH) ? "every user" : "its group",
        (unsigned)(st.st_mode & 0777));
    return 1;
}

int
tlsctx_cert_days_left(const char *path, long *out_days, char *subject,
                      size_t subject_len, char *err, size_t err_len)
{
    BIO *bio = bssl.BIO_new_file(path, "r");
    X509 *cert;
    int days;
    int secs;

    if (bio == NULL) {
        snprintf(err, err_len, "cannot open %s", path);
        bssl.ERR_clear_error();
        return -1;
    }
    cert = bssl.PEM_read_bio_X509(bio, NULL, NULL, NULL);
    bssl.BIO_free(bio);
    if (cert == NULL) {
        char reason[256];

        snprintf(err, err_len, "no PEM certificate in %s: %s", path,
                 boring_last_error(reason, sizeof(reason), "unreadable"));
        return -1;
    }
    if (!bssl.ASN1_TIME_diff(&days, &secs, NULL,
                             bssl.X509_get0_notAfter(cert))) {
        snprintf(err, err_len, "bad expiry date in %s", path);
        bssl.X509_free(cert);
        bssl.ERR_clear_error();
        return -1;
    }
    /* Less than a day past expiry is still expired. */
    *out_days = days == 0 && secs < 0 ? -1 : days;
    if (subject != NULL && subject_len > 0) {
        bssl.X509_NAME_oneline(bssl.X509_get_subject_name(cert), subject,
                               (int)subject_len);
    }
    bssl.X509_free(cert);
    return 0;
}
