/*
 * readiness.c - poll, select and epoll over wrapped descriptors.
 *
 * Two things differ from what the kernel sees.  Plaintext may wait inside
 * the session while the socket is not readable: such a descriptor is
 * reported readable at once.  And during a handshake the program's
 * interest is not what matters: a program that wants to write must wait
 * until the peer's handshake message can be read.  The wait then uses the
 * direction the handshake needs and reports the program's own direction
 * when it is ready, so that its next call drives the handshake on; it is
 * never woken for nothing and never waits for the wrong thing.
 *
 * For epoll the shim keeps its own record of each wrapped descriptor's
 * registration (the program's events and data) and registers it with the
 * kernel under a tagged data value, so that it can recognise the event,
 * adjust the registration to what the handshake needs, and hand the
 * program back its own data.
 */
#include "tlsshim/readiness.h"

#include "tlsshim/fdtable.h"
#include "tlsshim/real.h"
#include "tlsshim/session.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* READINESS_STACK_FDS is how many pollfds are handled without malloc. */
#define READINESS_STACK_FDS 64

/* --- handshake deadlines ---
 *
 * A handshake in progress has a deadline (handshake_timeout), but nothing
 * happens when it passes unless the program waits or calls again: an event
 * loop asleep in a long wait (nginx sleeps up to client_header_timeout, 60
 * s) would keep a stalled handshake for as long.  So a wait that includes
 * a handshaking descriptor sleeps at most until the nearest deadline, then
 * looks again: the session then fails, its socket is shut down and becomes
 * ready, and the program's wait returns for it as for any dead peer. */

/* readiness_deadline returns when |timeout| (NULL: never) runs out, on the
 * session_now_ms() clock, or -1 for never. */
static long
readiness_deadline(const struct timespec *timeout)
{
    if (timeout == NULL) {
        return -1;
    }
    return session_now_ms() + timeout->tv_sec * 1000L +
           (timeout->tv_nsec + 999999) / 1000000;
}

/* readiness_left_ms returns the milliseconds left until |end| (0 once it
 * has passed, at most INT_MAX), or -1 when |end| is -1 (never). */
