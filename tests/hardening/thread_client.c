/*
 * thread_client.c - a threaded plaintext client for the hardening tests,
 * meant to run under the launcher (a [client] rule for the server) against
 * an echo server.
 *
 *   thread_client HOST PORT THREADS MESSAGES
 *
 * Each of THREADS threads resolves HOST with getaddrinfo (the shim
 * remembers names: shared state), connects, and starts a reader thread on
 * the same socket; the writer sends MESSAGES numbered lines while the
 * reader, concurrently, reads the echo and checks every line: one thread
 * blocked in read() while another writes on the same descriptor, the case
 * a lock held across a blocking read would deadlock.  Half the
 * connections are then closed with shutdown(SHUT_WR) + reading to EOF,
 * half with a plain close().  Prints "ok THREADS MESSAGES" or the first
 * error, exit 0 or 1.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *g_host, *g_port;
static int g_messages;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_errors;

struct conn {
    int fd;
    int id;
    int lines_ok;
};

static void
error(int id, const char *what)
{
    pthread_mutex_lock(&g_lock);
    if (g_errors++ == 0) {
        fprintf(stderr, "thread %d: %s\n", id, what);
    }
    pthread_mutex_unlock(&g_lock);
}

static void *
reader(void *arg)
{
    struct conn *c = arg;
    char buf[4096], want[64];
    size_t have = 0;
    int next = 0;

    while (next < g_messages) {
        ssize_t r = read(c->fd, buf + have, sizeof(buf) - have - 1);
        char *nl;

        if (r <= 0) {
            error(c->id, r == 0 ? "read: early EOF" : "read failed");
            return NULL;
        }
        have += (size_t)r;
        buf[have] = '\0';
        while ((nl = memchr(buf, '\n', have)) != NULL) {
            size_t len = (size_t)(nl - buf) + 1;

            snprintf(want, sizeof(want), "conn %d line %d\n", c->id, next);
            if (len != strlen(want) || memcmp(buf, want, len) != 0) {
                error(c->id, "echo mismatch");
                return NULL;
            }
            next++;
            memmove(buf, buf + len, have - len);
            have -= len;
        }
    }
    c->lines_ok = next;
    return NULL;
}

static void *
writer(void *arg)
{
    struct conn c = { .fd = -1, .id = (int)(long)arg };
    struct addrinfo hints = { 0 }, *ai;
    pthread_t rt;
    char line[64];

    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(g_host, g_port, &hints, &ai) != 0) {
        error(c.id, "getaddrinfo failed");
        return NULL;
    }
    c.fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (c.fd < 0 || connect(c.fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        error(c.id, "connect failed");
        freeaddrinfo(ai);
        return NULL;
    }
    freeaddrinfo(ai);
    pthread_create(&rt, NULL, reader, &c);
    for (int i = 0; i < g_messages; i++) {
        int n = snprintf(line, sizeof(line), "conn %d line %d\n", c.id, i);

        if (write(c.fd, line, (size_t)n) != n) {
            error(c.id, "write failed");
            break;
        }
        if (i % 16 == 0) {
            usleep(1000);
        }
    }
    pthread_join(rt, NULL);
    if (c.id % 2 == 0) {
        char b[64];

        shutdown(c.fd, SHUT_WR);
        while (read(c.fd, b, sizeof(b)) > 0) {
        }
    }
    close(c.fd);
    if (c.lines_ok != g_messages) {
        error(c.id, "not every line came back");
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    int threads;
    pthread_t *t;

    if (argc != 5) {
        fprintf(stderr, "usage: thread_client HOST PORT THREADS MESSAGES\n");
        return 2;
    }
    g_host = argv[1];
    g_port = argv[2];
    threads = atoi(argv[3]);
    g_messages = atoi(argv[4]);
    t = calloc((size_t)threads, sizeof(*t));
    for (int i = 0; i < threads; i++) {
        pthread_create(&t[i], NULL, writer, (void *)(long)i);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
    }
    free(t);
    if (g_errors) {
        return 1;
    }
    printf("ok %d %d\n", threads, g_messages);
    return 0;
}
