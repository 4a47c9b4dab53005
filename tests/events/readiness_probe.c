/*
 * readiness_probe.c - checks that poll, select and epoll see plaintext that
 * waits inside a TLS session, under the shim, against a real TLS peer.
 *
 *     tlsshim -p client.conf -- readiness_probe 127.0.0.1 PORT [SILENT_PORT]
 *
 * The peer is tests/integration/helpers/events_tls_peer.py: it sends TLS
 * records in the shapes this program asks for (two records at once, one
 * record of 16 KiB, a record after a delay, or nothing while it stops
 * reading).  The program itself is plaintext and non-blocking, like an event
 * loop: every connection is made with a non-blocking connect, and the
 * handshake runs inside its own read and write calls, driven by poll or by
 * edge-triggered epoll.
 *
 * With SILENT_PORT (a socket that listens but never answers, whose rule has
 * handshake_timeout = 2), it also checks that a program waiting for ever in
 * poll, select or epoll is woken when the handshake times out.
 *
 * Each check prints "ok NAME" or "FAIL NAME: why"; the exit status is the
 * number of failed checks (0: all passed).  It needs nothing but libc, so
 * the test script can build it with cc when the build tree lacks it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *peer_host;
static int peer_port;
static int failures;
static const char *current;

/* The most wake-ups a handshake may cost an event loop: a TLS 1.3
 * handshake needs one round trip, the connect another; a few spare for
 * session tickets.  A shim that spins makes thousands. */
#define MAX_HANDSHAKE_WAKEUPS 12

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static bool
failf(const char *fmt, ...)
{
    va_list ap;

    printf("FAIL %s: ", current);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    failures++;
    return false;
}

static void
ok(void)
{
    printf("ok %s\n", current);
    fflush(stdout);
}

/* open_nb starts a non-blocking connect to the peer.  Returns the fd. */
static int
open_nb(void)
{
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_port = htons((uint16_t)peer_port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;

    if (fd < 0) {
        perror("socket");
        exit(100);
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    inet_pton(AF_INET, peer_host, &sin.sin_addr);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 &&
        errno != EINPROGRESS) {
        perror("connect");
        exit(100);
    }
    return fd;
}

/* send_cmd_poll writes |cmd| on a fresh non-blocking socket, driving the
 * handshake with poll(POLLOUT) as an event loop would.  Counts the
 * wake-ups in |*wakeups|.  Returns false after reporting a failure. */
static bool
send_cmd_poll(int fd, const char *cmd, int *wakeups)
{
    size_t len = strlen(cmd);
    size_t off = 0;
    long deadline = now_ms() + 5000;

    *wakeups = 0;
    while (off < len) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        ssize_t n;
        int rc;

        if (now_ms() > deadline) {
            return failf("command %.*s not written after 5 s", (int)len - 1,
                         cmd);
        }
        rc = poll(&p, 1, 2000);
        if (rc < 0) {
            return failf("poll: %s", strerror(errno));
        }
        if (rc == 0) {
            return failf("poll(POLLOUT) timed out during the handshake");
        }
        ++*wakeups;
        n = write(fd, cmd + off, len - off);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            return failf("write: %s", strerror(errno));
        }
    }
    if (*wakeups > MAX_HANDSHAKE_WAKEUPS) {
        return failf("%d wake-ups to get through the handshake (spinning?)",
                     *wakeups);
    }
    return true;
}

