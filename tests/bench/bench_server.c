/*
 * bench_server.c - the benchmark's server: blocking sockets, one thread per
 * connection, the protocol of bench.h.  Built twice: bench_server
 * (plaintext, libc calls only: the program tlsshim wraps) and
 * bench_tls_server (BoringSSL directly).
 *
 *   bench_server --port P [--ready FILE] [--cert F --key F] [--info]
 *                [--epoll]
 *
 * Listens on 127.0.0.1:P.  Once listening it writes its pid to FILE (via a
 * rename, so a reader never sees half a file).  Runs until killed.
 *
 * --epoll (plaintext build only) serves every connection from one thread
 * with level-triggered epoll and non-blocking sockets instead, as event
 * loops do; it answers 'R' requests of up to 64 KiB only.  Under tlsshim it
 * shows what the shim's epoll costs as idle connections pile up.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE     (256 * 1024)
#define THREAD_STACK (256 * 1024)

static char zeros[BUF_SIZE];

static void
serve(struct tr_conn *c)
{
    struct bench_req req;
    char *buf = NULL;

    while (read_full(c, &req, sizeof req) == 0) {
        if (req.magic != BENCH_MAGIC) {
            fprintf(stderr, "bench_server: bad request\n");
            break;
        }
        if (req.op == 'R') {
            uint64_t left = req.n;
            int bad = 0;
            while (left > 0 && !bad) {
                size_t k = left > BUF_SIZE ? BUF_SIZE : (size_t)left;
                bad = tr_write(c, zeros, k) != 0;
                left -= k;
            }
            if (bad) {
                break;
            }
        } else if (req.op == 'B') {
            uint64_t left = req.n;
            if (buf == NULL && (buf = malloc(BUF_SIZE)) == NULL) {
                break;
            }
            while (left > 0) {
                ssize_t r =
                    tr_read(c, buf, left > BUF_SIZE ? BUF_SIZE : (size_t)left);
                if (r <= 0) {
                    break;
                }
                left -= (uint64_t)r;
            }
            if (left > 0 || tr_write(c, &req.n, sizeof req.n) != 0) {
                break;
            }
        } else if (req.op == 'S') {
            char text[BENCH_REQ_SIZE];
            uint64_t hs, res;
            tr_stats(&hs, &res);
            memset(text, 0, sizeof text);
            snprintf(text, sizeof text, "handshakes=%llu resumed=%llu",
                     (unsigned long long)hs, (unsigned long long)res);
            if (tr_write(c, text, sizeof text) != 0) {
                break;
            }
        } else {
            fprintf(stderr, "bench_server: unknown op %u\n", req.op);
            break;
        }
    }
    free(buf);
    tr_close(c);
}

static void *
conn_thread(void *arg)
{
    int fd = (int)(intptr_t)arg;
    struct tr_conn *c = tr_open(fd);

    if (c != NULL) {
        serve(c);
    }
    return NULL;
}

/* --- --epoll: one thread, level-triggered epoll --- */

/* EP_REPLY_MAX is the largest 'R' answer the epoll loop serves. */
#define EP_REPLY_MAX (64 * 1024)

/* One connection of the epoll loop: the request being received. */
struct ep_conn {
    size_t got;           /* bytes of |req| so far */
    struct bench_req req; /* the request */
};

/* ep_send writes |len| bytes of zeros to non-blocking |fd|, waiting in
 * poll() when the socket is full (answers are small: it rarely is).
 * Returns 0 or -1. */
static int
ep_send(int fd, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t w = write(fd, zeros, len - off);
        struct pollfd p = { .fd = fd, .events = POLLOUT };

        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && errno == EAGAIN) {
            poll(&p, 1, 1000);
        } else {
            return -1;
        }
    }
    return 0;
}

/* ep_serve reads what |fd| has and answers every whole request.  Returns
 * 0 to keep the connection, -1 to close it. */
