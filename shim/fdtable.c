/*
 * fdtable.c - descriptor -> session table.
 *
 * Two levels of FDTABLE_CHUNK slots each, allocated as descriptors appear,
 * so a process with a few low descriptors pays for one chunk.  Slots are
 * atomic pointers: readers of unwrapped descriptors see NULL without a lock.
 */
#include "tlsshim/fdtable.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define FDTABLE_CHUNK_BITS 10
#define FDTABLE_CHUNK      (1 << FDTABLE_CHUNK_BITS)
#define FDTABLE_CHUNKS     1024 /* up to 1,048,576 descriptors */

struct fdtable_chunk {
    _Atomic(struct session *) slot[FDTABLE_CHUNK];
};

static _Atomic(struct fdtable_chunk *) fdtable_chunks[FDTABLE_CHUNKS];
static pthread_mutex_t fdtable_lock = PTHREAD_MUTEX_INITIALIZER;
static int fdtable_wrapped;

/* fdtable_slot returns the slot of |fd|, allocating its chunk if |create|,
 * or NULL.  Allocation happens under fdtable_lock. */
static _Atomic(struct session *) *
fdtable_slot(int fd, bool create)
{
    unsigned idx = (unsigned)fd >> FDTABLE_CHUNK_BITS;
    struct fdtable_chunk *chunk;

    if (fd < 0 || idx >= FDTABLE_CHUNKS) {
        return NULL;
    }
    chunk = atomic_load_explicit(&fdtable_chunks[idx], memory_order_acquire);
    if (chunk == NULL && create) {
        chunk = calloc(1, sizeof(*chunk));
        if (chunk == NULL) {
            return NULL;
        }
        atomic_store_explicit(&fdtable_chunks[idx], chunk,
                              memory_order_release);
    }
    return chunk != NULL ? &chunk->slot[fd & (FDTABLE_CHUNK - 1)] : NULL;
}

struct session *
fdtable_get(int fd)
{
    _Atomic(struct session *) *slot = fdtable_slot(fd, false);
    struct session *s;

    if (slot == NULL ||
        atomic_load_explicit(slot, memory_order_relaxed) == NULL) {
        return NULL;
    }

    pthread_mutex_lock(&fdtable_lock);
    s = atomic_load_explicit(slot, memory_order_relaxed);
    if (s != NULL) {
        session_ref(s);
    }
    pthread_mutex_unlock(&fdtable_lock);
    return s;
}

/* fdtable_clear_locked empties |slot|, returning what it held.  The caller
 * holds fdtable_lock. */
static struct session *
fdtable_clear_locked(_Atomic(struct session *) *slot, bool *out_last)
{
    struct session *old = atomic_load_explicit(slot, memory_order_relaxed);

    *out_last = false;
    if (old != NULL) {
        atomic_store_explicit(slot, NULL, memory_order_relaxed);
        old->nfds--;
        fdtable_wrapped--;
        *out_last = old->nfds == 0;
    }
    return old;
}

int
fdtable_set(int fd, struct session *s)
{
    _Atomic(struct session *) *slot;
    struct session *old;
    bool last;

    pthread_mutex_lock(&fdtable_lock);
    slot = fdtable_slot(fd, true);
    if (slot == NULL) {
        pthread_mutex_unlock(&fdtable_lock);
        return -EMFILE;
    }
    old = fdtable_clear_locked(slot, &last);
    session_ref(s);
    s->nfds++;
    fdtable_wrapped++;
    atomic_store_explicit(slot, s, memory_order_release);
    pthread_mutex_unlock(&fdtable_lock);

    session_unref(old);
    return 0;
}

struct session *
fdtable_take(int fd, bool *out_last)
{
    _Atomic(struct session *) *slot = fdtable_slot(fd, false);
    struct session *s;

    *out_last = false;
    if (slot == NULL ||
        atomic_load_explicit(slot, memory_order_relaxed) == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&fdtable_lock);
    s = fdtable_clear_locked(slot, out_last);
    pthread_mutex_unlock(&fdtable_lock);
    return s;
}

void
fdtable_dup(int old_fd, int new_fd)
{
    struct session *s = fdtable_get(old_fd);
    bool last;

    if (s == NULL) {
        /* new_fd may have been a wrapped descriptor that dup2() closed. */
        session_unref(fdtable_take(new_fd, &last));
        return;
    }
    if (fdtable_set(new_fd, s) != 0) {
        /* The copy cannot be tracked, so it must not carry plaintext:
         * better a failed call than an unencrypted one. */
        session_fail_untracked(s, new_fd);
    }
    session_unref(s);
}

void
fdtable_each(void (*fn)(int fd, struct session *s))
{
    pthread_mutex_lock(&fdtable_lock);
    for (unsigned c = 0; c < FDTABLE_CHUNKS && fdtable_wrapped > 0; c++) {
        struct fdtable_chunk *chunk =
            atomic_load_explicit(&fdtable_chunks[c], memory_order_acquire);

        for (unsigned i = 0; chunk != NULL && i < FDTABLE_CHUNK; i++) {
            struct session *s =
                atomic_load_explicit(&chunk->slot[i], memory_order_relaxed);

            if (s != NULL) {
                fn((int)(c * FDTABLE_CHUNK + i), s);
            }
        }
    }
    pthread_mutex_unlock(&fdtable_lock);
}

int
fdtable_count(void)
{
    int n;

    pthread_mutex_lock(&fdtable_lock);
    n = fdtable_wrapped;
    pthread_mutex_unlock(&fdtable_lock);
    return n;
}
