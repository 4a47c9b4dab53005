/*
 * session.c - one TLS connection: handshake, read, write, close_notify.
 *
 * BoringSSL reaches the socket through a BIO of our own that calls the real
 * recv()/send() with MSG_DONTWAIT (and MSG_NOSIGNAL), so no SSL call ever
 * blocks while holding the session lock.  For small records the BIO reads
 * ahead into a buffer, so that a record costs one recv() rather than two;
 * large ones go straight into BoringSSL's buffer, each recv() also taking
 * the next record's header when it is there.
 *
 * When a read must wait for the peer, the reading thread calls the real
 * recv() itself, without the session lock and with the program's own
 * flags, and hands what arrives to the BIO: the program's O_NONBLOCK,
 * SO_RCVTIMEO, signals and SA_RESTART then act exactly as without the
 * shim, and another thread can write meanwhile.  A write that must wait,
 * and a blocking handshake, wait in poll() instead, honouring SO_SNDTIMEO
 * and the rule's handshake_timeout.
 */
#include "tlsshim/session.h"

#include "tlsshim/addr.h"
#include "tlsshim/log.h"
#include "tlsshim/real.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* SESSION_INBUF_LEN is how far the BIO reads ahead, and what one wait for
 * the peer receives at most.  Small records (requests, replies, protocol
 * lines) arrive whole with their header in one recv().  Large ones (bulk
 * transfers) are received as BoringSSL asks for them, header and then body
 * straight into its buffer, so that their bytes are never copied on the
 * way: the read-ahead would copy the first SESSION_INBUF_LEN bytes of
 * every record for no saving of system calls. */
#define SESSION_INBUF_LEN 4096

/* The most plaintext one TLS record carries. */
#define SESSION_RECORD_MAX 16384

_Static_assert(sizeof(((struct session *)0)->head) == SSL3_RT_HEADER_LENGTH,
               "session.head holds exactly one record header");

static BIO_METHOD *session_bio_method;

/* The function an armed session's read calls when it leaves the session
 * not calm (session_set_wake_hook), or NULL. */
static _Atomic(void (*)(struct session *)) session_wake_hook;

/* --- the BIO over the real socket calls --- */

/* session_inbuf makes sure |inbuf| exists.  Returns 0 or -ENOMEM. */
static int
session_inbuf(struct session *s)
{
    if (s->inbuf == NULL) {
        s->inbuf = malloc(SESSION_INBUF_LEN);
    }
    return s->inbuf != NULL ? 0 : -ENOMEM;
}

/* session_inbuf_release frees |inbuf| unless it holds ciphertext not yet
 * handed over, so that idle connections stay small. */
static void
session_inbuf_release(struct session *s)
{
    if (s->in == s->inbuf) {
        if (s->in_off < s->in_len) {
            return;
        }
        s->in = NULL;
        s->in_off = s->in_len = 0;
    }
    free(s->inbuf);
    s->inbuf = NULL;
}

/* session_note_header looks at a record header received on its own and
 * decides whether the records that follow are large (|exact|). */
static void
session_note_header(struct session *s, const unsigned char *header)
{
    size_t body = (size_t)header[3] << 8 | header[4];

    s->exact = body >= SESSION_INBUF_LEN;
}

/* session_bio_recv receives at most |len| bytes into |out| without
 * waiting and, when |head| is not NULL, the next record's header after
 * them into |head| in the same system call.  Returns the count (0 at the
 * end of the stream) or -1 with the BIO's retry flag or |io_errno| set. */
static ssize_t
session_bio_recv(BIO *bio, struct session *s, void *out, size_t len,
                 unsigned char *head)
{
    struct iovec iov[2] = { { out, len }, { head, SSL3_RT_HEADER_LENGTH } };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
    ssize_t got;

    do {
        got = head == NULL ? libc.recv(s->io_fd, out, len, MSG_DONTWAIT)
                           : libc.recvmsg(s->io_fd, &msg, MSG_DONTWAIT);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            bssl.BIO_set_retry_read(bio);
        } else {
            s->io_errno = errno;
        }
        return -1;
    }
    s->tcp_eof = got == 0;
    s->drained = (size_t)got < len + (head != NULL ? SSL3_RT_HEADER_LENGTH : 0);
    return got;
}

/* session_bio_read hands BoringSSL ciphertext.  BoringSSL asks for a
 * record's 5-byte header, then for its body.  For small records, reading
 * ahead into |inbuf| makes a record cost one system call instead of two
 * (or fewer, when records arrive together); large ones are received
 * exactly as asked (see SESSION_INBUF_LEN).  What |in| holds counts as
 * readable for poll (session_poll_state). */