static int
ep_serve(int fd, struct ep_conn *c)
{
    for (;;) {
        ssize_t r = read(fd, (char *)&c->req + c->got, sizeof c->req - c->got);

        if (r == 0 || (r < 0 && errno != EAGAIN)) {
            return -1;
        }
        if (r < 0) {
            return 0;
        }
        c->got += (size_t)r;
        if (c->got < sizeof c->req) {
            continue;
        }
        c->got = 0;
        if (c->req.magic != BENCH_MAGIC || c->req.op != 'R' ||
            c->req.n > EP_REPLY_MAX) {
            fprintf(stderr,
                    "bench_server: --epoll serves 'R' up to %d "
                    "bytes only\n",
                    EP_REPLY_MAX);
            return -1;
        }
        if (ep_send(fd, (size_t)c->req.n) != 0) {
            return -1;
        }
    }
}

/* ep_loop serves |lfd| and its connections for ever. */
static void
ep_loop(int lfd)
{
    static struct ep_conn *conns[1 << 20]; /* by descriptor */
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
    struct epoll_event out[256];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int one = 1;

    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
        die("epoll: %m");
    }
    for (;;) {
        int n = epoll_wait(ep, out, 256, -1);

        for (int i = 0; i < n; i++) {
            int fd = out[i].data.fd;

            if (fd == lfd) {
                int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

                if (c < 0 || c >= (int)(sizeof conns / sizeof conns[0]) ||
                    (conns[c] = calloc(1, sizeof *conns[c])) == NULL) {
                    if (c >= 0) {
                        close(c);
                    }
                    continue;
                }
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                ev.data.fd = c;
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
            } else if (conns[fd] != NULL && ep_serve(fd, conns[fd]) != 0) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
                free(conns[fd]);
                conns[fd] = NULL;
            }
        }
    }
}

static void
usage(void)
{
    fprintf(stderr, "usage: bench_server --port P [--ready FILE] "
                    "[--cert F --key F] [--info] [--epoll]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "port", required_argument, NULL, 'p' },
        { "ready", required_argument, NULL, 'r' },
        { "cert", required_argument, NULL, TR_OPT_CERT },
        { "key", required_argument, NULL, TR_OPT_KEY },
        { "info", no_argument, NULL, TR_OPT_INFO },
        { "epoll", no_argument, NULL, 'e' },
        { NULL, 0, NULL, 0 },
    };
    struct tr_config cfg = { .server = 1 };
    const char *ready = NULL;
    int port = 0, opt, lfd, one = 1, use_epoll = 0;
    struct sockaddr_in sin;
    pthread_attr_t attr;

    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'r':
            ready = optarg;
            break;
        case 'e':
            use_epoll = 1;
            break;
        default:
            if (!tr_option(&cfg, opt, optarg)) {
                usage();
            }
        }
    }
    if (port <= 0 || port > 65535 || optind != argc) {
        usage();
    }
    if (use_epoll && strcmp(tr_name, "plain") != 0) {
        die("--epoll: the plaintext build only (bench_server)");
    }
    if (tr_start(&cfg) != 0) {
        return 1;
    }

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) {
        die("socket: %m");
    }
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        die("bind 127.0.0.1:%d: %m", port);
    }
    if (listen(lfd, 4096) != 0) {
        die("listen: %m");
    }
    if (ready != NULL) {
        char tmp[4096];
        FILE *f;
        snprintf(tmp, sizeof tmp, "%s.tmp", ready);
        f = fopen(tmp, "w");
        if (f == NULL || fprintf(f, "%d\n", (int)getpid()) < 0 ||
            fclose(f) != 0 || rename(tmp, ready) != 0) {
            die("writing %s: %m", ready);
        }
    }

    if (use_epoll) {
        ep_loop(lfd);
    }
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        pthread_t t;
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            usleep(1000); /* EMFILE, ECONNABORTED: keep serving */
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (pthread_create(&t, &attr, conn_thread, (void *)(intptr_t)fd) != 0) {
            close(fd);
        }
    }
}
