/*
 * progutil.h - helpers shared by the test programs: loopback sockets,
 * whole reads and writes, a checksum, a deterministic byte stream and a
 * tally of checks.
 *
 * The programs are plaintext and use only libc: the integration tests run
 * them under the launcher, which gives them TLS.  Every helper is static so
 * that each program is one translation unit plus this header.
 */
#ifndef TLSSHIM_PROGUTIL_H
#define TLSSHIM_PROGUTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* die prints "PROG: message: strerror(errno)" and exits 2: a setup step
 * failed, as opposed to a check (exit 1). */
static void __attribute__((noreturn, unused, format(printf, 1, 2)))
die(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "%s: ", program_invocation_short_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", strerror(saved));
    exit(2);
}

/* The tally: each check prints one line, "ok: ..." or "FAIL: ...", and
 * the program's exit status says whether any failed. */
static int checks_failed;

static void __attribute__((format(printf, 2, 3), unused))
check(int ok, const char *fmt, ...)
{
    va_list ap;

    printf("%s: ", ok ? "ok" : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    if (!ok) {
        checks_failed++;
    }
}

static inline int
checks_exit(void)
{
    printf("%s: %d check(s) failed\n", checks_failed ? "FAIL" : "ok",
           checks_failed);
    return checks_failed ? 1 : 0;
}

/* usage_exit prints USAGE to stderr and exits 2. */
static inline _Noreturn void
usage_exit(const char *usage)
{
    fputs(usage, stderr);
    exit(2);
}

/* start_mode begins every program's main(): it returns argv[1] when that
 * is one of the modes listed after USAGE (NULL ends the list) and there
 * are at least MIN_ARGC arguments, and otherwise prints USAGE and exits 2.
 * It then makes stdout line-buffered, so that a test sees each line as it
 * comes, and ignores SIGPIPE, so that a write to a closed connection fails
 * with EPIPE. */
static inline const char *__attribute__((sentinel))
start_mode(int argc, char **argv, int min_argc, const char *usage, ...)
{
    const char *mode = argc > 1 ? argv[1] : "";
    const char *known;
    va_list ap;

    va_start(ap, usage);
    do {
        known = va_arg(ap, const char *);
    } while (known != NULL && strcmp(mode, known) != 0);
    va_end(ap);
    if (argc < min_argc || known == NULL) {
        usage_exit(usage);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    return mode;
}

/* parse_port reads a TCP port number (1 to 65535); anything else is
 * fatal. */
static inline uint16_t
parse_port(const char *s)
{
    char *end;
    long port = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || port < 1 || port > 65535) {
        errno = EINVAL;
        die("bad port '%s'", s);
    }
    return (uint16_t)port;
}

static inline struct sockaddr_in
loopback(uint16_t port)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

/* listen_on listens on 127.0.0.1:PORT. */
static inline int
listen_on(uint16_t port)
{
    struct sockaddr_in sin = loopback(port);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) {
        die("socket");
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        die("bind 127.0.0.1:%u", port);
    }
    if (listen(fd, 16) != 0) {
        die("listen");
    }
    return fd;
}

/* connect_to connects to 127.0.0.1:PORT. */
static inline int
connect_to(uint16_t port)
{
    struct sockaddr_in sin = loopback(port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) {
        die("socket");
    }
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        die("connect 127.0.0.1:%u", port);
    }
    return fd;
}

/* read_full reads exactly LEN bytes unless end of file or an error comes
 * first; it returns the count read, or -1 with errno. */
static inline ssize_t
read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* write_full writes all LEN bytes or returns -1 with errno. */
static inline int
write_full(int fd, const void *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = write(fd, (const char *)buf + done, len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

/* write_str writes a C string whole; a failure is fatal. */
static inline void
write_str(int fd, const char *s)
{
    if (write_full(fd, s, strlen(s)) != 0) {
        die("write '%.20s' on fd %d", s, fd);
    }
}

/* expect_str reads strlen(WANT) bytes from FD and checks that they are
 * WANT; WHAT names the step. */
static inline void
expect_str(int fd, const char *want, const char *what)
{
    char buf[256];
    size_t len = strlen(want);
    ssize_t n;

    if (len >= sizeof(buf)) {
        errno = EINVAL;
        die("expect_str: '%s' too long", want);
    }
    n = read_full(fd, buf, len);
    if (n < 0) {
        check(0, "%s: read on fd %d failed: %s", what, fd, strerror(errno));
        return;
    }
    buf[n] = '\0';
    check((size_t)n == len && memcmp(buf, want, len) == 0,
          "%s: read '%.*s' on fd %d (want '%.*s')", what,
          (int)strcspn(buf, "\n"), buf, fd, (int)strcspn(want, "\n"), want);
}

/* FNV-1a, 64 bits: a checksum both ends compute the same way. */
#define FNV_INIT 0xcbf29ce484222325ULL

static inline uint64_t
fnv1a(uint64_t h, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* A deterministic pseudo-random byte stream (xorshift64*): the sender and
 * the receiver each run one from the same seed, so the receiver can check
 * every byte without the data being stored anywhere. */
struct stream {
    uint64_t state;
    uint64_t word;
    unsigned left; /* bytes of |word| not yet used */
};

static inline void
stream_init(struct stream *s, uint64_t seed)
{
    s->state = seed != 0 ? seed : 1;
    s->left = 0;
}

static inline unsigned char
stream_byte(struct stream *s)
{
    unsigned char b;

    if (s->left == 0) {
        s->state ^= s->state >> 12;
        s->state ^= s->state << 25;
        s->state ^= s->state >> 27;
        s->word = s->state * 0x2545F4914F6CDD1DULL;
        s->left = 8;
    }
    b = (unsigned char)s->word;
    s->word >>= 8;
    s->left--;
    return b;
}

static inline void
stream_fill(struct stream *s, unsigned char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = stream_byte(s);
    }
}

/* now_s returns a monotonic time in seconds. */
static inline double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