static int
session_bio_read(BIO *bio, char *out, int len)
{
    struct session *s = bssl.BIO_get_data(bio);
    size_t n;
    ssize_t got;

    bssl.BIO_clear_retry_flags(bio);
    if (s->receiving) {
        /* A reader waits in recv() into |in| without the lock; what it
         * gets will be handed over when it returns. */
        bssl.BIO_set_retry_read(bio);
        return -1;
    }
    if (s->in_off == s->in_len && !s->tcp_eof && len >= SESSION_INBUF_LEN) {
        /* The body of a large record, and the header of the next one when
         * it is already there, which saves the next call. */
        if (s->inbuf != NULL) {
            session_inbuf_release(s);
        }
        got = session_bio_recv(bio, s, out, (size_t)len, s->head);
        s->exact = true;
        if (got > len) {
            s->in = s->head;
            s->in_off = 0;
            s->in_len = (size_t)(got - len);
            if (s->in_len == SSL3_RT_HEADER_LENGTH) {
                session_note_header(s, s->head);
            }
            return len;
        }
        return (int)got;
    }
    if (s->in_off == s->in_len && !s->tcp_eof && s->exact) {
        got = session_bio_recv(bio, s, out, (size_t)len, NULL);
        if (len == SSL3_RT_HEADER_LENGTH && got == len) {
            session_note_header(s, (const unsigned char *)out);
        }
        return (int)got;
    }
    if (s->in_off == s->in_len && !s->tcp_eof) {
        if (session_inbuf(s) != 0) {
            s->io_errno = ENOMEM;
            return -1;
        }
        got = session_bio_recv(bio, s, s->inbuf, SESSION_INBUF_LEN, NULL);
        if (got < 0) {
            /* Idle: give the buffer back, as BoringSSL does with its own. */
            session_inbuf_release(s);
            return -1;
        }
        s->in = s->inbuf;
        s->in_off = 0;
        s->in_len = (size_t)got;
    }
    n = s->in_len - s->in_off;
    if (n == 0) {
        return 0; /* the end of the stream */
    }
    n = n < (size_t)len ? n : (size_t)len;
    memcpy(out, s->in + s->in_off, n);
    s->in_off += n;
    return (int)n;
}

static int
session_bio_write(BIO *bio, const char *in, int len)
{
    struct session *s = bssl.BIO_get_data(bio);
    ssize_t n;

    bssl.BIO_clear_retry_flags(bio);
    do {
        n = libc.send(s->io_fd, in, (size_t)len,
                      MSG_DONTWAIT | MSG_NOSIGNAL |
                          (s->more_follows ? MSG_MORE : 0));
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
        s->corked = s->more_follows;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            bssl.BIO_set_retry_write(bio);
        } else {
            s->io_errno = errno;
        }
        return -1;
    }
    return (int)n;
}

static long
session_bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    (void)bio;
    (void)num;
    (void)ptr;
    /* Records go straight to the socket: there is never anything to flush,
     * and BoringSSL treats a flush that fails as a write error. */
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int
session_global_init(void)
{
    session_bio_method = bssl.BIO_meth_new(BIO_TYPE_SOCKET, "tlsshim");
    if (session_bio_method == NULL ||
        !bssl.BIO_meth_set_read(session_bio_method, session_bio_read) ||
        !bssl.BIO_meth_set_write(session_bio_method, session_bio_write) ||
        !bssl.BIO_meth_set_ctrl(session_bio_method, session_bio_ctrl)) {
        return -1;
    }
    return 0;
}

/* --- state --- */

/* session_set_state changes the state (lock held).  It is stored
 * atomically because session_is_open() reads it without the lock. */
static void
session_set_state(struct session *s, enum session_state state)
{
    __atomic_store_n(&s->state, state, __ATOMIC_RELEASE);
}

/* session_is_open is the lock-free check on the data path: once a session
 * is open the handshake code need not be entered. */
static bool
session_is_open(struct session *s)
{
    return __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SESSION_OPEN;
}

/* --- life cycle --- */

struct session *
session_new(int fd, const struct policy_rule *rule, SSL_CTX *ctx,
            const struct sockaddr *peer, const struct sockaddr *local,
            const char *resolved, const char *verb)
{
    struct session *s = calloc(1, sizeof(*s));
    char peer_text[ADDR_TEXT_MAX];
    char local_text[ADDR_TEXT_MAX];
    unsigned char ip[16];

    (void)fd;
    if (s == NULL) {
        return NULL;
    }
    atomic_init(&s->refs, 1);
    pthread_mutex_init(&s->read_lock, NULL);
    pthread_mutex_init(&s->lock, NULL);
    s->rule = rule;
    s->ctx = ctx;
    s->tls_client = rule->tls_client;
    s->state = SESSION_PENDING;

    /* The name to send and verify: the policy's, else the one the program
     * resolved, else the address itself (checked against IP SANs). */
    if (rule->server_name != NULL) {
        snprintf(s->name, sizeof(s->name), "%s", rule->server_name);
    } else if (resolved != NULL && *resolved != '\0') {
        snprintf(s->name, sizeof(s->name), "%s", resolved);
    } else {
        addr_format_host(peer, s->name, sizeof(s->name));
    }
    s->name_is_ip = inet_pton(AF_INET, s->name, ip) == 1 ||
                    inet_pton(AF_INET6, s->name, ip) == 1;

    addr_format(peer, peer_text, sizeof(peer_text));
    if (s->tls_client) {
        snprintf(s->cache_key, sizeof(s->cache_key), "%s|%s", s->name,
                 peer_text);
    }
    if (strcmp(verb, "accept") == 0) {
        snprintf(s->what, sizeof(s->what), "accept %s on %s", peer_text,
                 addr_format(local, local_text, sizeof(local_text)));
    } else if (resolved != NULL && *resolved != '\0') {
        snprintf(s->what, sizeof(s->what), "%s %s (%s)", verb, peer_text,
                 resolved);
    } else {
        snprintf(s->what, sizeof(s->what), "%s %s", verb, peer_text);
    }
    return s;
}