/* wait_readable_poll waits at most |ms| for POLLIN. */
static bool
wait_readable_poll(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* read_exactly reads |want| bytes, waiting with poll, into |buf|; returns
 * how many it got within |ms|. */
static size_t
read_exactly(int fd, char *buf, size_t want, int ms)
{
    size_t got = 0;
    long deadline = now_ms() + ms;

    while (got < want && now_ms() < deadline) {
        ssize_t n = read(fd, buf + got, want - got);

        if (n > 0) {
            got += (size_t)n;
        } else if (n == 0) {
            break;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            wait_readable_poll(fd, (int)(deadline - now_ms()));
        } else {
            break;
        }
    }
    return got;
}

/* The five ways to ask "is it readable now?" without waiting.  Each
 * returns true if the fd is reported readable. */

static bool
now_poll(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static bool
now_ppoll(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    struct timespec zero = { 0, 0 };

    return ppoll(&p, 1, &zero, NULL) == 1 && (p.revents & POLLIN);
}

static bool
now_select(int fd)
{
    fd_set r;
    struct timeval zero = { 0, 0 };

    FD_ZERO(&r);
    FD_SET(fd, &r);
    return select(fd + 1, &r, NULL, NULL, &zero) == 1 && FD_ISSET(fd, &r);
}

static bool
now_pselect(int fd)
{
    fd_set r;
    struct timespec zero = { 0, 0 };

    FD_ZERO(&r);
    FD_SET(fd, &r);
    return pselect(fd + 1, &r, NULL, NULL, &zero, NULL) == 1 &&
           FD_ISSET(fd, &r);
}

static bool
now_epoll(int fd, uint32_t extra, int which)
{
    struct epoll_event ev = { .events = EPOLLIN | extra, .data.u64 = 0x1234 };
    struct epoll_event out[4];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int n;

    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        failf("epoll setup: %s", strerror(errno));
        return false;
    }
    if (which == 0) {
        n = epoll_wait(ep, out, 4, 0);
    } else if (which == 1) {
        n = epoll_pwait(ep, out, 4, 0, NULL);
    } else {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 35)
        struct timespec zero = { 0, 0 };

        n = epoll_pwait2(ep, out, 4, &zero, NULL);
#else
        n = epoll_pwait(ep, out, 4, 0, NULL);
#endif
    }
    close(ep);
    if (n == 1 && out[0].data.u64 != 0x1234) {
        failf("epoll returned data %#llx, not the program's 0x1234",
              (unsigned long long)out[0].data.u64);
        return false;
    }
    return n == 1 && (out[0].events & EPOLLIN);
}

/* all_report_readable asks every mechanism; reports which ones say no. */
static bool
all_report_readable(int fd, const char *when)
{
    struct {
        const char *name;
        bool ready;
    } r[] = {
        { "poll", now_poll(fd) },
        { "ppoll", now_ppoll(fd) },
        { "select", now_select(fd) },
        { "pselect", now_pselect(fd) },
        { "epoll_wait", now_epoll(fd, 0, 0) },
        { "epoll_pwait", now_epoll(fd, 0, 1) },
        { "epoll_pwait2", now_epoll(fd, 0, 2) },
        { "epoll_wait(EPOLLET)", now_epoll(fd, EPOLLET, 0) },
    };
    bool all = true;

    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        if (!r[i].ready) {
            failf("%s: %s with timeout 0 says not readable", when, r[i].name);
            all = false;
        }
    }
    return all;
}

/* Check: one 16 KiB record; after reading 1 byte, 16383 wait decrypted
 * inside the session while the socket itself is empty. */
static void
check_big_record(void)
{
    static char buf[16384];
    int wakeups;
    int fd = open_nb();
    size_t got;

    current = "big_record_buffered";
    if (!send_cmd_poll(fd, "BIG\n", &wakeups)) {
        close(fd);
        return;
    }
    if (!wait_readable_poll(fd, 3000)) {
        failf("no POLLIN within 3 s after asking for a record");
        close(fd);
        return;
    }
    got = read_exactly(fd, buf, 1, 3000);
    if (got != 1) {
        failf("could not read the first byte");
        close(fd);
        return;
    }
    /* Give the kernel a moment: nothing more arrives, so whatever is
     * reported readable now is reported for the session's buffer. */
    usleep(100 * 1000);
    if (all_report_readable(fd, "1 of 16384 bytes read")) {
        got = read_exactly(fd, buf + 1, sizeof(buf) - 1, 3000);
        if (got != sizeof(buf) - 1) {
            failf("read %zu of the remaining 16383 bytes", got);
        } else if (buf[0] != 'c' || buf[16383] != 'c') {
            failf("wrong content");
        } else if (now_poll(fd) || now_select(fd) || now_epoll(fd, 0, 0)) {
            /* After everything was read, nothing is readable any more
             * (else an event loop spins). */
            ssize_t n = read(fd, buf, 1);

            if (!(n < 0 && errno == EAGAIN)) {
                failf("readable after the record was read, read gives %zd", n);
            } else if (now_poll(fd)) {
                failf("still reported readable after read said EAGAIN: an "
                      "event loop would spin");
            } else {
                ok();
            }
        } else {
            ok();
        }
    }
    close(fd);
}

