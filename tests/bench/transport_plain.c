/*
 * transport_plain.c - the plaintext transport: read(), write(), close() on
 * the socket, nothing else.  These are the calls tlsshim interposes, so the
 * plaintext programs are also the ones run under the shim.
 */
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct tr_conn {
    int fd;
};

const char tr_name[] = "plain";

int
tr_init(const struct tr_config *cfg)
{
    (void)cfg;
    return 0;
}

struct tr_conn *
tr_open(int fd)
{
    struct tr_conn *c = malloc(sizeof *c);

    if (c == NULL) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    return c;
}

ssize_t
tr_read(struct tr_conn *c, void *buf, size_t n)
{
    ssize_t r;

    do {
        r = read(c->fd, buf, n);
    } while (r < 0 && errno == EINTR);
    return r;
}

/* tr_write_some is one write(), retried on EINTR. */
ssize_t
tr_write_some(struct tr_conn *c, const void *buf, size_t n)
{
    ssize_t w;

    do {
        w = write(c->fd, buf, n);
    } while (w < 0 && errno == EINTR);
    return w;
}

void
tr_close(struct tr_conn *c)
{
    close(c->fd);
    free(c);
}

int
tr_resumed(const struct tr_conn *c)
{
    (void)c;
    return 0;
}

void
tr_stats(uint64_t *handshakes, uint64_t *resumed)
{
    *handshakes = 0;
    *resumed = 0;
}
