/*
 * names.c - memory of the names a program resolved (see names.h).
 *
 * The table is static and its lock statically initialised because the
 * interposed getaddrinfo may run before any constructor of the shim, from
 * another library's constructor or from a resolver thread.  Lookups scan
 * all NAMES_CAPACITY entries; at this size a scan costs less than the
 * connect() it serves.
 *
 * A process that forks while another of its threads is inside
 * names_remember inherits a locked mutex and its child would block on its
 * first lookup.  The lock is held only for a copy of a few hundred bytes,
 * so this needs a fork at that exact instant; vsftpd's raw clone() would
 * bypass pthread_atfork handlers anyway.
 */
#include "tlsshim/names.h"

#include "tlsshim/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

/* One remembered address -> name record. */
struct names_entry {
    int family;                /* AF_INET or AF_INET6; 0 for a free slot */
    unsigned char addr[16];    /* the address, network order */
    unsigned long long when;   /* names_clock at recording; larger is newer */
    char name[NAMES_NAME_MAX]; /* the name, NUL-terminated */
};

static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static struct names_entry names_table[NAMES_CAPACITY]; /* names_lock */
static unsigned long long names_clock;                 /* names_lock */

/* names_key extracts the normalised family and address of |sa|, the key of
 * the table.  Returns false for anything but IPv4 and IPv6. */
static bool
names_key(const struct sockaddr *sa, socklen_t sa_len, int *out_family,
          unsigned char out_addr[16])
{
    struct sockaddr_storage ss;

    if (!addr_normalize(sa, sa_len, &ss)) {
        return false;
    }
    memset(out_addr, 0, 16);
    *out_family = ss.ss_family;
    if (ss.ss_family == AF_INET) {
        memcpy(out_addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    } else {
        memcpy(out_addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
    }
    return true;
}

/* names_is_numeric reports whether |name| is an address written as text.
 * getaddrinfo("10.0.0.1") "resolves" to itself: such a name says nothing a
 * certificate could be checked against beyond the address. */
static bool
names_is_numeric(const char *name)
{
    unsigned char buf[16];
    struct in_addr in4;

    if (inet_pton(AF_INET, name, buf) == 1 ||
        inet_pton(AF_INET6, name, buf) == 1) {
        return true;
    }

    /* Scoped IPv6 ("fe80::1%eth0") and the short IPv4 forms getaddrinfo
     * accepts ("127.1", "0x7f000001") are numeric too; no DNS name has a
     * colon. */
    if (strchr(name, ':') != NULL) {
        return true;
    }
    return inet_aton(name, &in4) != 0;
}

/* names_find returns the entry for the key, or NULL.  Needs names_lock. */
static struct names_entry *
names_find(int family, const unsigned char addr[16])
{
    size_t i;

    for (i = 0; i < NAMES_CAPACITY; i++) {
        if (names_table[i].family == family &&
            memcmp(names_table[i].addr, addr, 16) == 0) {
            return &names_table[i];
        }
    }
    return NULL;
}

/* names_slot returns a free entry, or the oldest one when the table is
 * full.  Needs names_lock. */
static struct names_entry *
names_slot(void)
{
    struct names_entry *oldest = &names_table[0];
    size_t i;

    for (i = 0; i < NAMES_CAPACITY; i++) {
        if (names_table[i].family == 0) {
            return &names_table[i];
        }
        if (names_table[i].when < oldest->when) {
            oldest = &names_table[i];
        }
    }
    return oldest;
}

void
names_remember(const struct sockaddr *sa, socklen_t sa_len, const char *name)
{
    unsigned char addr[16];
    struct names_entry *entry;
    size_t name_len;
    int family;

    if (name == NULL) {
        return;
    }
    name_len = strnlen(name, NAMES_NAME_MAX);
    if (name_len == 0 || name_len >= NAMES_NAME_MAX) {
        return;
    }
    if (!names_key(sa, sa_len, &family, addr)) {
        return;
    }

    /* A numeric lookup is the program's newest word on this address: it
     * asked for the address itself, so it connects by address, and a name
     * it resolved earlier for the same address must not be verified
     * instead.  libldap and msmtp resolve the machine's own host name at
     * start-up; where /etc/hosts maps it to 127.0.0.1, "ldapsearch -H
     * ldap://127.0.0.1:389" was otherwise verified against that host name. */
    if (names_is_numeric(name)) {
        pthread_mutex_lock(&names_lock);
        entry = names_find(family, addr);
        if (entry != NULL) {
            memset(entry, 0, sizeof(*entry));
        }
        pthread_mutex_unlock(&names_lock);
        return;
    }

    pthread_mutex_lock(&names_lock);
    entry = names_find(family, addr);
    if (entry == NULL) {
        entry = names_slot();
    }
    entry->family = family;
    memcpy(entry->addr, addr, sizeof(entry->addr));
    entry->when = ++names_clock;
    memcpy(entry->name, name, name_len + 1);
    pthread_mutex_unlock(&names_lock);
}

bool
names_lookup(const struct sockaddr *sa, socklen_t sa_len, char *out,
             size_t out_len)
{
    unsigned char addr[16];
    struct names_entry *entry;
    bool found = false;
    int family;

    if (out == NULL || out_len == 0) {
        return false;
    }
    if (!names_key(sa, sa_len, &family, addr)) {
        return false;
    }

    pthread_mutex_lock(&names_lock);
    entry = names_find(family, addr);

    /* A cut name would be verified as if it were the real one: report
     * none rather than a prefix. */
    if (entry != NULL && strlen(entry->name) < out_len) {
        memcpy(out, entry->name, strlen(entry->name) + 1);
        found = true;
    }
    pthread_mutex_unlock(&names_lock);
    return found;
}

void
names_clear(void)
{
    pthread_mutex_lock(&names_lock);
    memset(names_table, 0, sizeof(names_table));
    names_clock = 0;
    pthread_mutex_unlock(&names_lock);
}