/* Check: two records sent at once; both sit in the socket; reading the
 * first one partially and then the rest. */
static void
check_two_records(void)
{
    char buf[4096];
    int wakeups;
    int fd = open_nb();
    size_t got = 0;
    ssize_t n;

    current = "two_records_partial_read";
    if (!send_cmd_poll(fd, "TWO 100 100\n", &wakeups)) {
        close(fd);
        return;
    }
    if (!wait_readable_poll(fd, 3000)) {
        failf("no POLLIN within 3 s");
        close(fd);
        return;
    }
    usleep(200 * 1000); /* both records are in the socket now */
    if (read_exactly(fd, buf, 1, 3000) != 1) {
        failf("could not read 1 byte");
        close(fd);
        return;
    }
    got = 1;
    if (!all_report_readable(fd, "1 of 200 bytes read")) {
        close(fd);
        return;
    }
    n = read(fd, buf + got, sizeof(buf) - got);
    if (n <= 0) {
        failf("read after readiness: %zd (%s)", n, strerror(errno));
        close(fd);
        return;
    }
    got += (size_t)n;
    if (got < 200 && !all_report_readable(fd, "first record read")) {
        close(fd);
        return;
    }
    got += read_exactly(fd, buf + got, 200 - got, 3000);
    if (got != 200 || buf[0] != 'a' || buf[199] != 'b') {
        failf("got %zu bytes, want 200 (a*100 b*100)", got);
    } else {
        ok();
    }
    close(fd);
}

/* et_loop runs an nginx-like edge-triggered loop on |fd| registered in
 * |ep| until |want| bytes were read or |ms| passed.  Like nginx, a read
 * shorter than the buffer is taken to mean the socket is drained and the
 * loop goes back to epoll_wait.  Returns the bytes read. */
