/*
 * bench_client.c - the benchmark's client: blocking sockets, the protocol
 * of bench.h.  Built twice: bench_client (plaintext, libc calls only: the
 * program tlsshim wraps) and bench_tls_client (BoringSSL directly).
 *
 *   bench_client --port P WORKLOAD [options]
 *
 * Workloads (one per run; the result is one line of key=value on stdout):
 *   check                  one 64-byte exchange; exit 0 if it worked
 *   bulk  --bytes N        N bytes client -> server in --chunk writes
 *   rr    --size S --count N      N requests of 64 bytes answered by S
 *                                 bytes on one connection (S = 64: ping-pong)
 *   churn --count N        N times: connect, handshake, one 64-byte
 *                          exchange, close
 *   conc  --threads T --size S --duration D [--idle N]
 *                          T connections, each a thread doing rr for D s,
 *                          beside N idle ones (each after one exchange)
 *                          held open for the whole run
 *   idle  --conns N        N connections open at once, each after one
 *                          exchange: resident memory per connection
 * Options:
 *   --watch PID,...        other processes on the path (server, proxies):
 *                          their CPU time (bulk; conc reports theirs per
 *                          request) and memory (idle) count too
 *   --ca F --name N        (TLS) CA file and the name to verify, also SNI
 *   --resume               (TLS) resume sessions with the last ticket
 *   --max-seconds S        stop churn/rr early after S seconds (default 60)
 *   --info                 (TLS) print each handshake's parameters
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_WATCH    16
#define CONC_SAMPLES 200000

static struct {
    const char *host;
    int port;
    uint64_t bytes, chunk, size, count, threads, conns, idle;
    double duration, max_seconds;
    pid_t watch[MAX_WATCH];
    int n_watch;
} opt = {
    .host = "127.0.0.1",
    .bytes = 1ull << 30,
    .chunk = 128 * 1024,
    .size = 64,
    .count = 10000,
    .threads = 1,
    .conns = 1000,
    .duration = 3,
    .max_seconds = 60,
};

/* connect_raw opens a TCP connection to the server: socket() and
 * connect(), as a legacy program does (no getaddrinfo: the shim then knows
 * the address only, and the policy names the server). */
static int
connect_raw(void)
{
    struct sockaddr_in sin;
    int fd, one = 1;

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)opt.port);
    if (inet_pton(AF_INET, opt.host, &sin.sin_addr) != 1) {
        die("not an IPv4 address: %s", opt.host);
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        die("socket: %m");
    }
    if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        fprintf(stderr, "bench: connect %s:%d: %m\n", opt.host, opt.port);
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static struct tr_conn *
open_conn(void)
{
    int fd = connect_raw();

    return fd < 0 ? NULL : tr_open(fd);
}

static int
send_req(struct tr_conn *c, uint32_t op, uint64_t n)
{
    struct bench_req req;

    memset(&req, 0, sizeof req);
    req.magic = BENCH_MAGIC;
    req.op = op;
    req.n = n;
    return tr_write(c, &req, sizeof req);
}

/* exchange sends an 'R' request for |size| bytes and reads them all. */
static int
exchange(struct tr_conn *c, uint64_t size, char *buf, size_t buf_size)
{
    if (send_req(c, 'R', size) != 0) {
        return -1;
    }
    while (size > 0) {
        size_t k = size > buf_size ? buf_size : (size_t)size;
        if (read_full(c, buf, k) != 0) {
            return -1;
        }
        size -= k;
    }
    return 0;
}

/* server_stats asks the server, on a connection of its own, how many
 * handshakes it has completed and resumed. */
static void
server_stats(unsigned long long *hs, unsigned long long *res)
{
    struct tr_conn *c = open_conn();
    char text[BENCH_REQ_SIZE];

    *hs = *res = 0;
    if (c == NULL) {
        return;
    }
    if (send_req(c, 'S', 0) == 0 && read_full(c, text, sizeof text) == 0) {
        text[sizeof text - 1] = '\0';
        if (sscanf(text, "handshakes=%llu resumed=%llu", hs, res) != 2) {
            *hs = *res = 0;
        }
    }
    tr_close(c);
}

