/*
 * threads.c - one socket, a reader thread and a writer thread at once.
 *
 *   threads server PORT SECONDS    accept one connection on 127.0.0.1:PORT
 *   threads client PORT SECONDS    connect to 127.0.0.1:PORT
 *
 * Both ends then run two threads on the same descriptor: the writer sends a
 * pseudo-random stream (seeded by its role) in writes of varying sizes for
 * SECONDS, then shuts its side down (SHUT_WR); the reader reads the peer's
 * stream until end of file and checks every byte against the same
 * generator.  Both directions run at full speed at the same time, which is
 * what deadlocks a TLS layer that holds a lock across a blocking read.
 * Prints "sent N", "received N" and the checks; exits 1 if one fails.
 *
 *   threads echo PORT              accept one connection, echo until EOF
 *   threads timeouts PORT          against `echo`: SO_RCVTIMEO and EINTR
 *
 * `timeouts` checks that a read with SO_RCVTIMEO and no data fails with
 * EAGAIN after about the timeout, that SIGALRM (handler installed without
 * SA_RESTART) interrupts a blocked read with EINTR, and that the
 * connection still carries data afterwards.
 *
 * A watchdog thread ends a hung run with a message after SECONDS + 30 s
 * instead of stalling the test.
 */
#include "progutil.h"

#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#define SEED_SERVER 0x5eed5e7e7e7e0001ULL
#define SEED_CLIENT 0xc11e7c11e7c10002ULL

struct side {
    int fd;
    uint64_t seed;
    double seconds;
    unsigned long long count;       /* bytes sent or received */
    unsigned long long mismatch_at; /* first bad byte + 1, or 0 */
    int error;                      /* errno of a failed call, or 0 */
    int eof;                        /* the reader saw end of file */
};

static void *
writer_main(void *arg)
{
    struct side *w = arg;
    struct stream st;
    static unsigned char buf[65536];
    unsigned size = 1;
    double end = now_s() + w->seconds;

    stream_init(&st, w->seed);
    while (now_s() < end) {
        /* Sizes from 1 byte to 64 KiB: partial records, full records and
         * writes of many records. */
        size = (size * 7 + 13) % (unsigned)sizeof(buf) + 1;
        stream_fill(&st, buf, size);
        if (write_full(w->fd, buf, size) != 0) {
            w->error = errno;
            return NULL;
        }
        w->count += size;
    }
    if (shutdown(w->fd, SHUT_WR) != 0) {
        w->error = errno;
    }
    return NULL;
}

static void *
reader_main(void *arg)
{
    struct side *r = arg;
    struct stream st;
    static unsigned char buf[65536];

    stream_init(&st, r->seed);
    for (;;) {
        ssize_t n = read(r->fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            r->error = errno;
            return NULL;
        }
        if (n == 0) {
            r->eof = 1;
            return NULL;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (stream_byte(&st) != buf[i] && r->mismatch_at == 0) {
                r->mismatch_at = r->count + (unsigned long long)i + 1;
            }
        }
        r->count += (unsigned long long)n;
    }
}

/* The watchdog thread ends a hung run with a message after |arg|
 * seconds.  A thread rather than alarm(): the timeouts mode needs SIGALRM
 * for itself. */
static void *
watchdog_main(void *arg)
{
    static const char msg[] = "threads: FAIL: watchdog: still running, "
                              "deadlocked?\n";

    sleep(*(unsigned *)arg);
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(3);
}

static int
run_duplex(int fd, int is_server, double seconds)
{
    struct side w = { .fd = fd, .seconds = seconds };
    struct side r = { .fd = fd };
    pthread_t wt;
    pthread_t rt;
    double start = now_s();
    double took;

    w.seed = is_server ? SEED_SERVER : SEED_CLIENT;
    r.seed = is_server ? SEED_CLIENT : SEED_SERVER;
    if (pthread_create(&rt, NULL, reader_main, &r) != 0 ||
        pthread_create(&wt, NULL, writer_main, &w) != 0) {
        die("pthread_create");
    }
    pthread_join(wt, NULL);
    pthread_join(rt, NULL);
    took = now_s() - start;

    printf("sent %llu\n", w.count);
    printf("received %llu\n", r.count);
    printf("seconds %.2f\n", took);
    check(w.error == 0, "writer: no error (%s)",
          w.error ? strerror(w.error) : "none");
    check(r.error == 0, "reader: no error (%s)",
          r.error ? strerror(r.error) : "none");
    check(r.eof, "reader: ended at the peer's end of file");
    check(w.count > 1000000, "writer: sent more than 1 MB (%llu bytes)",
          w.count);
    check(r.count > 1000000, "reader: received more than 1 MB (%llu bytes)",
          r.count);
    check(r.mismatch_at == 0, "reader: every byte as generated (%s%llu)",
          r.mismatch_at ? "first mismatch at byte " : "",
          r.mismatch_at ? r.mismatch_at - 1 : r.count);
    if (close(fd) != 0) {
        die("close");
    }
    return checks_exit();
}