static size_t
et_loop(int ep, int fd, char *buf, size_t bufsize, size_t want, int ms,
        int *waits)
{
    long deadline = now_ms() + ms;
    size_t got = 0;

    *waits = 0;
    while (got < want) {
        struct epoll_event ev[4];
        long left = deadline - now_ms();
        int n;

        if (left <= 0) {
            break;
        }
        n = epoll_wait(ep, ev, 4, (int)left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        ++*waits;
        if (ev[0].data.u64 != 0xfeedULL) {
            failf("epoll returned data %#llx, not the program's",
                  (unsigned long long)ev[0].data.u64);
            return got;
        }
        if (!(ev[0].events & EPOLLIN)) {
            continue;
        }
        for (;;) {
            ssize_t r = read(fd, buf, bufsize);

            if (r <= 0) {
                break;
            }
            got += (size_t)r;
            if ((size_t)r < bufsize) {
                break; /* short read: nginx assumes the socket is empty */
            }
        }
    }
    return got;
}

/* Check: edge-triggered epoll, as nginx uses it (EPOLLIN | EPOLLOUT |
 * EPOLLRDHUP | EPOLLET, registered before the handshake), through the
 * handshake, two records arriving at once, and a record arriving later. */
static void
check_edge_triggered(void)
{
    char buf[4096];
    struct epoll_event reg = { .events =
                                   EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                               .data.u64 = 0xfeedULL };
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int fd = open_nb();
    const char *cmd = "TWO 100 100\n";
    size_t off = 0;
    int wakeups = 0;
    int waits;
    long t0;
    size_t got;

    current = "epoll_et_handshake";
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &reg) != 0) {
        failf("epoll_ctl: %s", strerror(errno));
        return;
    }
    /* Drive the handshake with the program's writes, woken by the edge
     * events only. */
    while (off < strlen(cmd)) {
        struct epoll_event ev[4];
        int n = epoll_wait(ep, ev, 4, 2000);

        if (n <= 0) {
            failf("epoll_wait gave %d during the handshake after %d "
                  "wake-ups (lost wake-up)",
                  n, wakeups);
            goto out;
        }
        if (++wakeups > MAX_HANDSHAKE_WAKEUPS) {
            failf("more than %d wake-ups in the handshake (spinning?)",
                  MAX_HANDSHAKE_WAKEUPS);
            goto out;
        }
        if (ev[0].data.u64 != 0xfeedULL) {
            failf("epoll returned data %#llx, not the program's",
                  (unsigned long long)ev[0].data.u64);
            goto out;
        }
        /* Edge-triggered: write until EAGAIN, as nginx does. */
        for (;;) {
            ssize_t w = write(fd, cmd + off, strlen(cmd) - off);

            if (w > 0) {
                off += (size_t)w;
                if (off == strlen(cmd)) {
                    break;
                }
            } else {
                break;
            }
        }
    }
    ok();

    current = "epoll_et_two_records_short_read";
    got = et_loop(ep, fd, buf, sizeof(buf), 200, 3000, &waits);
    if (got != 200) {
        failf("read %zu of 200 bytes; epoll_wait (EPOLLET) gave no further "
              "event after a short read while the second record waited "
              "(lost wake-up, %d wake-ups)",
              got, waits);
        goto out;
    }
    ok();

    current = "epoll_et_later_record";
    /* Drain to EAGAIN, then the peer sends after a pause: the edge must
     * come. */
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    if (write(fd, "LATER 300 50\n", 13) != 13) {
        failf("write: %s", strerror(errno));
        goto out;
    }
    t0 = now_ms();
    got = et_loop(ep, fd, buf, sizeof(buf), 50, 3000, &waits);
    if (got != 50) {
        failf("read %zu of 50 bytes sent after 300 ms (%d wake-ups)", got,
              waits);
    } else if (now_ms() - t0 < 250) {
        failf("the data came after %ld ms, before the peer sent it?",
              now_ms() - t0);
    } else if (waits > 6) {
        failf("%d wake-ups for one record (spinning?)", waits);
    } else {
        ok();
    }
out:
    close(fd);
    close(ep);
}

/* EPOLL_IDLE is how many idle connections share the epoll instance of the
 * registration checks: more than the shim's first registration hash. */
#define EPOLL_IDLE 100

/* open_idle opens a connection, completes its handshake and reads what the
 * server sent after it (session tickets), so that it sits idle. */
static int
open_idle(void)
{
    char c;
    int wakeups;
    int fd = open_nb();

    if (!send_cmd_poll(fd, "\n", &wakeups)) { /* an empty line: ignored */
        close(fd);
        return -1;
    }
    usleep(2000);
    while (read(fd, &c, 1) > 0) {
    }
    return fd;
}

/* idle_fds and idle_reports: the idle connections of the registration
 * checks, and how often each was reported. */
static int idle_fds[EPOLL_IDLE];
static int idle_reports[EPOLL_IDLE];

/* wait_events waits on |ep| for at most |ms|, with room for 8 events in
 * |out|, and returns the count, or -1 after a failure.  An idle connection
 * (data 0x1000 + its index) may be reported for what its server sent late
 * after the handshake (session tickets, which a read consumes without
 * returning data); it fails the check if a read then returns anything or
 * if it is reported again and again (a wait that reports it for nothing
 * makes an event loop spin). */
static int
wait_events(int ep, struct epoll_event *out, int ms)
{
    int n = epoll_wait(ep, out, 8, ms);

    for (int i = 0; i < n; i++) {
        uint64_t k = out[i].data.u64 - 0x1000;
        char c;
        ssize_t r;

        if (out[i].data.u64 < 0x1000 || k >= EPOLL_IDLE) {
            continue;
        }
        r = read(idle_fds[k], &c, 1);
        if (r >= 0 || errno != EAGAIN || ++idle_reports[k] > 3) {
            failf("idle connection %llu reported (events %#x): read gives "
                  "%zd, %d reports",
                  (unsigned long long)k, out[i].events, r, idle_reports[k]);
            return -1;
        }
        out[i--] = out[--n]; /* not the program's concern */
    }
    return n;
}