/* others_cpu is the CPU time of the --watch'd processes, in seconds. */
static double
others_cpu(void)
{
    double sum = 0;
    int i;

    for (i = 0; i < opt.n_watch; i++) {
        double t = proc_cpu_sec(opt.watch[i]);
        if (t < 0) {
            die("cannot read the CPU time of pid %d", (int)opt.watch[i]);
        }
        sum += t;
    }
    return sum;
}

/* watched_cpu is the CPU time of this process and the --watch'd ones. */
static double
watched_cpu(void)
{
    return self_cpu_sec() + others_cpu();
}

static long
watched_rss(void)
{
    long sum = 0;
    int i;

    for (i = 0; i < opt.n_watch; i++) {
        long k = proc_rss_kib(opt.watch[i]);
        if (k < 0) {
            die("cannot read the memory of pid %d", (int)opt.watch[i]);
        }
        sum += k;
    }
    return sum;
}

/* quantile of sorted v[0..n): the smallest value with at least q of the
 * samples at or below it. */
static double
quantile(const double *v, size_t n, double q)
{
    size_t i;

    if (n == 0) {
        return NAN;
    }
    i = (size_t)ceil(q * (double)n);
    return v[i == 0 ? 0 : i - 1];
}

/* --- workloads --- */

static int
run_check(void)
{
    char buf[64];
    struct tr_conn *c = open_conn();

    if (c == NULL || exchange(c, sizeof buf, buf, sizeof buf) != 0) {
        fprintf(stderr, "bench: check: no answer from the server\n");
        return 1;
    }
    tr_close(c);
    printf("workload=check ok=1\n");
    return 0;
}

static int
run_bulk(void)
{
    char *buf = calloc(1, opt.chunk);
    struct tr_conn *c = open_conn();
    uint64_t left = opt.bytes, ack;
    double t0, c0, t1, c1, secs, cpu;

    if (buf == NULL || c == NULL) {
        return 1;
    }
    /* The handshake and the first exchange are not timed. */
    if (exchange(c, 64, buf, opt.chunk) != 0) {
        die("bulk: first exchange failed");
    }
    t0 = now_sec();
    c0 = watched_cpu();
    if (send_req(c, 'B', opt.bytes) != 0) {
        die("bulk: write failed");
    }
    while (left > 0) {
        size_t k = left > opt.chunk ? opt.chunk : (size_t)left;
        if (tr_write(c, buf, k) != 0) {
            die("bulk: write failed after %llu bytes",
                (unsigned long long)(opt.bytes - left));
        }
        left -= k;
    }
    if (read_full(c, &ack, sizeof ack) != 0 || ack != opt.bytes) {
        die("bulk: no acknowledgement from the server");
    }
    t1 = now_sec();
    c1 = watched_cpu();
    tr_close(c);
    secs = t1 - t0;
    cpu = c1 - c0;
    printf("workload=bulk bytes=%llu chunk=%llu secs=%.6f mb_per_s=%.1f "
           "cpu_s=%.3f cpu_s_per_gib=%.3f\n",
           (unsigned long long)opt.bytes, (unsigned long long)opt.chunk, secs,
           (double)opt.bytes / secs / 1e6, cpu,
           cpu * (double)(1ull << 30) / (double)opt.bytes);
    free(buf);
    return 0;
}