static int
readiness_left_ms(long end)
{
    long left;

    if (end < 0) {
        return -1;
    }
    left = end - session_now_ms();
    if (left < 0) {
        return 0;
    }
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* readiness_ms_ts writes |ms| (not negative) into |ts| and returns it. */
static struct timespec *
readiness_ms_ts(int ms, struct timespec *ts)
{
    ts->tv_sec = ms / 1000;
    ts->tv_nsec = (long)(ms % 1000) * 1000000L;
    return ts;
}

/* readiness_min_left keeps in |*cap| the smaller of itself and |left|
 * (-1: none). */
static void
readiness_min_left(long *cap, long left)
{
    if (left >= 0 && (*cap < 0 || left < *cap)) {
        *cap = left;
    }
}

/* readiness_cap_ms returns the wait in milliseconds to use instead of the
 * program's |program_ms| (-1: for ever) given the nearest handshake
 * deadline |cap| (-1: none), and sets |*capped| if it is shorter. */
static int
readiness_cap_ms(int program_ms, long cap, bool *capped)
{
    *capped = false;
    if (cap < 0 || (program_ms >= 0 && program_ms <= cap)) {
        return program_ms;
    }
    *capped = true;
    return cap + 1 > INT_MAX ? INT_MAX : (int)cap + 1;
}

/* --- poll --- */

/* What the poll wrapper did to one entry of the program's array. */
struct readiness_slot {
    short events; /* the program's events, restored after the real call */
    bool mapped;  /* events were replaced by the handshake's direction */
    bool ready;   /* readable whatever the kernel says */
};

/* readiness_prepare looks at one pollfd.  Returns true if the descriptor
 * is readable at once. */
static bool
readiness_prepare(struct pollfd *p, struct readiness_slot *slot, long *cap)
{
    struct session *s = fdtable_get(p->fd);
    struct session_poll st;

    slot->events = p->events;
    slot->mapped = false;
    slot->ready = false;
    if (s == NULL) {
        return false;
    }
    session_poll_state(s, p->fd, (p->events & POLLIN) != 0, &st);
    session_unref(s);
    readiness_min_left(cap, st.left_ms);

    if (st.ready && (p->events & (POLLIN | POLLRDNORM))) {
        slot->ready = true;
    } else if (st.want != 0 && (p->events & (POLLIN | POLLOUT))) {
        p->events = (short)((p->events &
                             ~(POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)) |
                            st.want);
        slot->mapped = true;
    }
    return slot->ready;
}

/* readiness_finish restores one pollfd and translates its result.
 * Returns 1 if the entry became ready here, else 0. */
static int
readiness_finish(struct pollfd *p, const struct readiness_slot *slot)
{
    short before = p->revents;

    p->events = slot->events;
    if (slot->mapped && p->revents != 0) {
        /* What the handshake waited for happened: the program's own call
         * will carry it on. */
        p->revents = (short)((p->revents & ~(POLLIN | POLLOUT)) |
                             (slot->events & (POLLIN | POLLOUT)));
    }
    if (slot->ready) {
        p->revents |= slot->events & (POLLIN | POLLRDNORM);
    }
    return before == 0 && p->revents != 0;
}

int
readiness_poll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout,
               const sigset_t *sigmask)
{
    static const struct timespec zero = { 0, 0 };
    struct readiness_slot stack_slots[READINESS_STACK_FDS];
    struct readiness_slot *slots = stack_slots;
    long end = -1; /* the program's deadline, -1: none */
    bool again = false;
    int rc;

    if (nfds > READINESS_STACK_FDS) {
        slots = malloc(nfds * sizeof(*slots));
        if (slots == NULL) {
            errno = ENOMEM;
            return -1;
        }
    }
    end = readiness_deadline(timeout);
    for (;;) {
        bool any_ready = false;
        bool capped = false;
        long cap = -1;
        struct timespec ts;
        const struct timespec *wait = timeout;

        if (again && end >= 0) {
            /* After a wake-up for a deadline: what is left of the
             * program's own timeout. */
            wait = readiness_ms_ts(readiness_left_ms(end), &ts);
        }
        again = true;
        for (nfds_t i = 0; i < nfds; i++) {
            any_ready |= readiness_prepare(&fds[i], &slots[i], &cap);
        }
        if (any_ready) {
            wait = &zero;
        } else if (cap >= 0) {
            int ms = readiness_cap_ms(readiness_left_ms(end), cap, &capped);

            if (capped) {
                wait = readiness_ms_ts(ms, &ts);
            }
        }

        rc = libc.ppoll(fds, nfds, wait, sigmask);
        if (rc >= 0) {
            for (nfds_t i = 0; i < nfds; i++) {
                rc += readiness_finish(&fds[i], &slots[i]);
            }
            if (rc == 0 && capped) {
                continue; /* a handshake deadline: look again */
            }
        } else {
            int saved_errno = errno;

            for (nfds_t i = 0; i < nfds; i++) {
                fds[i].events = slots[i].events;
            }
            errno = saved_errno;
        }
        break;
    }
    if (slots != stack_slots) {
        free(slots);
    }
    return rc;
}

/* --- select --- */

/* readiness_select_once is one select; |end| is the program's deadline
 * (-1: none).  Returns -2 (sets untouched by the program's view: the caller
 * restores them) when it woke only for a handshake deadline. */