void
session_ref(struct session *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void
session_unref(struct session *s)
{
    if (s == NULL ||
        atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1) {
        return;
    }
    if (s->ssl != NULL) {
        bssl.SSL_free(s->ssl);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->read_lock);
    free(s->inbuf);
    free(s);
}

/* --- waiting for the socket, as the program's own call would --- */

long
session_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static bool
session_fd_nonblocking(int fd)
{
    int fl = libc.fcntl(fd, F_GETFL);

    return fl >= 0 && (fl & O_NONBLOCK) != 0;
}

/* session_timeout_ms returns SO_RCVTIMEO or SO_SNDTIMEO of |fd| in
 * milliseconds, or -1 for none. */
static int
session_timeout_ms(int fd, int optname)
{
    struct timeval tv;
    socklen_t len = sizeof(tv);

    if (getsockopt(fd, SOL_SOCKET, optname, &tv, &len) != 0 ||
        (tv.tv_sec == 0 && tv.tv_usec == 0)) {
        return -1;
    }
    if (tv.tv_sec > INT_MAX / 1000 - 1) {
        return INT_MAX;
    }
    return (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
}

/* session_wait waits until |fd| is ready for |events| (an error or hang-up
 * counts as ready: the next SSL call reports it).  Returns 0, -EAGAIN when
 * |timeout_ms| ran out, or -EINTR. */
static int
session_wait(int fd, short events, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = events };
    int n = libc.poll(&pfd, 1, timeout_ms);

    /* poll() refuses more descriptors than RLIMIT_NOFILE allows, and
     * vsftpd sets that limit to 0 in its unprivileged process (so that it
     * cannot open files) while it still reads and writes its sockets.
     * select() is not bound by the limit. */
    if (n < 0 && errno == EINVAL && fd < FD_SETSIZE) {
        fd_set rfds;
        fd_set wfds;
        struct timeval tv;

        FD_ZERO(&rfds);
        FD_ZERO(&wfds);
        if (events & POLLIN) {
            FD_SET(fd, &rfds);
        }
        if (events & POLLOUT) {
            FD_SET(fd, &wfds);
        }
        if (timeout_ms >= 0) {
            tv.tv_sec = timeout_ms / 1000;
            tv.tv_usec = (timeout_ms % 1000) * 1000L;
        }
        n = libc.select(fd + 1, &rfds, &wfds, NULL,
                        timeout_ms >= 0 ? &tv : NULL);
    }
    if (n < 0) {
        return -errno;
    }
    return n == 0 ? -EAGAIN : 0;
}

/* --- the handshake --- */

/* session_peer_names writes the DNS and IP names of |cert| (or its subject
 * when it has no SAN) into |out|, for a "certificate is for ..." message. */
static void
session_peer_names(X509 *cert, char *out, size_t out_len)
{
    GENERAL_NAMES *sans =
        bssl.X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; sans != NULL && i < bssl.sk_num((void *)sans); i++) {
        const GENERAL_NAME *gn = bssl.sk_value((void *)sans, i);
        char text[256];

        if (gn->type == GEN_DNS) {
            snprintf(text, sizeof(text), "%.*s",
                     bssl.ASN1_STRING_length(gn->d.dNSName),
                     (const char *)bssl.ASN1_STRING_get0_data(gn->d.dNSName));
        } else if (gn->type == GEN_IPADD) {
            int len = bssl.ASN1_STRING_length(gn->d.iPAddress);
            const void *ip = bssl.ASN1_STRING_get0_data(gn->d.iPAddress);

            if (inet_ntop(len == 4 ? AF_INET : AF_INET6, ip, text,
                          sizeof(text)) == NULL) {
                continue;
            }
        } else {
            continue;
        }
        used += (size_t)snprintf(out + used, out_len - used, "%s%s",
                                 used > 0 ? ", " : "", text);
        if (used >= out_len) {
            break;
        }
    }
    if (sans != NULL) {
        bssl.GENERAL_NAMES_free(sans);
    }
    if (out[0] == '\0') {
        bssl.X509_NAME_oneline(bssl.X509_get_subject_name(cert), out,
                               (int)out_len);
    }
}

/* session_fail marks |s| failed with |err|, logs |reason| once, and cuts
 * the TCP connection so that an event loop sees it end.  Lock held. */
static int
session_fail(struct session *s, int fd, int err, const char *reason)
{
    session_set_state(s, SESSION_FAILED);
    s->error = err;
    log_msg(LOG_LEVEL_WARN, "fd %d: %s: %s", fd, s->what, reason);
    libc.shutdown(fd, SHUT_RDWR);
    return -err;
}

/* Handshake failures BoringSSL names by a reason code, in words.  The log
 * line keeps the code after the words, for searching. */
static const struct {
    int reason;       /* SSL_R_* */
    const char *text; /* what it means for the administrator */
} session_reasons[] = {
    { SSL_R_NO_SHARED_CIPHER, "no cipher suite in common" },
    { SSL_R_NO_SHARED_GROUP, "no key-exchange group in common" },
    { SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE,
      "client sent no certificate (client_auth = required)" },
    { SSL_R_TLSV1_ALERT_PROTOCOL_VERSION,
      "the peer refused the TLS version: this end speaks TLS 1.2 and newer only" },
    { SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE,
      "the peer aborted the handshake: no parameters in common, or it wants a client certificate" },
    { SSL_R_TLSV1_ALERT_CERTIFICATE_REQUIRED,
      "the peer requires a client certificate: give the rule cert and key" },
    { SSL_R_TLSV1_ALERT_UNKNOWN_CA,
      "the peer does not trust this end's certificate (issued by a CA it does not know)" },
    { SSL_R_SSLV3_ALERT_BAD_CERTIFICATE,
      "the peer rejected this end's certificate" },
    { SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN,
      "the peer rejected this end's certificate" },
    { SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED,
      "the peer says this end's certificate has expired" },
};

/* session_reason_text returns the words for |reason|, or NULL. */
static const char *
session_reason_text(int reason)
{
    for (size_t i = 0; i < sizeof(session_reasons) / sizeof(*session_reasons);
         i++) {
        if (session_reasons[i].reason == reason) {
            return session_reasons[i].text;
        }
    }
    return NULL;
}

