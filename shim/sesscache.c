/*
 * sesscache.c - client-side TLS session cache, one session per destination.
 */
#include "tlsshim/sesscache.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* One destination and the newest session it gave us. */
struct sesscache_entry {
    char key[SESSCACHE_KEY_MAX]; /* "" when the entry is free */
    SSL_SESSION *session;        /* owned reference */
    unsigned long stamp;         /* when stored: the oldest goes first */
};

static pthread_mutex_t sesscache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sesscache_entry sesscache_entries[SESSCACHE_CAPACITY];
static unsigned long sesscache_clock;

SSL_SESSION *
sesscache_take(const char *key)
{
    SSL_SESSION *session = NULL;

    pthread_mutex_lock(&sesscache_lock);
    for (size_t i = 0; i < SESSCACHE_CAPACITY; i++) {
        struct sesscache_entry *e = &sesscache_entries[i];

        if (e->session == NULL || strcmp(e->key, key) != 0) {
            continue;
        }
        if (!bssl.SSL_SESSION_is_resumable(e->session)) {
            break;
        }
        if (bssl.SSL_SESSION_should_be_single_use(e->session)) {
            session = e->session;
            e->session = NULL;
            e->key[0] = '\0';
        } else {
            session = e->session;
            bssl.SSL_SESSION_up_ref(session);
        }
        break;
    }
    pthread_mutex_unlock(&sesscache_lock);
    return session;
}

void
sesscache_put(const char *key, SSL_SESSION *session)
{
    struct sesscache_entry *slot = NULL;
    SSL_SESSION *old;

    pthread_mutex_lock(&sesscache_lock);
    for (size_t i = 0; i < SESSCACHE_CAPACITY; i++) {
        struct sesscache_entry *e = &sesscache_entries[i];

        if (e->session != NULL && strcmp(e->key, key) == 0) {
            slot = e;
            break;
        }
        if (slot == NULL || e->session == NULL ||
            (slot->session != NULL && e->stamp < slot->stamp)) {
            slot = slot != NULL && slot->session == NULL ? slot : e;
        }
    }
    old = slot->session;
    snprintf(slot->key, sizeof(slot->key), "%s", key);
    slot->session = session;
    slot->stamp = ++sesscache_clock;
    pthread_mutex_unlock(&sesscache_lock);

    if (old != NULL) {
        bssl.SSL_SESSION_free(old);
    }
}