static int
run_rr(void)
{
    size_t buf_size = opt.size > 256 * 1024 ? 256 * 1024 : opt.size;
    char *buf = malloc(buf_size ? buf_size : 1);
    double *lat = malloc(opt.count * sizeof *lat);
    struct tr_conn *c = open_conn();
    uint64_t i, n = 0;
    double start, deadline, sum = 0;

    if (buf == NULL || lat == NULL || c == NULL) {
        return 1;
    }
    /* Warm up: handshake, caches, the server thread. */
    for (i = 0; i < 100; i++) {
        if (exchange(c, opt.size, buf, buf_size) != 0) {
            die("rr: warm-up exchange failed");
        }
    }
    start = now_sec();
    deadline = start + opt.max_seconds;
    for (i = 0; i < opt.count; i++) {
        double t = now_sec();
        if (exchange(c, opt.size, buf, buf_size) != 0) {
            die("rr: exchange %llu failed", (unsigned long long)i);
        }
        lat[n] = now_sec() - t;
        sum += lat[n];
        n++;
        if (lat[n - 1] + t > deadline) {
            break;
        }
    }
    double secs = now_sec() - start;
    tr_close(c);
    qsort(lat, n, sizeof *lat, cmp_double);
    printf("workload=rr size=%llu count=%llu rtt_med_us=%.2f rtt_p99_us=%.2f "
           "rtt_mean_us=%.2f req_per_s=%.0f\n",
           (unsigned long long)opt.size, (unsigned long long)n,
           quantile(lat, n, 0.5) * 1e6, quantile(lat, n, 0.99) * 1e6,
           sum / (double)n * 1e6, (double)n / secs);
    free(lat);
    free(buf);
    return 0;
}

static int
run_churn(void)
{
    char buf[64];
    unsigned long long hs0, res0, hs1, res1;
    uint64_t i, n = 0, local_resumed = 0;
    double start, secs;

    server_stats(&hs0, &res0);
    start = now_sec();
    for (i = 0; i < opt.count; i++) {
        struct tr_conn *c = open_conn();
        if (c == NULL || exchange(c, sizeof buf, buf, sizeof buf) != 0) {
            die("churn: connection %llu failed", (unsigned long long)i);
        }
        local_resumed += (uint64_t)tr_resumed(c);
        tr_close(c);
        n++;
        if (now_sec() - start > opt.max_seconds) {
            break;
        }
    }
    secs = now_sec() - start;
    server_stats(&hs1, &res1);
    /* The server's counters (TLS server only) also count the second stats
     * connection.  They tell whether a client that cannot see its own
     * handshakes (the plaintext client under the shim) resumed. */
    printf("workload=churn count=%llu secs=%.6f conn_per_s=%.1f "
           "client_resumed=%llu server_handshakes=%llu server_resumed=%llu\n",
           (unsigned long long)n, secs, (double)n / secs,
           (unsigned long long)local_resumed, hs1 - hs0, res1 - res0);
    return 0;
}

struct conc_thread {
    pthread_t tid;
    struct tr_conn *c;
    double *lat;
    uint64_t n, done;
    int failed;
};

static pthread_barrier_t conc_barrier;
static volatile double conc_deadline;

static void *
conc_main(void *arg)
{
    struct conc_thread *t = arg;
    size_t buf_size = opt.size > 65536 ? 65536 : opt.size;
    char *buf = malloc(buf_size ? buf_size : 1);

    t->c = open_conn();
    if (t->c == NULL || buf == NULL ||
        exchange(t->c, opt.size, buf, buf_size) != 0) {
        t->failed = 1;
    }
    pthread_barrier_wait(&conc_barrier); /* all connected, then the clock */
    pthread_barrier_wait(&conc_barrier);
    while (!t->failed) {
        double s = now_sec();
        if (s >= conc_deadline) {
            break;
        }
        if (exchange(t->c, opt.size, buf, buf_size) != 0) {
            t->failed = 1;
            break;
        }
        if (t->n < CONC_SAMPLES) {
            t->lat[t->n++] = now_sec() - s;
        }
        t->done++;
    }
    if (t->c != NULL) {
        tr_close(t->c);
    }
    free(buf);
    return NULL;
}

/* open_idle opens |n| connections, each after one exchange, for conc's
 * --idle.  Returns them (NULL when n is 0). */