/* session_handshake_error explains a failed SSL_do_handshake in words and
 * picks the errno the program sees.  Lock held. */
static int
session_handshake_error(struct session *s, int fd, int ssl_error)
{
    uint32_t code = bssl.ERR_peek_last_error();
    int reason = ERR_GET_REASON(code);
    long verify = bssl.SSL_get_verify_result(s->ssl);
    char text[768];
    char detail[512];

    /* The verify result means something only if verification ran and
     * failed; before that it holds a placeholder error. */
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK) {
        const char *whose =
            s->tls_client ? "certificate" : "client certificate";

        if (verify == X509_V_ERR_HOSTNAME_MISMATCH ||
            verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
            X509 *cert = bssl.SSL_get_peer_certificate(s->ssl);

            if (cert != NULL) {
                session_peer_names(cert, detail, sizeof(detail));
                bssl.X509_free(cert);
            } else {
                snprintf(detail, sizeof(detail), "another name");
            }
            snprintf(
                text, sizeof(text),
                "%s verify failed: name mismatch, certificate is for %s (expected %s)",
                whose, detail, s->name);
        } else {
            snprintf(text, sizeof(text), "%s verify failed: %s", whose,
                     bssl.X509_verify_cert_error_string(verify));
        }
        bssl.ERR_clear_error();
        return session_fail(s, fd, ECONNREFUSED, text);
    }

    if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN ||
        (code == 0 && ssl_error == SSL_ERROR_SSL)) {
        if (s->io_errno != 0) {
            snprintf(text, sizeof(text), "TLS handshake failed: %s",
                     strerror(s->io_errno));
        } else {
            snprintf(
                text, sizeof(text),
                "TLS handshake failed: peer closed the connection (does it speak TLS, and accept this %s?)",
                s->tls_client ? "client" : "server");
        }
        bssl.ERR_clear_error();
        return session_fail(s, fd, ECONNRESET, text);
    }

    if (reason == SSL_R_WRONG_VERSION_NUMBER && s->tls_client) {
        snprintf(
            text, sizeof(text),
            "TLS handshake failed: peer does not speak TLS (it answered in plaintext or with an unknown protocol)");
    } else if (reason == SSL_R_HTTP_REQUEST ||
               reason == SSL_R_WRONG_VERSION_NUMBER) {
        snprintf(
            text, sizeof(text),
            "TLS handshake failed: peer does not speak TLS (it sent plaintext%s)",
            reason == SSL_R_HTTP_REQUEST ? ": an HTTP request" : "");
    } else if (reason == SSL_R_UNSUPPORTED_PROTOCOL) {
        snprintf(
            text, sizeof(text),
            "TLS handshake failed: no TLS version in common (this end accepts TLS %s and newer)",
            s->rule->min_version == POLICY_TLS1_3 ? "1.3" : "1.2");
    } else if (session_reason_text(reason) != NULL) {
        snprintf(text, sizeof(text), "TLS handshake failed: %s (%s)",
                 session_reason_text(reason),
                 boring_last_error(detail, sizeof(detail), "?"));
    } else {
        snprintf(text, sizeof(text), "TLS handshake failed: %s",
                 boring_last_error(detail, sizeof(detail), "protocol error"));
    }
    bssl.ERR_clear_error();
    return session_fail(s, fd, EPROTO, text);
}

/* session_check_pins returns 0 if the rule has no pins or any certificate
 * the server sent has a pinned public key.  Lock held. */
static int
session_check_pins(struct session *s, int fd)
{
    STACK_OF(X509) * chain;
    unsigned char leaf_hash[SHA256_DIGEST_LENGTH] = { 0 };
    char leaf_text[POLICY_PIN_TEXT_LEN];
    char text[256];

    if (s->rule->pins_len == 0) {
        return 0;
    }
    chain = bssl.SSL_get_peer_cert_chain(s->ssl);
    for (size_t i = 0; chain != NULL && i < bssl.sk_num((void *)chain); i++) {
        X509 *cert = bssl.sk_value((void *)chain, i);
        unsigned char *der = NULL;
        int der_len =
            bssl.i2d_X509_PUBKEY(bssl.X509_get_X509_PUBKEY(cert), &der);
        unsigned char hash[SHA256_DIGEST_LENGTH];

        if (der_len <= 0) {
            continue;
        }
        bssl.SHA256(der, (size_t)der_len, hash);
        bssl.OPENSSL_free(der);
        if (i == 0) {
            memcpy(leaf_hash, hash, sizeof(hash));
        }
        for (size_t p = 0; p < s->rule->pins_len; p++) {
            if (memcmp(hash, s->rule->pins[p].sha256, sizeof(hash)) == 0) {
                return 0;
            }
        }
    }
    policy_pin_text(leaf_hash, leaf_text);
    snprintf(
        text, sizeof(text),
        "certificate pin mismatch: no pin_sha256 matches (the server's key is %s)",
        leaf_text);
    return session_fail(s, fd, ECONNREFUSED, text);
}

