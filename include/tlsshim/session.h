/*
 * session.h - one wrapped TCP connection and its TLS session.
 *
 * A session is created when connect() or accept() hands the program a
 * connection that a policy rule matches.  No TLS byte is sent then: the
 * handshake runs on the first I/O, in whichever process does it (servers
 * accept and fork; the child talks).  The session is shared by every
 * descriptor dup'd from the first one and ends when the last is closed.
 *
 * Threads: one thread may block reading while another writes.  The SSL
 * object is used only under |lock|, and the lock is never held while
 * waiting for the socket: the shim's BIO is non-blocking.  A reader that
 * must wait for the peer calls the real recv() itself, outside |lock|,
 * with the program's own flags, so O_NONBLOCK, SO_RCVTIMEO, EINTR and
 * SA_RESTART behave exactly as without the shim, and hands what it got to
 * the BIO.  A writer that must wait polls, honouring SO_SNDTIMEO.
 *
 * Functions that return ssize_t or int return a count or 0 on success and
 * a negative errno on failure, so that the interposed calls can hand it on.
 */
#ifndef TLSSHIM_SESSION_H
#define TLSSHIM_SESSION_H

#include "tlsshim/boring.h"
#include "tlsshim/policy.h"
#include "tlsshim/sesscache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

/* SESSION_WHAT_MAX bounds the text that names a connection in logs. */
#define SESSION_WHAT_MAX 384

enum session_state {
    SESSION_PENDING,     /* wrapped, no TLS byte sent or received yet */
    SESSION_HANDSHAKING, /* handshake started, not finished */
    SESSION_OPEN,        /* handshake done; data flows */
    SESSION_FAILED,      /* handshake or stream failed: I/O gives |error| */
};

struct readiness_reg;

/* One wrapped connection.  Fields below |lock| are guarded by it, except
 * |epoll_regs|. */
struct session {
    atomic_int refs; /* fdtable slots plus calls in progress */
    int nfds;        /* fdtable slots; guarded by the table lock */

    const struct policy_rule *rule; /* the rule that matched */
    SSL_CTX *ctx;                   /* that rule's context (owned by init) */
    bool tls_client;                /* this end sends the ClientHello */
    char name[256];                 /* name for SNI and verification, or "" */
    bool name_is_ip;                /* |name| is an address: IP SAN, no SNI */
    char what[SESSION_WHAT_MAX];    /* "connect 1.2.3.4:443 (host)" for logs */
    char cache_key[SESSCACHE_KEY_MAX]; /* TLS client: "NAME|ADDR:PORT",
                                        * where its sessions are kept */

    pthread_mutex_t read_lock; /* one reader at a time; held while it
                                * waits in recv() for ciphertext */
    pthread_mutex_t lock;      /* serialises use of |ssl| and the fields
                                * below */
    enum session_state state;  /* where the connection is */
    int error;                 /* SESSION_FAILED: the errno to report */
    SSL *ssl;                  /* created at the first handshake step */
    int io_fd;                 /* descriptor the BIO uses for this call */
    int io_errno;              /* errno of the BIO's last failed syscall */
    pid_t owner;               /* process that ran the handshake */
    long deadline_ms;          /* CLOCK_MONOTONIC end of the handshake */
    short want;                /* handshake waits for POLLIN or POLLOUT */
    bool io_waited;            /* a read or write of the program found the
                                * handshake unfinished (EAGAIN) */
    unsigned char *inbuf;      /* read-ahead buffer, allocated while the
                                * connection is busy with small records */
    unsigned char head[5];     /* a record header received on its own
                                * (SSL3_RT_HEADER_LENGTH bytes) */
    unsigned char *in;         /* |inbuf| or |head|: ciphertext received
                                * and not yet handed to BoringSSL */
    size_t in_off;             /* first byte of |in| not yet handed */
    size_t in_len;             /* bytes received into |in| */
    bool exact;                /* records are large: receive exactly what
                                * BoringSSL asks for, without read-ahead */
    bool receiving;            /* a reader is in recv() into |in| */
    bool tcp_eof;              /* a waiting reader's recv() saw the end */
    bool drained;              /* the last recv() got less than it asked
                                * for: the socket was empty then */
    bool expect_wait;          /* the last read had to wait for the peer:
                                * wait before trying the next one */
    bool more_follows;         /* the record being written is not the
                                * last of the program's write: MSG_MORE */
    bool corked;               /* the last record went with MSG_MORE */
    bool sent_close_notify;    /* our close_notify is out */
    bool peer_closed;          /* the peer's close_notify arrived */
    unsigned reads;  /* read calls so far (for edge-triggered epoll) */
    bool wake_armed; /* an epoll wait found the session calm: the next read
                      * that leaves something for a wait to report calls
                      * the wake hook (session_set_wake_hook) */

    struct readiness_reg *epoll_regs; /* this session's epoll registrations;
                                       * owned by readiness.c and guarded
                                       * by its lock */
};

/* session_now_ms is the clock of handshake deadlines: CLOCK_MONOTONIC in
 * milliseconds.  Waits that sleep until a deadline read the same clock. */
long session_now_ms(void);

/* session_global_init prepares what all sessions share (the BIO method).
 * Called once at start-up after BoringSSL is loaded; returns 0 or -1. */
int session_global_init(void);

/* session_new allocates a PENDING session for descriptor |fd| (only used
 * for the log line) that rule |rule| with context |ctx| matched.  |peer| is
 * the remote address as the program sees it; |local| the local one;
 * |resolved| the name the program resolved for |peer| or NULL.  |verb| is
 * "connect" or "accept".  Returns NULL when out of memory.  The caller owns
 * one reference. */