static struct tr_conn **
open_idle(uint64_t n)
{
    struct tr_conn **cs = n > 0 ? calloc(n, sizeof *cs) : NULL;
    char buf[64];

    if (n > 0 && cs == NULL) {
        die("out of memory");
    }
    for (uint64_t i = 0; i < n; i++) {
        cs[i] = open_conn();
        if (cs[i] == NULL ||
            exchange(cs[i], sizeof buf, buf, sizeof buf) != 0) {
            die("idle connection %llu failed", (unsigned long long)i);
        }
    }
    return cs;
}

static int
run_conc(void)
{
    uint64_t k, total = 0, nlat = 0;
    struct conc_thread *th = calloc(opt.threads, sizeof *th);
    struct tr_conn **idle = open_idle(opt.idle);
    pthread_attr_t attr;
    double *all, start, secs, others0, others;

    if (th == NULL) {
        return 1;
    }
    pthread_barrier_init(&conc_barrier, NULL, (unsigned)opt.threads + 1);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (k = 0; k < opt.threads; k++) {
        th[k].lat = malloc(CONC_SAMPLES * sizeof(double));
        if (th[k].lat == NULL ||
            pthread_create(&th[k].tid, &attr, conc_main, &th[k]) != 0) {
            die("conc: cannot start thread %llu", (unsigned long long)k);
        }
    }
    pthread_barrier_wait(&conc_barrier);
    others0 = others_cpu();
    start = now_sec();
    conc_deadline = start + opt.duration;
    pthread_barrier_wait(&conc_barrier);
    for (k = 0; k < opt.threads; k++) {
        pthread_join(th[k].tid, NULL);
        if (th[k].failed) {
            die("conc: connection %llu failed", (unsigned long long)k);
        }
        total += th[k].done;
        nlat += th[k].n;
    }
    secs = now_sec() - start;
    others = others_cpu() - others0;
    all = malloc((nlat ? nlat : 1) * sizeof *all);
    nlat = 0;
    for (k = 0; k < opt.threads; k++) {
        memcpy(all + nlat, th[k].lat, th[k].n * sizeof *all);
        nlat += th[k].n;
        free(th[k].lat);
    }
    qsort(all, nlat, sizeof *all, cmp_double);
    for (k = 0; k < opt.idle; k++) {
        tr_close(idle[k]);
    }
    free(idle);
    printf("workload=conc threads=%llu idle=%llu size=%llu count=%llu "
           "req_per_s=%.0f lat_med_us=%.2f lat_p99_us=%.2f "
           "others_cpu_us_per_req=%.2f\n",
           (unsigned long long)opt.threads, (unsigned long long)opt.idle,
           (unsigned long long)opt.size, (unsigned long long)total,
           (double)total / secs, quantile(all, nlat, 0.5) * 1e6,
           quantile(all, nlat, 0.99) * 1e6,
           total > 0 ? others * 1e6 / (double)total : 0.0);
    free(all);
    free(th);
    return 0;
}

