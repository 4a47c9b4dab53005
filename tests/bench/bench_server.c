/*
 * bench_server.c - the benchmark's server: blocking sockets, one thread per
 * connection, the protocol of bench.h.  Built twice: bench_server
 * (plaintext, libc calls only: the program tlsshim wraps) and
 * bench_tls_server (BoringSSL directly).
 *
 *   bench_server --port P [--ready FILE] [--cert F --key F] [--info]
 *
 * Listens on 127.0.0.1:P.  Once listening it writes its pid to FILE (via a
 * rename, so a reader never sees half a file).  Runs until killed.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void
usage(void)
{
    fprintf(stderr, "usage: bench_server --port P [--ready FILE] "
                    "[--cert F --key F] [--info]\n");
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
        { NULL, 0, NULL, 0 },
    };
    struct tr_config cfg = { .server = 1 };
    const char *ready = NULL;
    int port = 0, opt, lfd, one = 1;
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
        default:
            if (!tr_option(&cfg, opt, optarg)) {
                usage();
            }
        }
    }
    if (port <= 0 || port > 65535 || optind != argc) {
        usage();
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
