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
 * calls it too).  If TLSSHIM_POLICY is set but the policy, BoringSSL or a
 * credential cannot be loaded, it logs why and exits with status 2: the
 * program must not run unprotected. */
void init_ensure(void);

/* init_match returns the rule of kind |kind| that matches |sa| (and the
 * resolved |name|, may be NULL) and sets |*out_ctx| to its TLS context, or
 * returns NULL. */
const struct policy_rule *init_match(enum policy_kind kind,
                                     const struct sockaddr *sa,
                                     socklen_t sa_len, const char *name,
                                     SSL_CTX **out_ctx);

#endif /* TLSSHIM_INIT_H */