static int
readiness_select_once(int nfds, fd_set *readfds, fd_set *writefds,
                      fd_set *exceptfds, const struct timespec *timeout,
                      long end, const sigset_t *sigmask)
{
    long cap = -1;
    bool capped = false;
    struct timespec ts;
    static const struct timespec zero = { 0, 0 };
    fd_set ready;  /* readable at once */
    fd_set mapped; /* handshaking: the program's sets were changed */
    fd_set want_r; /* of those, the program asked for reading */
    fd_set want_w; /* ... and for writing */
    fd_set empty_r;
    fd_set empty_w;
    bool any_ready = false;
    bool any_mapped = false;
    int rc;

    FD_ZERO(&ready);
    FD_ZERO(&mapped);
    FD_ZERO(&want_r);
    FD_ZERO(&want_w);
    if (nfds > FD_SETSIZE) {
        nfds = FD_SETSIZE;
    }
    for (int fd = 0; fd < nfds; fd++) {
        bool r = readfds != NULL && FD_ISSET(fd, readfds);
        bool w = writefds != NULL && FD_ISSET(fd, writefds);
        struct session_poll st;
        struct session *s;

        if (!r && !w) {
            continue;
        }
        s = fdtable_get(fd);
        if (s == NULL) {
            continue;
        }
        session_poll_state(s, fd, r, &st);
        session_unref(s);
        readiness_min_left(&cap, st.left_ms);
        if (st.ready && r) {
            FD_SET(fd, &ready);
            any_ready = true;
        } else if (st.want != 0) {
            /* Wait in the direction the handshake needs. */
            FD_SET(fd, &mapped);
            any_mapped = true;
            if (r) {
                FD_SET(fd, &want_r);
            }
            if (w) {
                FD_SET(fd, &want_w);
            }
            if (readfds == NULL) {
                FD_ZERO(&empty_r);
                readfds = &empty_r;
            }
            if (writefds == NULL) {
                FD_ZERO(&empty_w);
                writefds = &empty_w;
            }
            FD_CLR(fd, readfds);
            FD_CLR(fd, writefds);
            FD_SET(fd, st.want == POLLIN ? readfds : writefds);
        }
    }

    if (!any_ready && cap >= 0) {
        int ms = readiness_cap_ms(readiness_left_ms(end), cap, &capped);

        if (capped) {
            timeout = readiness_ms_ts(ms, &ts);
        }
    }
    rc = libc.pselect(nfds, readfds, writefds, exceptfds,
                      any_ready ? &zero : timeout, sigmask);
    if (rc == 0 && capped) {
        return -2; /* a handshake deadline: the caller looks again */
    }
    if (rc < 0 || (!any_ready && !any_mapped)) {
        return rc;
    }

    rc = 0;
    for (int fd = 0; fd < nfds; fd++) {
        bool r = readfds != NULL && FD_ISSET(fd, readfds);
        bool w = writefds != NULL && FD_ISSET(fd, writefds);

        if (FD_ISSET(fd, &mapped)) {
            bool hit = r || w;

            r = hit && FD_ISSET(fd, &want_r);
            w = hit && FD_ISSET(fd, &want_w);
        }
        if (FD_ISSET(fd, &ready)) {
            r = true;
        }
        if (readfds != NULL) {
            if (r) {
                FD_SET(fd, readfds);
            } else {
                FD_CLR(fd, readfds);
            }
        }
        if (writefds != NULL) {
            if (w) {
                FD_SET(fd, writefds);
            } else {
                FD_CLR(fd, writefds);
            }
        }
        rc += r + w;
        if (exceptfds != NULL && FD_ISSET(fd, exceptfds)) {
            rc++;
        }
    }
    return rc;
}

int
readiness_select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                 const struct timespec *timeout, const sigset_t *sigmask)
{
    fd_set saved[3];
    struct timespec rest;
    long end = -1;
    int rc;

    end = readiness_deadline(timeout);
    if (readfds != NULL) {
        saved[0] = *readfds;
    }
    if (writefds != NULL) {
        saved[1] = *writefds;
    }
    if (exceptfds != NULL) {
        saved[2] = *exceptfds;
    }
    while ((rc = readiness_select_once(nfds, readfds, writefds, exceptfds,
                                       timeout, end, sigmask)) == -2) {
        if (readfds != NULL) {
            *readfds = saved[0];
        }
        if (writefds != NULL) {
            *writefds = saved[1];
        }
        if (exceptfds != NULL) {
            *exceptfds = saved[2];
        }
        if (end >= 0) {
            /* What is left of the program's own timeout. */
            timeout = readiness_ms_ts(readiness_left_ms(end), &rest);
        }
    }
    return rc;
}