static int
accept_one(uint16_t port)
{
    int lfd = listen_on(port);
    int fd;

    printf("listening %u\n", port);
    fflush(stdout);
    fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
        die("accept");
    }
    close(lfd);
    return fd;
}

static int
run_echo(int fd)
{
    char buf[4096];

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            die("echo: read");
        }
        if (n == 0) {
            break;
        }
        if (write_full(fd, buf, (size_t)n) != 0) {
            die("echo: write");
        }
    }
    close(fd);
    return 0;
}

static volatile sig_atomic_t alarms;

static void
on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static int
run_timeouts(int fd)
{
    struct timeval tv = { .tv_sec = 0, .tv_usec = 500000 };
    struct itimerval it = { .it_value = { .tv_sec = 0, .tv_usec = 400000 } };
    struct sigaction sa;
    char buf[64];
    ssize_t n;
    double t0;
    double took;
    int err;

    /* The handshake runs on the first I/O: a round trip first, so that the
     * timings below measure only the waits. */
    write_str(fd, "hello\n");
    expect_str(fd, "hello\n", "echo before the timeouts");

    /* 1. SO_RCVTIMEO: nothing to read, so EAGAIN after about 0.5 s. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
        die("setsockopt SO_RCVTIMEO");
    }
    t0 = now_s();
    n = read(fd, buf, sizeof(buf));
    err = errno;
    took = now_s() - t0;
    printf("rcvtimeo: read returned %zd (%s) after %.3f s\n", n,
           n < 0 ? strerror(err) : "data", took);
    check(n == -1 && (err == EAGAIN || err == EWOULDBLOCK),
          "SO_RCVTIMEO: read fails with EAGAIN (got %zd, %s)", n,
          n < 0 ? strerror(err) : "no error");
    check(took >= 0.4 && took < 2.0, "SO_RCVTIMEO: after about 0.5 s (%.3f s)",
          took);

    /* 2. A signal interrupts a blocked read: EINTR, not a restart. */
    tv.tv_usec = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
        die("setsockopt SO_RCVTIMEO 0");
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART */
    if (sigaction(SIGALRM, &sa, NULL) != 0) {
        die("sigaction");
    }
    if (setitimer(ITIMER_REAL, &it, NULL) != 0) {
        die("setitimer");
    }
    t0 = now_s();
    n = read(fd, buf, sizeof(buf));
    err = errno;
    took = now_s() - t0;
    printf("eintr: read returned %zd (%s) after %.3f s, %d alarm(s)\n", n,
           n < 0 ? strerror(err) : "data", took, (int)alarms);
    check(n == -1 && err == EINTR,
          "SIGALRM: read fails with EINTR (got %zd, %s)", n,
          n < 0 ? strerror(err) : "no error");
    check(alarms == 1, "SIGALRM: the handler ran once (%d)", (int)alarms);
    check(took >= 0.3 && took < 2.0, "SIGALRM: after about 0.4 s (%.3f s)",
          took);

    /* 3. The connection is intact after both. */
    write_str(fd, "still there\n");
    expect_str(fd, "still there\n", "echo after the timeouts");
    shutdown(fd, SHUT_WR);
    n = read(fd, buf, sizeof(buf));
    check(n == 0, "end of file after shutdown (read returned %zd)", n);
    close(fd);
    return checks_exit();
}

/* main starts the watchdog and runs the mode: see the top of the file. */
int
main(int argc, char **argv)
{
    static const char usage[] = "usage: threads server|client PORT "
                                "[SECONDS]\n"
                                "       threads echo|timeouts PORT\n";
    static unsigned watchdog_seconds;
    pthread_t watchdog;
    const char *mode = start_mode(argc, argv, 3, usage, "server", "client",
                                  "echo", "timeouts", NULL);
    double seconds = argc > 3 ? atof(argv[3]) : 3.0;

    watchdog_seconds = (unsigned)seconds + 30;
    if (pthread_create(&watchdog, NULL, watchdog_main, &watchdog_seconds) !=
        0) {
        die("pthread_create");
    }

    if (strcmp(mode, "server") == 0) {
        return run_duplex(accept_one(parse_port(argv[2])), 1, seconds);
    }
    if (strcmp(mode, "client") == 0) {
        return run_duplex(connect_to(parse_port(argv[2])), 0, seconds);
    }
    if (strcmp(mode, "echo") == 0) {
        return run_echo(accept_one(parse_port(argv[2])));
    }
    return run_timeouts(connect_to(parse_port(argv[2])));
}