/* read_first waits on |ep| (level-triggered) and reads until one byte of
 * plaintext arrives in |c|. */
static bool
read_first(int ep, int fd, char *c)
{
    long deadline = now_ms() + 3000;

    while (now_ms() < deadline) {
        struct epoll_event ev[8];
        int n = wait_events(ep, ev, (int)(deadline - now_ms()));

        if (n < 0) {
            return false;
        }
        if (read(fd, c, 1) == 1) {
            return true;
        }
    }
    return failf("no byte within 3 s");
}

/* Check: registrations that stay in one epoll instance while their
 * sessions go from idle to holding buffered plaintext and back, beside
 * EPOLL_IDLE idle connections that must never be reported: level-triggered
 * (a wait that found the session idle must see the plaintext a later read
 * left behind), EPOLLONESHOT (one event per arming, buffered plaintext
 * included), and an epoll instance closed with buffered plaintext in it
 * (a new instance with the same number knows nothing of it). */
static void
check_epoll_registrations(void)
{
    static char buf[16384];
    int *idle = idle_fds;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int fd = -1;
    struct epoll_event ev[8];
    struct epoll_event reg;
    char c;
    int wakeups;
    int n;

    current = "epoll_lt_idle_then_buffered";
    for (int i = 0; i < EPOLL_IDLE; i++) {
        idle[i] = open_idle();
        reg.events = EPOLLIN | EPOLLRDHUP;
        reg.data.u64 = 0x1000 + (uint64_t)i;
        if (idle[i] < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, idle[i], &reg) != 0) {
            failf("idle connection %d: %s", i, strerror(errno));
            while (i-- > 0) {
                close(idle[i]);
            }
            close(ep);
            return;
        }
    }
    fd = open_nb();
    reg.events = EPOLLIN;
    reg.data.u64 = 0xabc;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &reg) != 0 ||
        !send_cmd_poll(fd, "LATER 300 16384\n", &wakeups)) {
        failf("setup: %s", strerror(errno));
        goto out;
    }
    /* Nothing has arrived: these waits find every session idle. */
    if (wait_events(ep, ev, 0) < 0 || wait_events(ep, ev, 50) < 0 ||
        !read_first(ep, fd, &c)) {
        goto out;
    }
    n = wait_events(ep, ev, 0);
    if (n != 1 || ev[0].data.u64 != 0xabc || !(ev[0].events & EPOLLIN)) {
        failf("1 of 16384 bytes read: epoll_wait gave %d events (first data "
              "%#llx), want EPOLLIN for the connection",
              n, n > 0 ? (unsigned long long)ev[0].data.u64 : 0ULL);
        goto out;
    }
    if (read_exactly(fd, buf, sizeof(buf) - 1, 3000) != sizeof(buf) - 1) {
        failf("could not read the rest of the record");
        goto out;
    }
    if ((n = wait_events(ep, ev, 0)) != 0) {
        failf("%d events after everything was read: an event loop spins", n);
        goto out;
    }
    ok();

    current = "epoll_oneshot";
    reg.events = EPOLLIN | EPOLLONESHOT;
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &reg) != 0 ||
        write(fd, "TWO 100 100\n", 12) != 12) {
        failf("setup: %s", strerror(errno));
        goto out;
    }
    n = wait_events(ep, ev, 3000);
    if (n != 1 || read(fd, &c, 1) != 1) {
        failf("no event for the first record (%d)", n);
        goto out;
    }
    usleep(100 * 1000);
    if ((n = wait_events(ep, ev, 0)) != 0) {
        failf("%d events before the program re-armed its one-shot "
              "registration (another thread may hold the connection)",
              n);
        goto out;
    }
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &reg) != 0 ||
        (n = wait_events(ep, ev, 0)) != 1 || ev[0].data.u64 != 0xabc) {
        failf("re-armed with 199 bytes buffered: %d events, want 1", n);
        goto out;
    }
    if ((n = wait_events(ep, ev, 0)) != 0) {
        failf("%d events after the one event of that arming", n);
        goto out;
    }
    buf[0] = c;
    if (read_exactly(fd, buf + 1, 199, 3000) != 199 || buf[0] != 'a' ||
        buf[199] != 'b') {
        failf("wrong content after the one-shot events");
        goto out;
    }
    ok();

    current = "epoll_closed_instance_forgotten";
    reg.events = EPOLLIN;
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &reg) != 0 ||
        write(fd, "BIG\n", 4) != 4 || !read_first(ep, fd, &c)) {
        failf("setup: %s", strerror(errno));
        goto out;
    }
    {
        int old = ep;

        close(ep);
        ep = epoll_create1(EPOLL_CLOEXEC);
        if (ep != old) {
            failf("the new epoll instance got descriptor %d, not %d", ep, old);
            goto out;
        }
    }
    usleep(100 * 1000);
    if ((n = epoll_wait(ep, ev, 8, 0)) != 0) {
        failf("a new epoll instance reports %d events (data %#llx) of "
              "the closed one",
              n, (unsigned long long)ev[0].data.u64);
        goto out;
    }
    if (read_exactly(fd, buf, sizeof(buf) - 1, 3000) != sizeof(buf) - 1) {
        failf("could not read the rest of the record");
        goto out;
    }
    ok();