/* --- epoll ---
 *
 * The shim keeps a record of each wrapped descriptor registered in an epoll
 * instance: the program's events and data, and what it registered with the
 * kernel instead (the handshake's direction, and a tagged data value by
 * which the shim recognises the event and hands the program back its own
 * data).
 *
 * A wait must look at the registrations whose session has something to
 * say that the kernel cannot: a handshake (its direction, its deadline),
 * plaintext or ciphertext buffered, the peer's close_notify, a failure.
 * Those are on the instance's watch list; the others are calm and left to
 * the kernel.  A registration leaves the watch list when a wait finds its
 * session calm, which arms the session (session_watch_state); it goes back
 * when the armed session's next read leaves something behind (the wake
 * hook), or when the program changes the registration.  A wait therefore
 * costs what the busy connections cost: an event loop with thousands of
 * idle keep-alive connections looks at none of them. */

/* READINESS_TAG marks the data of a registration the shim made for a
 * wrapped descriptor; the low 32 bits hold the descriptor.  The value is
 * not a user-space address on x86-64, so it cannot clash with a pointer a
 * program stores, and a program storing this exact integer is not
 * expected. */
#define READINESS_TAG      0xf15e000000000000ULL
#define READINESS_TAG_MASK 0xffff000000000000ULL

/* READINESS_HASH_BITS is the size of the first registration hash: 1 <<
 * READINESS_HASH_BITS buckets.  It doubles whenever it is as full as it
 * is long. */
#define READINESS_HASH_BITS 6

/* One epoll instance with wrapped descriptors in it. */
struct readiness_ep {
    int epfd;                    /* its descriptor */
    unsigned nregs;              /* registrations in it */
    struct readiness_reg *watch; /* the ones its waits look at */
    struct readiness_ep *next;
};

/* One wrapped descriptor registered in one epoll instance. */
struct readiness_reg {
    struct readiness_ep *ep; /* the epoll instance */
    int fd;                  /* the wrapped descriptor */
    struct session *s;       /* its session (a reference) */
    uint32_t prog_events;    /* events the program asked for */
    epoll_data_t prog_data;  /* data the program gave */
    uint32_t real_events;    /* events registered with the kernel */
    bool reported;           /* buffered plaintext was reported ... */
    unsigned reported_reads; /* ... when the program had made this many
                              * reads */
    bool fired;              /* EPOLLONESHOT: an event went out; nothing
                              * more until the program re-arms it */
    bool watched;            /* on ep->watch */
    struct readiness_reg *watch_prev; /* ep->watch, both ways */
    struct readiness_reg *watch_next;
    struct readiness_reg *hash_next; /* same bucket of readiness_hash */
    struct readiness_reg *s_next;    /* next registration of |s| */
};

/* readiness_lock guards the instances, the registrations (hash, watch
 * lists) and every session's epoll_regs.  It is taken before a session's
 * lock, never after. */
static pthread_mutex_t readiness_lock = PTHREAD_MUTEX_INITIALIZER;
static struct readiness_ep *readiness_eps;
static atomic_int readiness_neps; /* read without the lock by close() */
static struct readiness_reg **readiness_hash; /* (epfd, fd) -> reg */
static unsigned readiness_hash_bits;          /* 1 << bits buckets, or 0 */
static size_t readiness_nregs;

static size_t
readiness_bucket(int epfd, int fd, unsigned bits)
{
    uint64_t key = (uint64_t)(uint32_t)epfd << 32 | (uint32_t)fd;

    return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> (64 - bits));
}

static struct readiness_reg *
readiness_find_locked(int epfd, int fd)
{
    struct readiness_reg *reg;

    if (readiness_hash == NULL) {
        return NULL;
    }
    reg = readiness_hash[readiness_bucket(epfd, fd, readiness_hash_bits)];
    while (reg != NULL && (reg->ep->epfd != epfd || reg->fd != fd)) {
        reg = reg->hash_next;
    }
    return reg;
}

