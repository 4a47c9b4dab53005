/*
 * transport_tls.c - the same transport written directly against BoringSSL:
 * the ceiling for this engine.  TLS 1.3 only, X25519; BoringSSL picks
 * AES-128-GCM itself when the CPU has AES instructions (TLS 1.3 cipher
 * suites are not configurable in BoringSSL).  The client verifies the chain
 * and the name; with `resume` it offers the last ticket it received.
 *
 * Only these standalone programs link BoringSSL directly; the library must
 * never (DESIGN.md section 2).
 */
#include "bench.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tr_conn {
    int fd;
    SSL *ssl;
};

const char tr_name[] = "tls";

static SSL_CTX *ctx;
static struct tr_config config;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_SESSION *cached; /* client: the newest resumable session */
static atomic_uint_fast64_t n_handshakes, n_resumed;

static void
print_errors(const char *what)
{
    unsigned long e;
    char buf[256];

    fprintf(stderr, "bench: %s failed\n", what);
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
        fprintf(stderr, "    %s\n", buf);
    }
}

/* In TLS 1.3 a session is resumable only once its ticket has arrived,
 * after the handshake: keep the newest one from this callback. */
static int
new_session(SSL *ssl, SSL_SESSION *session)
{
    (void)ssl;
    pthread_mutex_lock(&cache_lock);
    if (cached != NULL) {
        SSL_SESSION_free(cached);
    }
    cached = session;
    pthread_mutex_unlock(&cache_lock);
    return 1; /* we keep the reference */
}

int
tr_init(const struct tr_config *cfg)
{
    config = *cfg;
    ctx = SSL_CTX_new(TLS_method());
    if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set1_curves_list(ctx, "X25519")) {
        print_errors("SSL_CTX setup");
        return -1;
    }
    if (cfg->server) {
        if (!SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) ||
            !SSL_CTX_use_PrivateKey_file(ctx, cfg->key, SSL_FILETYPE_PEM) ||
            !SSL_CTX_check_private_key(ctx)) {
            print_errors("loading the certificate and key");
            return -1;
        }
        /* Tickets are on by default: each TLS 1.3 handshake sends them. */
        return 0;
    }
    if (!SSL_CTX_load_verify_locations(ctx, cfg->ca, NULL)) {
        print_errors("loading the CA file");
        return -1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cfg->resume) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
                                                SSL_SESS_CACHE_NO_INTERNAL);
        SSL_CTX_sess_set_new_cb(ctx, new_session);
    }
    return 0;
}

static void
print_params(const SSL *ssl)
{
    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);

    fprintf(stderr, "bench[%d]: %s %s %s %s%s\n", (int)getpid(),
            config.server ? "accepted" : "connected", SSL_get_version(ssl),
            cipher != NULL ? SSL_CIPHER_standard_name(cipher) : "?",
            SSL_get_curve_name(SSL_get_curve_id(ssl)) != NULL
                ? SSL_get_curve_name(SSL_get_curve_id(ssl))
                : "(no key exchange)",
            SSL_session_reused(ssl) ? " resumed" : " full handshake");
}

struct tr_conn *
tr_open(int fd)
{
    struct tr_conn *c = calloc(1, sizeof *c);
    int ok;

    if (c == NULL || (c->ssl = SSL_new(ctx)) == NULL ||
        !SSL_set_fd(c->ssl, fd)) {
        goto fail;
    }
    c->fd = fd;
    if (config.server) {
        ok = SSL_accept(c->ssl);
    } else {
        if (!SSL_set_tlsext_host_name(c->ssl, config.name) ||
            !SSL_set1_host(c->ssl, config.name)) {
            goto fail;
        }
        if (config.resume) {
            pthread_mutex_lock(&cache_lock);
            if (cached != NULL) {
                SSL_set_session(c->ssl, cached);
            }
            pthread_mutex_unlock(&cache_lock);
        }
        ok = SSL_connect(c->ssl);
    }
    if (ok != 1) {
        print_errors(config.server ? "SSL_accept" : "SSL_connect");
        goto fail;
    }
    atomic_fetch_add(&n_handshakes, 1);
    if (SSL_session_reused(c->ssl)) {
        atomic_fetch_add(&n_resumed, 1);
    }
    if (config.info) {
        print_params(c->ssl);
    }
    return c;

fail:
    if (c != NULL) {
        SSL_free(c->ssl);
        free(c);
    }
    ERR_clear_error();
    close(fd);
    return NULL;
}

ssize_t
tr_read(struct tr_conn *c, void *buf, size_t n)
{
    int r = SSL_read(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);

    if (r > 0) {
        return r;
    }
    if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN) {
        return 0;
    }
    ERR_clear_error();
    return -1;
}

/* tr_write_some is one SSL_write of at most n bytes (and at most
 * INT32_MAX). */
ssize_t
tr_write_some(struct tr_conn *c, const void *buf, size_t n)
{
    int w = SSL_write(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);

    if (w <= 0) {
        ERR_clear_error();
        return -1;
    }
    return w;
}

void
tr_close(struct tr_conn *c)
{
    SSL_shutdown(c->ssl); /* sends close_notify; we do not wait for the
                           * peer's */
    SSL_free(c->ssl);
    ERR_clear_error();
    close(c->fd);
    free(c);
}

int
tr_resumed(const struct tr_conn *c)
{
    return SSL_session_reused(c->ssl) ? 1 : 0;
}

void
tr_stats(uint64_t *handshakes, uint64_t *resumed)
{
    *handshakes = atomic_load(&n_handshakes);
    *resumed = atomic_load(&n_resumed);
}
