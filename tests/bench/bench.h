/*
 * bench.h - what the benchmark programs share: the wire protocol between
 * bench_client and bench_server, the transport interface (plaintext sockets
 * or BoringSSL, chosen at link time), and small measuring helpers.
 *
 * Protocol.  The client sends fixed 64-byte requests; the server answers
 * each one and reads the next, until EOF:
 *   'R' n   the server writes n bytes back (request/response, ping-pong,
 *           connection churn, idle connections);
 *   'B' n   the client then writes n bytes, the server reads them all and
 *           answers with 8 bytes (bulk transfer);
 *   'S'     the server answers 64 bytes of text: its handshake counters
 *           (zero for plaintext) so the client can tell resumed handshakes.
 */
#ifndef TLSSHIM_BENCH_H
#define TLSSHIM_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_MAGIC    0x424e4348u /* "BNCH" */
#define BENCH_REQ_SIZE 64

struct bench_req {
    uint32_t magic;
    uint32_t op;
    uint64_t n;
    char pad[BENCH_REQ_SIZE - 16];
};

_Static_assert(sizeof(struct bench_req) == BENCH_REQ_SIZE, "request size");

/* --- transport: transport_plain.c or transport_tls.c --- */

struct tr_config {
    int server;       /* 1: accept side, 0: connect side */
    const char *cert; /* server: certificate chain (PEM) */
    const char *key;  /* server: its key */
    const char *ca;   /* client: CA file to verify the server with */
    const char *name; /* client: SNI and the name to verify */
    int resume;       /* client: offer the last session (tickets) */
    int info;         /* print the negotiated parameters to stderr */
};

struct tr_conn;

/* tr_name is "plain" or "tls". */
extern const char tr_name[];
/* tr_init prepares the transport once per process; 0 or -1 (message
 * printed). */
int tr_init(const struct tr_config *cfg);
/* tr_open takes a connected socket and does the handshake; NULL on failure
 * (the socket is then closed). */
struct tr_conn *tr_open(int fd);
/* tr_read reads at most n bytes: count, 0 at end of stream, -1 on error. */
ssize_t tr_read(struct tr_conn *c, void *buf, size_t n);
/* tr_write_some writes at most n bytes: the count written, or -1 on
 * error. */
ssize_t tr_write_some(struct tr_conn *c, const void *buf, size_t n);
/* tr_close ends the connection (close_notify for TLS) and frees it. */
void tr_close(struct tr_conn *c);
/* tr_resumed: 1 if the handshake resumed a session. */
int tr_resumed(const struct tr_conn *c);
/* tr_stats: handshakes completed and resumed in this process (server). */
void tr_stats(uint64_t *handshakes, uint64_t *resumed);

/* --- the same for both transports: transport.c --- */

/* The values getopt_long returns for the transport's command-line options
 * (beyond any character): the server takes --cert F, --key F and --info,
 * the client --ca F, --name N, --resume and --info. */
enum {
    TR_OPT_CERT = 0x100,
    TR_OPT_KEY,
    TR_OPT_CA,
    TR_OPT_NAME,
    TR_OPT_RESUME,
    TR_OPT_INFO,
};

/* tr_option applies option o (a TR_OPT_ value) with its argument arg to
 * cfg: 1, or 0 if o is not a transport option. */
int tr_option(struct tr_config *cfg, int o, const char *arg);
/* tr_start checks that the TLS transport has its files (exits if not),
 * ignores SIGPIPE, raises the descriptor limit and calls tr_init: 0 or -1
 * (message printed). */
int tr_start(const struct tr_config *cfg);
/* tr_write writes all n bytes: 0 or -1. */
int tr_write(struct tr_conn *c, const void *buf, size_t n);

/* --- helpers: bench_util.c --- */

/* read_full reads exactly n bytes: 0, or -1 on error or early EOF. */
static inline int
read_full(struct tr_conn *c, void *buf, size_t n)
{
    char *p = (char *)buf;

    while (n > 0) {
        ssize_t r = tr_read(c, p, n);
        if (r <= 0) {
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* now_sec: monotonic time in seconds. */
double now_sec(void);
/* proc_cpu_sec: CPU seconds process |pid| has used (all its threads),
 * from its CPU clock, or -1. */
double proc_cpu_sec(pid_t pid);
/* self_cpu_sec: the same for this process. */
double self_cpu_sec(void);
/* proc_rss_kib: VmRSS of pid (0 for this process); -1 if unreadable. */
long proc_rss_kib(pid_t pid);
/* parse_size accepts 123, 64k, 16K, 1m, 1g (binary units); exits on error. */
uint64_t parse_size(const char *s);
/* raise_nofile lifts the soft descriptor limit to the hard one. */
void raise_nofile(void);
/* cmp_double orders doubles, for qsort. */
int cmp_double(const void *a, const void *b);
/* die prints "bench: " and the message to stderr and exits 1. */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
