/*
 * tlsctx.h - one BoringSSL SSL_CTX per policy rule, built at start-up.
 *
 * Building the context reads every certificate, key and CA file the rule
 * names, so that a program which later calls chroot() still has them.  The
 * launcher builds the same contexts for `tlsshim --check`.
 */
#ifndef TLSSHIM_TLSCTX_H
#define TLSSHIM_TLSCTX_H

#include "tlsshim/boring.h"
#include "tlsshim/policy.h"

#include <stddef.h>

/* tlsctx_new builds the SSL_CTX for |rule| (BoringSSL must be loaded): the
 * protocol floor (TLS 1.2 at least), cipher suites, the certificate and key
 * (checked to match), the CAs and verification mode, client certificate
 * requests and ALPN.  On success it returns 0 and sets |*out_ctx|, which the
 * caller frees with bssl.SSL_CTX_free.  On failure it returns -1 and writes
 * one line "FILE:LINE: KEY: reason" into |err|. */
int tlsctx_new(const struct policy_rule *rule, SSL_CTX **out_ctx, char *err,
               size_t err_len);

/* tlsctx_key_warning writes one line "FILE:LINE: warning: key: ..." into
 * |out| and returns 1 if the rule's private key file can be read by users
 * other than its owner, else returns 0. */
int tlsctx_key_warning(const struct policy_rule *rule, char *out,
                       size_t out_len);

/* tlsctx_cert_days_left reads the first certificate of the PEM file |path|
 * and sets |*out_days| to the whole days until it expires (negative once it
 * has) and writes its subject into |subject|.  Returns 0, or -1 with a
 * reason in |err|. */
int tlsctx_cert_days_left(const char *path, long *out_days, char *subject,
                          size_t subject_len, char *err, size_t err_len);

#endif /* TLSSHIM_TLSCTX_H */