/* readiness_hash_grow doubles the hash (or makes it) when it is as full as
 * it is long.  Returns 0, or -ENOMEM when there is no hash at all; a
 * failed growth keeps the old one, whose chains just get longer. */
static int
readiness_hash_grow(void)
{
    unsigned bits = readiness_hash_bits == 0 ? READINESS_HASH_BITS
                                             : readiness_hash_bits + 1;
    size_t len = (size_t)1 << bits;
    struct readiness_reg **grown;

    if (readiness_hash != NULL &&
        readiness_nregs < ((size_t)1 << readiness_hash_bits)) {
        return 0;
    }
    grown = calloc(len, sizeof(*grown));
    if (grown == NULL) {
        return readiness_hash != NULL ? 0 : -ENOMEM;
    }
    for (size_t b = 0;
         readiness_hash != NULL && b < ((size_t)1 << readiness_hash_bits);
         b++) {
        while (readiness_hash[b] != NULL) {
            struct readiness_reg *reg = readiness_hash[b];
            size_t nb = readiness_bucket(reg->ep->epfd, reg->fd, bits);

            readiness_hash[b] = reg->hash_next;
            reg->hash_next = grown[nb];
            grown[nb] = reg;
        }
    }
    free(readiness_hash);
    readiness_hash = grown;
    readiness_hash_bits = bits;
    return 0;
}

/* readiness_watch puts |reg| on its instance's watch list. */
static void
readiness_watch(struct readiness_reg *reg)
{
    if (reg->watched) {
        return;
    }
    reg->watched = true;
    reg->watch_prev = NULL;
    reg->watch_next = reg->ep->watch;
    if (reg->ep->watch != NULL) {
        reg->ep->watch->watch_prev = reg;
    }
    reg->ep->watch = reg;
}

/* readiness_unwatch takes |reg| off its instance's watch list. */
static void
readiness_unwatch(struct readiness_reg *reg)
{
    if (!reg->watched) {
        return;
    }
    reg->watched = false;
    if (reg->watch_prev != NULL) {
        reg->watch_prev->watch_next = reg->watch_next;
    } else {
        reg->ep->watch = reg->watch_next;
    }
    if (reg->watch_next != NULL) {
        reg->watch_next->watch_prev = reg->watch_prev;
    }
}

/* readiness_wake is the sessions' wake hook: an armed session's read left
 * something for a wait to report, so its registrations are watched
 * again. */
static void
readiness_wake(struct session *s)
{
    pthread_mutex_lock(&readiness_lock);
    for (struct readiness_reg *reg = s->epoll_regs; reg != NULL;
         reg = reg->s_next) {
        readiness_watch(reg);
    }
    pthread_mutex_unlock(&readiness_lock);
}

static struct readiness_ep *
readiness_ep_find_locked(int epfd)
{
    struct readiness_ep *ep = readiness_eps;

    while (ep != NULL && ep->epfd != epfd) {
        ep = ep->next;
    }
    return ep;
}

/* readiness_reg_new records a registration of |fd| (session |s|) in
 * |epfd|.  Returns it, or NULL when out of memory. */
static struct readiness_reg *
readiness_reg_new(int epfd, int fd, struct session *s)
{
    struct readiness_ep *ep = readiness_ep_find_locked(epfd);
    struct readiness_reg *reg;
    size_t b;

    if (readiness_hash_grow() != 0) {
        return NULL;
    }
    if (ep == NULL) {
        ep = calloc(1, sizeof(*ep));
        if (ep == NULL) {
            return NULL;
        }
        ep->epfd = epfd;
        ep->next = readiness_eps;
        readiness_eps = ep;
        atomic_fetch_add(&readiness_neps, 1);
        session_set_wake_hook(readiness_wake);
    }
    reg = calloc(1, sizeof(*reg));
    if (reg == NULL) {
        return NULL; /* an empty instance is dropped with its descriptor */
    }
    reg->ep = ep;
    reg->fd = fd;
    reg->s = s;
    session_ref(s);
    ep->nregs++;

    b = readiness_bucket(epfd, fd, readiness_hash_bits);
    reg->hash_next = readiness_hash[b];
    readiness_hash[b] = reg;
    readiness_nregs++;

    reg->s_next = s->epoll_regs;
    s->epoll_regs = reg;
    return reg;
}

