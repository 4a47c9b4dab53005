/*
 * init.h - the shim's start-up: environment, policy, BoringSSL and every
 * rule's TLS context, loaded before the program can chroot().
 */
#ifndef TLSSHIM_INIT_H
#define TLSSHIM_INIT_H

#include "tlsshim/boring.h"
#include "tlsshim/policy.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

/* init_active is true once a policy with at least one rule is loaded.
 * While it is false every interposed call passes straight through. */
extern atomic_bool init_active;

/* init_ensure runs start-up once per process (the constructor calls it; an
 * interposed call that needs the policy and runs before the constructor
 * calls it too).  Start-up reads the policy and checks that every file it
 * names and BoringSSL are there; if TLSSHIM_POLICY is set and that fails,
 * it logs why and exits with status 2: the program must not run
 * unprotected. */
void init_ensure(void);

/* init_load_tls loads BoringSSL and builds every rule's TLS context, once
 * per process.  It runs when a rule first matches a connection, and before
 * the program can lose access to the files: the interposed chroot() and
 * the calls that change user, group or capabilities call it first.  A
 * process whose policy never applies never pays for it.  Call it after
 * init_ensure().  Returns 0, or -1 after logging why (then no connection
 * a rule matches can be made). */
int init_load_tls(void);

/* init_match returns the rule of kind |kind| that matches |sa| (and the
 * resolved |name|, may be NULL) and sets |*out_ctx| to its TLS context, or
 * returns NULL.  A matching rule whose context cannot be built is returned
 * with |*out_ctx| NULL: the caller must refuse the connection. */
const struct policy_rule *init_match(enum policy_kind kind,
                                     const struct sockaddr *sa,
                                     socklen_t sa_len, const char *name,
                                     SSL_CTX **out_ctx);

#endif /* TLSSHIM_INIT_H */
