/*
 * fdtable.h - descriptor -> session, shared by dup'd descriptors.
 *
 * A two-level array indexed by descriptor number.  Looking up a descriptor
 * that is not wrapped reads two pointers and takes no lock; a wrapped one
 * takes the table lock only to take a reference, so that a concurrent
 * close() cannot free the session under the caller.
 */
#ifndef TLSSHIM_FDTABLE_H
#define TLSSHIM_FDTABLE_H

#include "tlsshim/session.h"

#include <stdbool.h>

/* fdtable_get returns the session of |fd| with a reference the caller drops
 * with session_unref, or NULL if |fd| is not wrapped. */
struct session *fdtable_get(int fd);

/* fdtable_set makes |fd| refer to |s| (taking a reference of its own) and
 * returns 0, or -EMFILE if |fd| is beyond the table.  A session that |fd|
 * referred to before is released as if |fd| had been closed elsewhere (no
 * close_notify: the descriptor number was reused). */
int fdtable_set(int fd, struct session *s);

/* fdtable_take removes |fd| from the table and returns its session with the
 * table's reference, and sets |*out_last| to whether |fd| was the session's
 * last descriptor.  Returns NULL if |fd| was not wrapped. */
struct session *fdtable_take(int fd, bool *out_last);

/* fdtable_dup makes |new_fd| share the session of |old_fd|, if any.  Used
 * after dup(), dup2(), dup3() and fcntl(F_DUPFD*). */
void fdtable_dup(int old_fd, int new_fd);

/* fdtable_each calls |fn| for every wrapped descriptor, with the table
 * lock held: |fn| must not call back into the table. */
void fdtable_each(void (*fn)(int fd, struct session *s));

/* fdtable_count returns how many descriptors are wrapped (for tests). */
int fdtable_count(void);

#endif /* TLSSHIM_FDTABLE_H */