/* readiness_reg_free forgets |reg| (not the kernel's registration). */
static void
readiness_reg_free(struct readiness_reg *reg)
{
    struct readiness_reg **p;

    readiness_unwatch(reg);
    p = &readiness_hash[readiness_bucket(reg->ep->epfd, reg->fd,
                                         readiness_hash_bits)];
    while (*p != reg) {
        p = &(*p)->hash_next;
    }
    *p = reg->hash_next;
    readiness_nregs--;

    for (p = &reg->s->epoll_regs; *p != reg; p = &(*p)->s_next) {
    }
    *p = reg->s_next;

    reg->ep->nregs--;
    session_unref(reg->s);
    free(reg);
}

/* readiness_real_events is what the kernel must watch for: during a
 * handshake, the direction it needs instead of the program's. */
static uint32_t
readiness_real_events(uint32_t prog_events, const struct session_poll *st)
{
    uint32_t dir = EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM;

    if (st->want == 0 || !(prog_events & (EPOLLIN | EPOLLOUT))) {
        return prog_events;
    }
    return (prog_events & ~dir) | (st->want == POLLIN ? EPOLLIN : EPOLLOUT);
}

int
readiness_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    struct session *s = fdtable_get(fd);
    struct readiness_reg *reg;
    struct epoll_event real;
    struct session_poll st;
    int rc;

    pthread_mutex_lock(&readiness_lock);
    reg = readiness_find_locked(epfd, fd);
    if (reg != NULL && reg->s != s) {
        /* |fd| was closed behind the shim's back and now names another
         * socket: the old record says nothing about it. */
        readiness_reg_free(reg);
        reg = NULL;
    }
    if (s == NULL || op == EPOLL_CTL_DEL ||
        (op != EPOLL_CTL_ADD && reg == NULL)) {
        /* Not wrapped, going away, or registered before it was wrapped:
         * the program's own registration. */
        rc = libc.epoll_ctl(epfd, op, fd, event);
        if (rc == 0 && op == EPOLL_CTL_DEL && reg != NULL) {
            readiness_reg_free(reg);
        }
        pthread_mutex_unlock(&readiness_lock);
        session_unref(s);
        return rc;
    }

    session_poll_state(s, fd, false, &st);
    real.events = readiness_real_events(event->events, &st);
    real.data.u64 = READINESS_TAG | (uint32_t)fd;
    rc = libc.epoll_ctl(epfd, op, fd, &real);
    if (rc == 0 && reg == NULL) {
        reg = readiness_reg_new(epfd, fd, s);
        if (reg == NULL) {
            libc.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
            pthread_mutex_unlock(&readiness_lock);
            session_unref(s);
            errno = ENOMEM;
            return -1;
        }
    }
    if (rc == 0) {
        reg->prog_events = event->events;
        reg->prog_data = event->data;
        reg->real_events = real.events;
        reg->reported = false; /* ADD or MOD re-arms, as in the kernel */
        reg->fired = false;
        readiness_watch(reg);
    }
    pthread_mutex_unlock(&readiness_lock);
    session_unref(s);
    return rc;
}

void
readiness_forget(struct session *s, int fd)
{
    pthread_mutex_lock(&readiness_lock);
    for (struct readiness_reg *reg = s->epoll_regs, *next; reg != NULL;
         reg = next) {
        next = reg->s_next;
        if (reg->fd == fd) {
            readiness_reg_free(reg);
        }
    }
    pthread_mutex_unlock(&readiness_lock);
}