struct session *session_new(int fd, const struct policy_rule *rule,
                            SSL_CTX *ctx, const struct sockaddr *peer,
                            const struct sockaddr *local, const char *resolved,
                            const char *verb);

/* session_ref takes one more reference to |s|. */
void session_ref(struct session *s);

/* session_unref drops a reference, freeing |s| with the last one.  NULL is
 * allowed. */
void session_unref(struct session *s);

/* session_read reads up to |len| bytes of plaintext through descriptor |fd|
 * into |buf|, running the handshake first if needed.  |flags| may hold
 * MSG_PEEK, MSG_DONTWAIT and MSG_WAITALL.  Returns the count, 0 at the
 * peer's close_notify, -EAGAIN when the socket is non-blocking (or the
 * timeout ran out) and nothing is ready, -EINTR when a signal interrupted a
 * wait, -ECONNRESET when the stream was cut without close_notify, or the
 * handshake's error. */
ssize_t session_read(struct session *s, int fd, void *buf, size_t len,
                     int flags);

/* session_write sends |len| bytes of |buf| through |fd| as TLS records,
 * running the handshake first if needed.  A blocking socket sends
 * everything unless interrupted; a non-blocking one (or MSG_DONTWAIT) may
 * send part and returns -EAGAIN if it can send nothing.  |flags| may hold
 * MSG_DONTWAIT, MSG_NOSIGNAL and MSG_MORE; without MSG_NOSIGNAL a write on
 * a closed connection raises SIGPIPE, as the kernel would.  With MSG_MORE
 * (more data follows at once) the last record waits in TCP for what comes
 * next, as a plain socket's data would.  Returns the count sent or a
 * negative errno. */
ssize_t session_write(struct session *s, int fd, const void *buf, size_t len,
                      int flags);

/* session_push sends what TCP holds back after a write with MSG_MORE when
 * nothing follows after all (a caller that stopped early), unless the
 * program corks the socket itself (TCP_CORK). */
void session_push(struct session *s, int fd);

/* session_handshake drives the handshake through |fd|.  A blocking caller
 * (|nonblock| false) waits until it completes or the rule's timeout runs
 * out; a non-blocking one makes what progress it can and gets -EAGAIN,
 * after which session_poll_state() says what the socket must become.
 * Returns 0 once the handshake is done, or the negative errno the program
 * will see, after logging why. */
int session_handshake(struct session *s, int fd, bool nonblock);

/* What a wait on a wrapped descriptor must look at (session_poll_state). */
struct session_poll {
    bool ready;     /* a read returns at once: plaintext is buffered, the peer
                     * closed, or the session failed */
    short want;     /* handshake in progress: POLLIN or POLLOUT it waits for,
                     * which replaces the program's own interest; else 0 */
    long left_ms;   /* handshake in progress: milliseconds until its
                     * handshake_timeout, which a wait must not sleep past
                     * (the timeout is noticed only when the program waits or
                     * calls again); else -1 */
    unsigned reads; /* how many reads the program has made: an
                     * edge-triggered wait reports |ready| once per read */
    bool calm;      /* open, nothing buffered, no close_notify: the kernel's
                     * word on the socket is all a wait needs */
};

/* session_poll_state fills |out| for |s|.  If |kick| and |s| is a TLS
 * client that has not sent its ClientHello yet, it sends it first (without
 * blocking): a program that waits to read before it writes (the server
 * speaks first in SMTP, FTP, POP3) would otherwise wait for ever. */
void session_poll_state(struct session *s, int fd, bool kick,
                        struct session_poll *out);

/* session_watch_state is session_poll_state without the ClientHello, for
 * epoll's waits.  When it finds |s| calm it also arms |s|: the next read
 * that leaves |s| not calm (plaintext or ciphertext buffered, the peer's
 * close_notify) calls the wake hook, so that a wait can stop looking at a
 * calm session until then.  A calm session leaves that state in no other
 * way: a failure shuts the socket down, which the kernel reports. */
void session_watch_state(struct session *s, int fd, struct session_poll *out);

/* session_set_wake_hook makes |hook| the function that an armed session's
 * read calls, after releasing the session's locks, when it leaves the
 * session not calm (see session_watch_state).  The read disarms it first,
 * so each arming calls |hook| at most once. */
void session_set_wake_hook(void (*hook)(struct session *s));

/* session_readable returns how many plaintext bytes a read through |fd|
 * would return without blocking, decrypting a record that has fully
 * arrived if nothing is buffered yet (for ioctl(FIONREAD)).  Runs the
 * handshake first if needed; returns a negative errno if that fails. */
int session_readable(struct session *s, int fd);

/* session_fail_untracked fails |s| with EMFILE, logging why: a copy of
 * its descriptor (|fd|) could not be tracked, so no copy may carry data. */
void session_fail_untracked(struct session *s, int fd);

/* session_shutdown sends close_notify (once) through |fd| without
 * blocking.  Used by shutdown(SHUT_WR/SHUT_RDWR) and by the close of the
 * last descriptor in the process that owns the session. */
void session_shutdown(struct session *s, int fd);

/* session_close_last is called when the last descriptor of |s| in this
 * process is about to be closed: it sends close_notify if this process ran
 * the handshake. */
void session_close_last(struct session *s, int fd);

#endif /* TLSSHIM_SESSION_H */