static void
session_log_established(struct session *s, int fd)
{
    const uint8_t *alpn = NULL;
    unsigned alpn_len = 0;
    char verified[300];

    if (s->tls_client && s->rule->verify == POLICY_VERIFY_NONE) {
        log_msg(
            LOG_LEVEL_WARN,
            "fd %d: %s: server certificate NOT verified (verify = none in %s:%d)",
            fd, s->what, s->rule->file, s->rule->line);
    }
    if (!log_enabled(LOG_LEVEL_INFO)) {
        return;
    }
    if (s->tls_client) {
        if (s->rule->verify == POLICY_VERIFY_NONE) {
            snprintf(verified, sizeof(verified),
                     "NOT verified (verify = none)");
        } else {
            snprintf(verified, sizeof(verified), "verified %s", s->name);
        }
    } else {
        X509 *cert = bssl.SSL_get_peer_certificate(s->ssl);

        snprintf(verified, sizeof(verified), "%s",
                 cert != NULL ? "client certificate verified"
                              : "no client certificate");
        if (cert != NULL) {
            bssl.X509_free(cert);
        }
    }
    bssl.SSL_get0_alpn_selected(s->ssl, &alpn, &alpn_len);
    log_msg(LOG_LEVEL_INFO, "fd %d: %s: %s %s, %s, %s session%s%.*s", fd,
            s->what, bssl.SSL_get_version(s->ssl),
            bssl.SSL_CIPHER_get_name(bssl.SSL_get_current_cipher(s->ssl)),
            verified, bssl.SSL_session_reused(s->ssl) ? "resumed" : "new",
            alpn_len > 0 ? ", alpn " : "", (int)alpn_len, (const char *)alpn);
}