void
readiness_epoll_closed(unsigned first, unsigned last)
{
    if (atomic_load_explicit(&readiness_neps, memory_order_relaxed) == 0) {
        return;
    }
    pthread_mutex_lock(&readiness_lock);
    for (struct readiness_ep **p = &readiness_eps; *p != NULL;) {
        struct readiness_ep *ep = *p;

        if ((unsigned)ep->epfd < first || (unsigned)ep->epfd > last) {
            p = &ep->next;
            continue;
        }
        /* The kernel dropped the instance's registrations with it.  This
         * takes a closed copy of an epoll descriptor for the instance
         * itself; programs do not dup their epoll descriptors. */
        for (size_t b = 0;
             ep->nregs > 0 && b < ((size_t)1 << readiness_hash_bits); b++) {
            for (struct readiness_reg *reg = readiness_hash[b], *next;
                 reg != NULL; reg = next) {
                next = reg->hash_next;
                if (reg->ep == ep) {
                    readiness_reg_free(reg);
                }
            }
        }
        *p = ep->next;
        free(ep);
        atomic_fetch_sub(&readiness_neps, 1);
    }
    pthread_mutex_unlock(&readiness_lock);
}

/* readiness_epoll_look brings the kernel's registration of |reg| up to
 * date with its session's state, and says whether the session has
 * plaintext to report now, or -1 when |reg| was dropped (its descriptor
 * no longer names its session).  Takes a calm registration off the watch
 * list. */
static int
readiness_epoll_look(struct readiness_reg *reg, long *cap)
{
    struct session *now = fdtable_get(reg->fd);
    struct session_poll st;
    uint32_t real;

    session_unref(now); /* only compared, never followed */
    if (now != reg->s) {
        readiness_reg_free(reg);
        return -1;
    }
    session_watch_state(reg->s, reg->fd, &st);
    readiness_min_left(cap, st.left_ms);

    real = readiness_real_events(reg->prog_events, &st);
    if (real != reg->real_events && !reg->fired) {
        /* (A fired one-shot registration stays disabled: a MOD would
         * re-enable it in the kernel.) */
        struct epoll_event ev = { .events = real,
                                  .data.u64 =
                                      READINESS_TAG | (uint32_t)reg->fd };

        if (libc.epoll_ctl(reg->ep->epfd, EPOLL_CTL_MOD, reg->fd, &ev) == 0) {
            reg->real_events = real;
        }
    }
    if (st.calm && (reg->fired || reg->real_events == reg->prog_events)) {
        readiness_unwatch(reg);
        return 0;
    }
    if (!st.ready || !(reg->prog_events & EPOLLIN) || reg->fired) {
        return 0;
    }
    if ((reg->prog_events & EPOLLET) && reg->reported &&
        reg->reported_reads == st.reads) {
        /* Edge-triggered: reported once already, and the program has not
         * read since.  Like the kernel, do not report it again until it
         * reads; else a program that leaves the data for later (nginx
         * while it writes a response) would be woken at once by every
         * wait, and spin. */
        return 0;
    }
    reg->reported = true;
    reg->reported_reads = st.reads;
    if (reg->prog_events & EPOLLONESHOT) {
        /* One event per arming: disable the kernel's registration too, or
         * it would fire for the same descriptor while the program (one
         * thread of a pool) still holds it. */
        struct epoll_event off = { .events = EPOLLONESHOT,
                                   .data.u64 =
                                       READINESS_TAG | (uint32_t)reg->fd };

        if (libc.epoll_ctl(reg->ep->epfd, EPOLL_CTL_MOD, reg->fd, &off) == 0) {
            reg->real_events = off.events;
        }
        reg->fired = true;
    }
    return 1;
}

/* readiness_epoll_prepare looks at the watched registrations of |epfd|
 * (readiness_epoll_look) and collects into |out| (room for |max|) the
 * descriptors readable at once.  Returns how many.  |*cap| becomes the
 * time to the nearest handshake deadline (-1: none). */