out:
    if (fd >= 0) {
        close(fd);
    }
    for (int i = 0; i < EPOLL_IDLE; i++) {
        close(idle[i]);
    }
    close(ep);
}

/* Check: shutdown and close of non-blocking sockets return at once: with
 * the send buffer full (the peer does not read), and in the middle of a
 * handshake. */
static void
check_close_nonblocking(int silent_port)
{
    static char chunk[65536];
    int wakeups;
    int fd = open_nb();
    size_t sent = 0;
    long t0;
    long dt;

    current = "shutdown_close_full_buffer";
    if (!send_cmd_poll(fd, "SINK\n", &wakeups)) {
        close(fd);
        return;
    }
    usleep(100 * 1000);
    t0 = now_ms();
    for (;;) {
        ssize_t n = write(fd, chunk, sizeof(chunk));

        if (n > 0) {
            sent += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            failf("write: %zd %s", n, strerror(errno));
            close(fd);
            return;
        }
        if (now_ms() - t0 > 5000) {
            failf("write never said EAGAIN (%zu bytes sent)", sent);
            close(fd);
            return;
        }
    }
    t0 = now_ms();
    if (shutdown(fd, SHUT_WR) != 0) {
        failf("shutdown(SHUT_WR): %s", strerror(errno));
    }
    dt = now_ms() - t0;
    if (dt > 200) {
        failf("shutdown(SHUT_WR) took %ld ms with a full send buffer", dt);
    }
    t0 = now_ms();
    close(fd);
    dt = now_ms() - t0;
    if (dt > 200) {
        failf("close took %ld ms with a full send buffer", dt);
    } else {
        ok();
    }

    current = "close_during_handshake";
    /* Against the silent peer the handshake cannot finish before the
     * close (the real peer may answer so fast, on a loaded machine, that
     * the first write completes it). */
    if (silent_port > 0) {
        int saved = peer_port;

        peer_port = silent_port;
        fd = open_nb();
        peer_port = saved;
    } else {
        fd = open_nb();
    }
    {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        ssize_t n;

        poll(&p, 1, 2000);
        int err;

        n = write(fd, "x", 1); /* starts the handshake: ClientHello out */
        err = errno;
        if (n == 1 && silent_port <= 0) {
            /* The handshake finished in one call: nothing to test. */
            err = EAGAIN;
            n = -1;
        } else if (n >= 0 || err != EAGAIN) {
            failf("first write of a non-blocking socket: %zd (%s), want "
                  "EAGAIN while the handshake runs",
                  n, n < 0 ? strerror(err) : "no error");
        }
        t0 = now_ms();
        shutdown(fd, SHUT_RDWR);
        close(fd);
        dt = now_ms() - t0;
        if (dt > 200) {
            failf("shutdown+close in mid-handshake took %ld ms", dt);
        } else if (n < 0 && err == EAGAIN) {
            ok();
        }
    }
}

