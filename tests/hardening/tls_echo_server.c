/*
 * tls_echo_server.c - a plaintext echo server for the hardening tests, meant
 * to run under the launcher with a [server] rule for its port.
 *
 *   tls_echo_server PORT [MAX_CONNECTIONS]
 *
 * One thread, one poll() loop, non-blocking sockets (accept4 with
 * SOCK_NONBLOCK), as event-driven servers do.  Every byte received on a
 * connection is sent back.  It never exits on a connection's error: it
 * prints one line to stderr ("conn N: read: Connection reset by peer") and
 * closes that connection.  When accept fails with EMFILE/ENFILE it prints
 * that once per second and stops polling the listener for 100 ms (the
 * usual back-off), so descriptor exhaustion cannot make it spin.  SIGTERM
 * ends it; it then prints "served N connections, M bytes".  SIGUSR1 prints
 * "open N" (the number of open connections) to stdout.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    char buf[4096];
    size_t len; /* bytes waiting to be echoed */
};

static volatile sig_atomic_t g_stop, g_report;

static void
on_term(int sig)
{
    (void)sig;
    g_stop = 1;
}
static void
on_usr1(int sig)
{
    (void)sig;
    g_report = 1;
}

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int
main(int argc, char **argv)
{
    int max = argc > 2 ? atoi(argv[2]) : 4096;
    struct conn **conns = calloc((size_t)max, sizeof(*conns));
    struct pollfd *pfd = calloc((size_t)max + 1, sizeof(*pfd));
    struct sockaddr_in sin;
    struct sigaction sa;
    long served = 0, bytes = 0, emfile_logged = 0, paused_until = 0;
    int ls, one = 1, n = 0;

    if (argc < 2 || conns == NULL || pfd == NULL) {
        fprintf(stderr, "usage: tls_echo_server PORT [MAX_CONNECTIONS]\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)atoi(argv[1]));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        listen(ls, 4096) != 0) {
        perror("tls_echo_server: bind/listen");
        return 1;
    }
    printf("listening on %s\n", argv[1]);
    fflush(stdout);

    while (!g_stop) {
        int i, rc, nfds = 0;
        long t = now_ms();

        if (g_report) {
            g_report = 0;
            printf("open %d\n", n);
            fflush(stdout);
        }
        for (i = 0; i < n; i++) {
            pfd[i].fd = conns[i]->fd;
            pfd[i].events = conns[i]->len > 0 ? POLLOUT : POLLIN;
            pfd[i].revents = 0;
        }
        nfds = n;
        if (n < max && t >= paused_until) {
            pfd[nfds].fd = ls;
            pfd[nfds].events = POLLIN;
            pfd[nfds].revents = 0;
            nfds++;
        }
        rc = poll(pfd, (nfds_t)nfds, 100);
        if (rc < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("tls_echo_server: poll");
            return 1;
        }
        if (nfds > n && (pfd[n].revents & POLLIN)) {
            for (;;) {
                int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);

                if (fd < 0) {
                    if (errno == EMFILE || errno == ENFILE) {
                        if (t - emfile_logged >= 1000) {
                            fprintf(stderr, "accept: %s\n", strerror(errno));
                            emfile_logged = t;
                        }
                        paused_until = t + 100;
                    } else if (errno != EAGAIN && errno != EINTR &&
                               errno != ECONNABORTED) {
                        fprintf(stderr, "accept: %s\n", strerror(errno));
                    }
                    break;
                }
                if (n >= max) {
                    close(fd);
                    break;
                }
                conns[n] = calloc(1, sizeof(struct conn));
                conns[n]->fd = fd;
                n++;
                served++;
            }
        }
        for (i = 0; i < n; i++) {
            struct conn *c = conns[i];
            ssize_t r;
            const char *what = NULL;

            if (pfd[i].revents == 0) {
                continue;
            }
            if (c->len == 0) {
                r = read(c->fd, c->buf, sizeof(c->buf));
                if (r > 0) {
                    c->len = (size_t)r;
                    bytes += r;
                } else if (r == 0) {
                    what = "eof";
                } else if (errno != EAGAIN && errno != EINTR) {
                    what = "read";
                }
            }
            if (what == NULL && c->len > 0) {
                r = write(c->fd, c->buf, c->len);
                if (r > 0) {
                    memmove(c->buf, c->buf + r, c->len - (size_t)r);
                    c->len -= (size_t)r;
                } else if (r < 0 && errno != EAGAIN && errno != EINTR) {
                    what = "write";
                }
            }
            if (what != NULL) {
                if (what[0] != 'e') {
                    fprintf(stderr, "conn %d: %s: %s\n", c->fd, what,
                            strerror(errno));
                }
                close(c->fd);
                free(c);
                conns[i] = conns[n - 1];
                pfd[i] = pfd[n - 1];
                pfd[n - 1].revents = 0;
                n--;
                i--;
            }
        }
    }
    fprintf(stderr, "served %ld connections, %ld bytes\n", served, bytes);
    /* Close and free everything, so that a leak checker sees only what
     * others leak. */
    while (n > 0) {
        n--;
        close(conns[n]->fd);
        free(conns[n]);
    }
    close(ls);
    free(conns);
    free(pfd);
    return 0;
}