static int
run_idle(void)
{
    struct tr_conn **cs = calloc(opt.conns, sizeof *cs);
    char buf[64];
    long self0, others0, self1, others1;
    uint64_t i;

    if (cs == NULL) {
        return 1;
    }
    /* One connection first so that one-time costs (thread pools, TLS
     * contexts, the shim's first-use set-up) are outside the measurement. */
    {
        struct tr_conn *c = open_conn();
        if (c == NULL || exchange(c, sizeof buf, buf, sizeof buf) != 0) {
            die("idle: first connection failed");
        }
        tr_close(c);
    }
    usleep(200000);
    self0 = proc_rss_kib(0);
    others0 = watched_rss();
    for (i = 0; i < opt.conns; i++) {
        cs[i] = open_conn();
        if (cs[i] == NULL ||
            exchange(cs[i], sizeof buf, buf, sizeof buf) != 0) {
            die("idle: connection %llu failed", (unsigned long long)i);
        }
    }
    usleep(500000); /* let every server thread reach its blocking read */
    self1 = proc_rss_kib(0);
    others1 = watched_rss();
    for (i = 0; i < opt.conns; i++) {
        tr_close(cs[i]);
    }
    printf("workload=idle conns=%llu client_kib_per_conn=%.2f "
           "others_kib_per_conn=%.2f total_kib_per_conn=%.2f\n",
           (unsigned long long)opt.conns,
           (double)(self1 - self0) / (double)opt.conns,
           (double)(others1 - others0) / (double)opt.conns,
           (double)(self1 - self0 + others1 - others0) / (double)opt.conns);
    free(cs);
    return 0;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: bench_client --port P [--host ADDR] "
            "check|bulk|rr|churn|conc|idle\n"
            "  [--bytes N] [--chunk N] [--size N] [--count N] [--threads N]\n"
            "  [--duration S] [--conns N] [--idle N] [--max-seconds S]\n"
            "  [--watch PID,...]\n"
            "  [--ca FILE] [--name NAME] [--resume] [--info]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "host", required_argument, NULL, 'h' },
        { "port", required_argument, NULL, 'p' },
        { "bytes", required_argument, NULL, 'b' },
        { "chunk", required_argument, NULL, 'C' },
        { "size", required_argument, NULL, 's' },
        { "count", required_argument, NULL, 'n' },
        { "threads", required_argument, NULL, 't' },
        { "duration", required_argument, NULL, 'd' },
        { "conns", required_argument, NULL, 'N' },
        { "idle", required_argument, NULL, 'I' },
        { "max-seconds", required_argument, NULL, 'm' },
        { "watch", required_argument, NULL, 'w' },
        { "ca", required_argument, NULL, TR_OPT_CA },
        { "name", required_argument, NULL, TR_OPT_NAME },
        { "resume", no_argument, NULL, TR_OPT_RESUME },
        { "info", no_argument, NULL, TR_OPT_INFO },
        { NULL, 0, NULL, 0 },
    };
    struct tr_config cfg = { .server = 0, .name = "localhost" };
    const char *workload;
    int o;

    while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (o) {
        case 'h':
            opt.host = optarg;
            break;
        case 'p':
            opt.port = atoi(optarg);
            break;
        case 'b':
            opt.bytes = parse_size(optarg);
            break;
        case 'C':
            opt.chunk = parse_size(optarg);
            break;
        case 's':
            opt.size = parse_size(optarg);
            break;
        case 'n':
            opt.count = parse_size(optarg);
            break;
        case 't':
            opt.threads = parse_size(optarg);
            break;
        case 'd':
            opt.duration = atof(optarg);
            break;
        case 'N':
            opt.conns = parse_size(optarg);
            break;
        case 'I':
            opt.idle = parse_size(optarg);
            break;
        case 'm':
            opt.max_seconds = atof(optarg);
            break;
        case 'w': {
            char *save = NULL, *tok;
            for (tok = strtok_r(optarg, ",", &save); tok != NULL;
                 tok = strtok_r(NULL, ",", &save)) {
                if (opt.n_watch == MAX_WATCH) {
                    die("too many --watch pids");
                }
                opt.watch[opt.n_watch++] = (pid_t)atoi(tok);
            }
            break;
        }
        default:
            if (!tr_option(&cfg, o, optarg)) {
                usage();
            }
        }
    }
    if (opt.port <= 0 || opt.port > 65535 || optind != argc - 1 ||
        opt.chunk == 0 || opt.count == 0 || opt.threads == 0 ||
        opt.conns == 0) {
        usage();
    }
    workload = argv[optind];
    if (tr_start(&cfg) != 0) {
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(workload, "check") == 0) {
        return run_check();
    } else if (strcmp(workload, "bulk") == 0) {
        return run_bulk();
    } else if (strcmp(workload, "rr") == 0) {
        return run_rr();
    } else if (strcmp(workload, "churn") == 0) {
        return run_churn();
    } else if (strcmp(workload, "conc") == 0) {
        return run_conc();
    } else if (strcmp(workload, "idle") == 0) {
        return run_idle();
    }
    usage();
}