static int
readiness_epoll_prepare(int epfd, struct epoll_event *out, int max, long *cap)
{
    struct readiness_ep *ep;
    int n = 0;

    *cap = -1;
    pthread_mutex_lock(&readiness_lock);
    ep = readiness_ep_find_locked(epfd);
    for (struct readiness_reg *reg = ep != NULL ? ep->watch : NULL, *next;
         reg != NULL && n < max; reg = next) {
        epoll_data_t data = reg->prog_data;

        next = reg->watch_next;
        if (readiness_epoll_look(reg, cap) == 1) {
            out[n].events = EPOLLIN;
            out[n].data = data;
            n++;
        }
    }
    pthread_mutex_unlock(&readiness_lock);
    return n;
}

/* readiness_epoll_translate rewrites the |n| events the kernel returned
 * for the program, then appends the |n_ready| buffered ones not already
 * there.  Returns the new count. */
static int
readiness_epoll_translate(int epfd, struct epoll_event *events, int n,
                          const struct epoll_event *buffered, int n_ready,
                          int max)
{
    int out = 0;

    pthread_mutex_lock(&readiness_lock);
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = events[i];
        struct readiness_reg *reg;

        if ((ev.data.u64 & READINESS_TAG_MASK) != READINESS_TAG) {
            events[out++] = ev;
            continue;
        }
        reg = readiness_find_locked(epfd, (int)(uint32_t)ev.data.u64);
        if (reg == NULL) {
            continue; /* forgotten: the descriptor was closed */
        }
        if (reg->real_events != reg->prog_events &&
            (ev.events & (EPOLLIN | EPOLLOUT))) {
            /* The handshake's direction is ready: the program's call in
             * its own direction will drive it on. */
            ev.events = (ev.events & ~(uint32_t)(EPOLLIN | EPOLLOUT)) |
                        (reg->prog_events & (EPOLLIN | EPOLLOUT));
        }
        if (reg->prog_events & EPOLLONESHOT) {
            reg->fired = true; /* the kernel disabled it */
        }
        ev.data = reg->prog_data;
        events[out++] = ev;
    }
    pthread_mutex_unlock(&readiness_lock);

    for (int b = 0; b < n_ready; b++) {
        bool merged = false;

        for (int i = 0; i < out; i++) {
            if (events[i].data.u64 == buffered[b].data.u64) {
                events[i].events |= EPOLLIN;
                merged = true;
                break;
            }
        }
        if (!merged && out < max) {
            events[out++] = buffered[b];
        }
    }
    return out;
}

int
readiness_epoll_wait(int epfd, struct epoll_event *events, int max,
                     int timeout_ms, const sigset_t *sigmask)
{
    struct epoll_event buffered[READINESS_STACK_FDS];
    long end = timeout_ms < 0 ? -1 : session_now_ms() + timeout_ms;
    int n_ready;
    int n;

    if (max <= 0) {
        return libc.epoll_pwait(epfd, events, max, timeout_ms, sigmask);
    }
    for (;;) {
        long cap;
        bool capped = false;
        int wait;
        int got;

        n_ready = readiness_epoll_prepare(
            epfd, buffered,
            max < READINESS_STACK_FDS ? max : READINESS_STACK_FDS, &cap);
        wait = n_ready > 0
                   ? 0
                   : readiness_cap_ms(readiness_left_ms(end), cap, &capped);
        got = libc.epoll_pwait(epfd, events, max, wait, sigmask);

        if (got <= 0 && n_ready == 0) {
            if (got == 0 && capped) {
                continue; /* a handshake deadline: look again */
            }
            return got;
        }
        if (got < 0) {
            got = 0; /* still report what is buffered */
        }
        n = readiness_epoll_translate(epfd, events, got, buffered, n_ready,
                                      max);
        /* Only events of descriptors closed meanwhile can vanish in the
         * translation; wait again rather than wake the program for
         * nothing. */
        if (n > 0 || (got == 0 && !capped)) {
            return n;
        }
    }
}