/* wait_for_ever waits on |fd| with mechanism |how| (0 poll, 1 select, 2
 * epoll) with no timeout of its own, but at most 10 s (an alarm), and
 * returns how long it slept in ms, or -1 if the alarm ended it. */
static volatile sig_atomic_t alarmed;

static void
on_alarm(int sig)
{
    (void)sig;
    alarmed = 1;
}

static long
wait_for_ever(int fd, int how)
{
    struct sigaction sa = { .sa_handler = on_alarm };
    long t0 = now_ms();
    int rc;

    sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: the wait ends */
    alarmed = 0;
    alarm(10);
    if (how == 0) {
        struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

        rc = poll(&p, 1, -1);
    } else if (how == 1) {
        fd_set r, w;

        FD_ZERO(&r);
        FD_ZERO(&w);
        FD_SET(fd, &r);
        FD_SET(fd, &w);
        rc = select(fd + 1, &r, &w, NULL, NULL);
    } else {
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET,
                                  .data.u64 = 7 };
        struct epoll_event out[2];
        int ep = epoll_create1(EPOLL_CLOEXEC);

        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        rc = epoll_wait(ep, out, 2, -1);
        close(ep);
    }
    alarm(0);
    (void)rc;
    return alarmed ? -1 : now_ms() - t0;
}

/* Check: a peer that accepts TCP but never answers the ClientHello; the
 * rule's handshake_timeout is 2 s.  A program that waits without a timeout
 * of its own must be woken when the handshake times out, and its next
 * write must fail with ETIMEDOUT. */
static void
check_handshake_timeout(int silent_port, int how)
{
    static const char *names[] = { "handshake_timeout_wakes_poll",
                                   "handshake_timeout_wakes_select",
                                   "handshake_timeout_wakes_epoll" };
    int saved = peer_port;
    struct pollfd p;
    int fd;
    ssize_t n;
    long slept;

    current = names[how];
    peer_port = silent_port;
    fd = open_nb();
    peer_port = saved;
    p.fd = fd;
    p.events = POLLOUT;
    poll(&p, 1, 2000);     /* the TCP connect */
    n = write(fd, "x", 1); /* ClientHello out, then EAGAIN */
    if (n >= 0 || errno != EAGAIN) {
        failf("first write: %zd (%s), want EAGAIN", n,
              n < 0 ? strerror(errno) : "no error");
        close(fd);
        return;
    }
    slept = wait_for_ever(fd, how);
    if (slept < 0) {
        failf("still asleep 10 s after the start of a handshake whose "
              "timeout is 2 s: the timeout is not enforced while the "
              "program waits");
    } else {
        n = write(fd, "x", 1);
        if (n >= 0 || errno != ETIMEDOUT) {
            failf("woken after %ld ms, but write gives %zd (%s), want "
                  "ETIMEDOUT",
                  slept, n, n < 0 ? strerror(errno) : "no error");
        } else if (slept < 1500) {
            failf("woken after %ld ms, before the 2 s timeout", slept);
        } else {
            ok();
        }
    }
    close(fd);
}

int
main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s HOST PORT [SILENT_PORT]\n", argv[0]);
        return 100;
    }
    signal(SIGPIPE, SIG_IGN);
    peer_host = argv[1];
    peer_port = atoi(argv[2]);

    check_big_record();
    check_two_records();
    check_edge_triggered();
    check_epoll_registrations();
    check_close_nonblocking(argc == 4 ? atoi(argv[3]) : 0);
    if (argc == 4) {
        for (int how = 0; how < 3; how++) {
            check_handshake_timeout(atoi(argv[3]), how);
        }
    }

    printf("%d failed\n", failures);
    return failures > 99 ? 99 : failures;
}
