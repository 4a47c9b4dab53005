/*
 * streams.c - fopencookie streams over wrapped sockets.
 */
#include "tlsshim/streams.h"

#include "tlsshim/fdtable.h"
#include "tlsshim/real.h"
#include "tlsshim/session.h"
#include "tlsshim/wrap.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

/* One stream made by streams_fdopen. */
struct streams_entry {
    FILE *stream;               /* the cookie stream */
    int fd;                     /* the socket beneath it */
    struct streams_entry *next; /* next entry in streams_list */
};

static pthread_mutex_t streams_lock = PTHREAD_MUTEX_INITIALIZER;
static struct streams_entry *streams_list;
static atomic_int streams_count; /* lets fileno() skip the lock */

/* streams_cookie_read and _write go through the session the descriptor has
 * at the time of the call; if it has none any more (the program closed
 * and reused the number) the plain call is the right one. */
static ssize_t
streams_cookie_read(void *cookie, char *buf, size_t len)
{
    struct streams_entry *e = cookie;
    struct session *s = fdtable_get(e->fd);
    ssize_t n;

    if (s == NULL) {
        return libc.read(e->fd, buf, len);
    }
    n = session_read(s, e->fd, buf, len, 0);
    session_unref(s);
    if (n < 0) {
        errno = (int)-n;
        return -1;
    }
    return n;
}

static ssize_t
streams_cookie_write(void *cookie, const char *buf, size_t len)
{
    struct streams_entry *e = cookie;
    struct session *s = fdtable_get(e->fd);
    ssize_t n;

    if (s == NULL) {
        n = libc.write(e->fd, buf, len);
    } else {
        n = session_write(s, e->fd, buf, len, 0);
        session_unref(s);
        if (n < 0) {
            errno = (int)-n;
            n = -1;
        }
    }
    /* fopencookie(3): a write function reports an error by returning 0. */
    return n < 0 ? 0 : n;
}

static int
streams_cookie_close(void *cookie)
{
    struct streams_entry *e = cookie;
    struct streams_entry **p;
    int fd = e->fd;

    pthread_mutex_lock(&streams_lock);
    for (p = &streams_list; *p != NULL; p = &(*p)->next) {
        if (*p == e) {
            *p = e->next;
            atomic_fetch_sub(&streams_count, 1);
            break;
        }
    }
    pthread_mutex_unlock(&streams_lock);
    free(e);
    return wrap_close(fd);
}

FILE *
streams_fdopen(int fd, const char *mode)
{
    static const cookie_io_functions_t io = {
        .read = streams_cookie_read,
        .write = streams_cookie_write,
        .seek = NULL, /* sockets cannot seek: fseek fails with ESPIPE */
        .close = streams_cookie_close,
    };
    struct streams_entry *e = calloc(1, sizeof(*e));

    if (e == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    e->fd = fd;
    e->stream = fopencookie(e, mode, io);
    if (e->stream == NULL) {
        free(e);
        return NULL;
    }

    pthread_mutex_lock(&streams_lock);
    e->next = streams_list;
    streams_list = e;
    atomic_fetch_add(&streams_count, 1);
    pthread_mutex_unlock(&streams_lock);
    return e->stream;
}

bool
streams_fileno(FILE *stream, int *out_fd)
{
    bool found = false;

    if (atomic_load_explicit(&streams_count, memory_order_relaxed) == 0) {
        return false;
    }
    pthread_mutex_lock(&streams_lock);
    for (struct streams_entry *e = streams_list; e != NULL; e = e->next) {
        if (e->stream == stream) {
            *out_fd = e->fd;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&streams_lock);
    return found;
}

void
streams_flush_all(void)
{
    pthread_mutex_lock(&streams_lock);
    for (struct streams_entry *e = streams_list; e != NULL; e = e->next) {
        fflush(e->stream);
    }
    pthread_mutex_unlock(&streams_lock);
}

void
streams_adopt_std(int fd)
{
    FILE **slot = fd == 0 ? &stdin : fd == 1 ? &stdout : &stderr;
    int old_fd;
    FILE *fresh;

    if (fd < 0 || fd > 2 || streams_fileno(*slot, &old_fd)) {
        return;
    }
    __fpurge(*slot);
    fresh = streams_fdopen(fd, fd == 0 ? "r" : "w");
    if (fresh == NULL) {
        return;
    }
    /* stderr stays unbuffered; stdin and stdout on a socket are fully
     * buffered, as glibc would make them. */
    if (fd == 2) {
        setvbuf(fresh, NULL, _IONBF, 0);
    }
    *slot = fresh;
}