/* session_start creates the SSL object of a PENDING session.  Lock held. */
static int
session_start(struct session *s, int fd)
{
    SSL *ssl = bssl.SSL_new(s->ctx);
    BIO *bio = bssl.BIO_new(session_bio_method);

    if (ssl == NULL || bio == NULL) {
        if (ssl != NULL) {
            bssl.SSL_free(ssl);
        }
        if (bio != NULL) {
            bssl.BIO_free(bio);
        }
        return session_fail(s, fd, ENOMEM, "out of memory for TLS");
    }
    bssl.BIO_set_data(bio, s);
    bssl.BIO_set_init(bio, 1);
    bssl.SSL_set_bio(ssl, bio, bio);

    if (s->tls_client) {
        SSL_SESSION *resume = sesscache_take(s->cache_key);

        if (resume != NULL) {
            bssl.SSL_set_session(ssl, resume);
            bssl.SSL_SESSION_free(resume);
        }
        bssl.SSL_set_ex_data(ssl, 0, s->cache_key);
        bssl.SSL_set_connect_state(ssl);
        if (!s->name_is_ip && s->name[0] != '\0') {
            bssl.SSL_set_tlsext_host_name(ssl, s->name);
        }
        if (s->rule->verify == POLICY_VERIFY_PEER) {
            X509_VERIFY_PARAM *param = bssl.SSL_get0_param(ssl);

            bssl.X509_VERIFY_PARAM_set_hostflags(
                param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            if (s->name_is_ip) {
                bssl.X509_VERIFY_PARAM_set1_ip_asc(param, s->name);
            } else {
                bssl.X509_VERIFY_PARAM_set1_host(param, s->name,
                                                 strlen(s->name));
            }
        }
    } else {
        bssl.SSL_set_accept_state(ssl);
    }
    s->ssl = ssl;
    s->owner = getpid();
    s->deadline_ms = session_now_ms() + (long)s->rule->handshake_timeout_ms;
    session_set_state(s, SESSION_HANDSHAKING);
    return 0;
}

/* session_handshake_timeout fails a handshake whose time is up.  Lock
 * held. */
static int
session_handshake_timeout(struct session *s, int fd)
{
    char text[160];

    snprintf(text, sizeof(text),
             "TLS handshake timed out after %u s: the peer %s",
             s->rule->handshake_timeout_ms / 1000,
             s->want == POLLOUT ? "does not read"
                                : "sent nothing more (does it speak TLS?)");
    return session_fail(s, fd, ETIMEDOUT, text);
}

/* session_handshake_step makes what progress the socket allows without
 * blocking.  Returns 0 when done, -EAGAIN with |want| set when the socket
 * must become ready, or a negative errno after failing the session.  Lock
 * held. */
static int
session_handshake_step(struct session *s, int fd)
{
    int ssl_error;
    int rc;

    if (s->state == SESSION_OPEN) {
        return 0;
    }
    if (s->state == SESSION_FAILED) {
        return -s->error;
    }
    if (s->state == SESSION_PENDING) {
        rc = session_start(s, fd);
        if (rc != 0) {
            return rc;
        }
    }
    if (session_now_ms() >= s->deadline_ms) {
        return session_handshake_timeout(s, fd);
    }

    s->io_fd = fd;
    s->io_errno = 0;
    rc = bssl.SSL_do_handshake(s->ssl);
    if (rc == 1) {
        s->want = 0;
        rc = s->tls_client ? session_check_pins(s, fd) : 0;
        if (rc == 0) {
            session_set_state(s, SESSION_OPEN);
            session_log_established(s, fd);
        }
        return rc;
    }
    ssl_error = bssl.SSL_get_error(s->ssl, rc);
    if (ssl_error == SSL_ERROR_WANT_READ) {
        s->want = POLLIN;
        return -EAGAIN;
    }
    if (ssl_error == SSL_ERROR_WANT_WRITE) {
        s->want = POLLOUT;
        return -EAGAIN;
    }
    return session_handshake_error(s, fd, ssl_error);
}

/* SESSION_HANDSHAKE_SLICE_MS bounds one wait of a blocking handshake (see
 * session_handshake). */
#define SESSION_HANDSHAKE_SLICE_MS 20

int
session_handshake(struct session *s, int fd, bool nonblock)
{
    int rc;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        short events;
        long left;

        rc = session_handshake_step(s, fd);
        if (rc != -EAGAIN || nonblock) {
            break;
        }

        /* Wait for the peer without the lock, so that another thread of
         * the program is never stuck behind this one. */
        events = s->want;
        left = s->deadline_ms - session_now_ms();
        pthread_mutex_unlock(&s->lock);
        /* Another thread of the program may be waiting too, and it may
         * be the one that reads what this one waits for and finishes the
         * handshake: then nothing more arrives for this poll, which would
         * sleep until the deadline.  Wait in short slices; the loop checks
         * the state again, under the lock, after each. */
        if (left > SESSION_HANDSHAKE_SLICE_MS) {
            left = SESSION_HANDSHAKE_SLICE_MS;
        }
        rc = left > 0 ? session_wait(fd, events, (int)left) : 0;
        pthread_mutex_lock(&s->lock);
        if (rc == -EINTR) {
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* --- data --- */

/* How one read or write call of the program may wait, found out only when
 * it matters: most calls never wait. */
struct session_blocking {
    int flags;       /* the program's MSG_* flags */
    int nonblock;    /* 1: return EAGAIN instead of waiting; -1: unknown */
    int timeout_ms;  /* SO_RCVTIMEO/SO_SNDTIMEO; -1 none; -2: unknown */
    int timeout_opt; /* which of the two applies */
};

static bool
session_is_nonblocking(int fd, struct session_blocking *how)
{
    if (how->nonblock < 0) {
        how->nonblock =
            (how->flags & MSG_DONTWAIT) || session_fd_nonblocking(fd);
    }
    return how->nonblock;
}

/* session_ensure_open runs or advances the handshake before data moves.
 * Returns 0 when the session is open, else a negative errno (-EAGAIN for a
 * non-blocking handshake still under way). */
static int
session_ensure_open(struct session *s, int fd, struct session_blocking *how)
{
    int rc;

    if (session_is_open(s)) {
        return 0;
    }
    rc = session_handshake(s, fd, session_is_nonblocking(fd, how));
    if (rc == -EAGAIN) {
        pthread_mutex_lock(&s->lock);
        s->io_waited = true;
        pthread_mutex_unlock(&s->lock);
    }
    return rc;
}

/* session_block waits, without the lock, until the socket can serve what
 * the SSL call wanted, as the program's own call would have: not at all
 * for a non-blocking socket (-EAGAIN), up to the socket's timeout (-EAGAIN
 * when it runs out), or until a signal (-EINTR).  Returns 0 to retry.  Lock
 * held on entry and on return. */
static int
session_block(struct session *s, int fd, int ssl_error,
              struct session_blocking *how)
{
    int rc;

    if (session_is_nonblocking(fd, how)) {
        return -EAGAIN;
    }
    if (how->timeout_ms == -2) {
        how->timeout_ms = session_timeout_ms(fd, how->timeout_opt);
    }
    pthread_mutex_unlock(&s->lock);
    rc = session_wait(fd, ssl_error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                      how->timeout_ms);
    pthread_mutex_lock(&s->lock);
    return rc;
}

/* session_stream_error handles a failed SSL_read/SSL_write on an open
 * session.  Lock held.  Returns the negative errno. */
static int
session_stream_error(struct session *s, int fd, int ssl_error, bool reading)
{
    char text[512];
    char reason[256];
    int err;

    if (ssl_error == SSL_ERROR_SYSCALL && s->io_errno == 0 && reading) {
        /* TCP ended without close_notify: whatever the program reads next
         * might be cut short by an attacker, so it must not look like EOF
         * (RFC 8446, section 6.1). */
        snprintf(
            text, sizeof(text),
            "peer closed the connection without close_notify: stream truncated, reported as ECONNRESET");
        err = ECONNRESET;
    } else if (s->io_errno != 0) {
        snprintf(text, sizeof(text), "connection lost: %s",
                 strerror(s->io_errno));
        err = s->io_errno == EPIPE ? EPIPE : ECONNRESET;
    } else {
        snprintf(text, sizeof(text), "TLS error: %s",
                 boring_last_error(reason, sizeof(reason), "protocol error"));
        err = ECONNRESET;
    }
    bssl.ERR_clear_error();
    session_set_state(s, SESSION_FAILED);
    s->error = err;
    log_msg(LOG_LEVEL_WARN, "fd %d: %s: %s", fd, s->what, text);
    return -err;
}

/* session_receive waits for ciphertext as the program's own recv() would
 * (its MSG_DONTWAIT, the socket's O_NONBLOCK and SO_RCVTIMEO, signals and
 * SA_RESTART all apply unchanged) and keeps it for the BIO.  The caller
 * holds |read_lock| and |lock| and |inbuf| is drained; |lock| is dropped
 * during the wait so that writers go on.  Returns 0 when there is
 * something for the next SSL_read(), -EAGAIN, -EINTR, or the error of a
 * broken connection. */
static int
session_receive(struct session *s, int fd, int flags)
{
    unsigned char *buf;
    size_t want;
    ssize_t n;
    int err;

    if (s->exact) {
        /* A large record follows: take its header only, and let the BIO
         * receive the body into BoringSSL's buffer. */
        buf = s->head;
        want = sizeof s->head;
        session_inbuf_release(s);
    } else if (session_inbuf(s) == 0) {
        buf = s->inbuf;
        want = SESSION_INBUF_LEN;
    } else {
        s->io_errno = ENOMEM;
        return session_stream_error(s, fd, SSL_ERROR_SYSCALL, true);
    }
    s->in = buf;
    s->in_off = s->in_len = 0;
    s->receiving = true;
    pthread_mutex_unlock(&s->lock);
    n = libc.recv(fd, buf, want, flags & MSG_DONTWAIT);
    err = errno;
    pthread_mutex_lock(&s->lock);
    s->receiving = false;

    if (n > 0) {
        s->in_len = (size_t)n;
        s->drained = (size_t)n < want;
        s->expect_wait = true;
        if (buf == s->head && (size_t)n == sizeof s->head) {
            session_note_header(s, s->head);
        }
        return 0;
    }
    s->expect_wait = false;
    if (n == 0) {
        s->tcp_eof = true; /* SSL_read() decides: close_notify or cut */
        return 0;
    }
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
        return -err;
    }
    s->io_errno = err;
    return session_stream_error(s, fd, SSL_ERROR_SYSCALL, true);
}

/* session_calm_locked says whether a wait needs nothing but the kernel's
 * word on the socket: open, nothing buffered, no close_notify.  Holds
 * |lock|. */
static bool
session_calm_locked(struct session *s)
{
    return s->state == SESSION_OPEN && !s->peer_closed &&
           s->in_off >= s->in_len && bssl.SSL_pending(s->ssl) == 0;
}

ssize_t
session_read(struct session *s, int fd, void *buf, size_t len, int flags)
{
    struct session_blocking how = { .flags = flags,
                                    .nonblock = -1,
                                    .timeout_ms = -2,
                                    .timeout_opt = SO_RCVTIMEO };
    size_t got = 0;
    bool wake;
    ssize_t rc = session_ensure_open(s, fd, &how);

    if (rc != 0) {
        return rc;
    }
    if (len == 0) {
        return 0;
    }

    pthread_mutex_lock(&s->read_lock);
    pthread_mutex_lock(&s->lock);
    s->reads++;
    for (;;) {
        int want = len - got > INT_MAX ? INT_MAX : (int)(len - got);
        int n;
        int ssl_error;

        if (s->state == SESSION_FAILED) {
            rc = -s->error;
            break;
        }
        if (s->peer_closed) {
            break;
        }

        /* After a read that had to wait (a request/response exchange),
         * trying first would only cost a system call that finds nothing. */
        if (got == 0 && s->expect_wait && s->in_off == s->in_len &&
            bssl.SSL_pending(s->ssl) == 0) {
            rc = session_receive(s, fd, flags);
            if (rc != 0) {
                break;
            }
        }

        s->io_fd = fd;
        s->io_errno = 0;
        /* SSL_read, SSL_peek, SSL_write and SSL_do_handshake empty the
         * thread's error queue themselves before they start. */
        n = (flags & MSG_PEEK) ? bssl.SSL_peek(s->ssl, (char *)buf + got, want)
                               : bssl.SSL_read(s->ssl, (char *)buf + got, want);
        if (n > 0) {
            got += (size_t)n;
            if ((flags & MSG_PEEK) || got == len) {
                break;
            }
            /* Go on with the next record, as far as the socket allows
             * without waiting: a read shorter than asked must mean that
             * nothing more can be read now, as it does on a plain socket.
             * Edge-triggered event loops (nginx) take a short read as
             * "drained" and wait for the next edge, which never comes for
             * a record already sitting in the socket.  When the last
             * recv() found the socket empty and nothing is buffered, the
             * next one would only say EAGAIN: whatever arrives since
             * makes a new edge. */
            if (s->drained && s->in_off == s->in_len &&
                !(flags & MSG_WAITALL)) {
                break;
            }
            continue;
        }

        ssl_error = bssl.SSL_get_error(s->ssl, n);
        if (ssl_error == SSL_ERROR_ZERO_RETURN) {
            s->peer_closed = true;
            break;
        }
        if (ssl_error != SSL_ERROR_WANT_READ &&
            ssl_error != SSL_ERROR_WANT_WRITE) {
            rc = session_stream_error(s, fd, ssl_error, true);
            break;
        }
        if (got > 0 && !(flags & MSG_WAITALL)) {
            break;
        }
        rc = ssl_error == SSL_ERROR_WANT_READ
                 ? session_receive(s, fd, flags)
                 : session_block(s, fd, ssl_error, &how);
        if (rc != 0) {
            break;
        }
    }
    /* A session an epoll wait stopped looking at (armed) must be looked at
     * again if this read leaves something behind. */
    wake = s->wake_armed && !session_calm_locked(s);
    if (wake) {
        s->wake_armed = false;
    }
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_unlock(&s->read_lock);

    if (wake) {
        void (*hook)(struct session *) =
            atomic_load_explicit(&session_wake_hook, memory_order_acquire);

        if (hook != NULL) {
            hook(s);
        }
    }
    return got > 0 ? (ssize_t)got : rc;
}

/* session_uncork sends what TCP holds back after records sent with
 * MSG_MORE.  Holds |lock|. */
static void
session_uncork(struct session *s, int fd)
{
    int cork = 0;
    socklen_t len = sizeof(cork);

    s->corked = false;
    /* Clearing TCP_CORK sends what waits.  A program that corks the
     * socket itself keeps its cork, and sends when it clears it. */
    if (getsockopt(fd, IPPROTO_TCP, TCP_CORK, &cork, &len) == 0 && cork == 0) {
        (void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &cork, sizeof(cork));
    }
}

ssize_t
session_write(struct session *s, int fd, const void *buf, size_t len, int flags)
{
    struct session_blocking how = { .flags = flags,
                                    .nonblock = -1,
                                    .timeout_ms = -2,
                                    .timeout_opt = SO_SNDTIMEO };
    size_t sent = 0;
    ssize_t rc = session_ensure_open(s, fd, &how);

    if (rc != 0) {
        return rc;
    }

    pthread_mutex_lock(&s->lock);
    while (sent < len) {
        int chunk = len - sent > INT_MAX ? INT_MAX : (int)(len - sent);
        int n;
        int ssl_error;

        if (s->state == SESSION_FAILED) {
            rc = -s->error;
            break;
        }
        if (s->sent_close_notify) {
            /* shutdown(SHUT_WR) was called: as the kernel would say. */
            rc = -EPIPE;
            break;
        }
        s->io_fd = fd;
        s->io_errno = 0;
        /* One record per call (SSL_MODE_ENABLE_PARTIAL_WRITE): tell TCP
         * when another follows, so that it fills its segments instead of
         * sending, and waking the peer for, each record on its own. */
        s->more_follows = (flags & MSG_MORE) || len - sent > SESSION_RECORD_MAX;
        n = bssl.SSL_write(s->ssl, (const char *)buf + sent, chunk);
        s->more_follows = false;
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }

        ssl_error = bssl.SSL_get_error(s->ssl, n);
        if (ssl_error != SSL_ERROR_WANT_READ &&
            ssl_error != SSL_ERROR_WANT_WRITE) {
            rc = session_stream_error(s, fd, ssl_error, false);
            break;
        }
        rc = session_block(s, fd, ssl_error, &how);
        if (rc != 0) {
            break;
        }
    }
    if (s->corked && !(flags & MSG_MORE)) {
        /* Stopped before the last record: what TCP holds must go. */
        session_uncork(s, fd);
    }
    pthread_mutex_unlock(&s->lock);

    if (sent > 0) {
        return (ssize_t)sent;
    }
    if (rc == -EPIPE && !(flags & MSG_NOSIGNAL)) {
        raise(SIGPIPE);
    }
    return rc;
}

void
session_push(struct session *s, int fd)
{
    pthread_mutex_lock(&s->lock);
    if (s->corked) {
        session_uncork(s, fd);
    }
    pthread_mutex_unlock(&s->lock);
}

int
session_readable(struct session *s, int fd)
{
    char probe;
    ssize_t n = session_read(s, fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    int pending;

    if (n <= 0) {
        return n == -EAGAIN ? 0 : (int)n;
    }
    pthread_mutex_lock(&s->lock);
    pending = s->state == SESSION_OPEN ? bssl.SSL_pending(s->ssl) : 0;
    pthread_mutex_unlock(&s->lock);
    return pending > 0 ? pending : 1;
}

/* session_poll_state_locked fills |out| (session_poll_state).  Holds
 * |lock|. */
static void
session_poll_state_locked(struct session *s, int fd, bool kick,
                          struct session_poll *out)
{
    if (kick && s->tls_client && s->state == SESSION_PENDING) {
        (void)session_handshake_step(s, fd);
    }
    /* The handshake's direction replaces the program's interest only once
     * the program has tried to move data and been told to wait: then
     * waking it for a writable socket would only make it spin.  Before
     * that, the program may be waiting for something else entirely: an
     * FTP client polls its new data connection for the end of connect()
     * (POLLOUT) and only then sends STOR on the control connection, which
     * is what makes the server accept the data connection and answer the
     * ClientHello.  Waiting for that answer there would wait for ever. */
    out->want = s->state == SESSION_HANDSHAKING && s->io_waited ? s->want : 0;
    if (s->state == SESSION_HANDSHAKING && session_now_ms() >= s->deadline_ms) {
        /* Time is up: let the program's next call find out. */
        (void)session_handshake_timeout(s, fd);
        out->want = 0;
    }
    out->reads = s->reads;
    out->left_ms = -1;
    if (s->state == SESSION_HANDSHAKING) {
        long left = s->deadline_ms - session_now_ms();

        out->left_ms = left > 0 ? left : 0;
    }
    out->calm = session_calm_locked(s);
    out->ready = s->state == SESSION_FAILED || s->peer_closed ||
                 s->in_off < s->in_len ||
                 (s->state == SESSION_OPEN && !out->calm);
}

void
session_poll_state(struct session *s, int fd, bool kick,
                   struct session_poll *out)
{
    pthread_mutex_lock(&s->lock);
    session_poll_state_locked(s, fd, kick, out);
    pthread_mutex_unlock(&s->lock);
}

void
session_watch_state(struct session *s, int fd, struct session_poll *out)
{
    pthread_mutex_lock(&s->lock);
    session_poll_state_locked(s, fd, false, out);
    if (out->calm) {
        s->wake_armed = true;
    }
    pthread_mutex_unlock(&s->lock);
}

void
session_set_wake_hook(void (*hook)(struct session *s))
{
    atomic_store_explicit(&session_wake_hook, hook, memory_order_release);
}

void
session_fail_untracked(struct session *s, int fd)
{
    pthread_mutex_lock(&s->lock);
    (void)session_fail(s, fd, EMFILE,
                       "descriptor beyond the shim's table: connection closed");
    pthread_mutex_unlock(&s->lock);
}

void
session_shutdown(struct session *s, int fd)
{
    pthread_mutex_lock(&s->lock);
    if (s->state == SESSION_OPEN && !s->sent_close_notify) {
        /* One attempt, never blocking: if the socket buffer is full the
         * peer will see a truncated stream, which it reports. */
        s->io_fd = fd;
        bssl.ERR_clear_error();
        bssl.SSL_shutdown(s->ssl);
        bssl.ERR_clear_error();
        s->sent_close_notify = true;
    }
    pthread_mutex_unlock(&s->lock);
}

void
session_close_last(struct session *s, int fd)
{
    if (s->owner == getpid()) {
        session_shutdown(s, fd);
    }
}
