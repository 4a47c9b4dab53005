/*
 * transport.c - the part of the transport that is the same for both
 * (transport_plain.c, transport_tls.c): its command-line options, its
 * start-up and whole writes.  Linked into bench_server and bench_client.
 */
#include "bench.h"

#include <signal.h>
#include <string.h>

/* tr_option applies one transport option to cfg: 1, or 0 if o is not one
 * (see bench.h). */
int
tr_option(struct tr_config *cfg, int o, const char *arg)
{
    switch (o) {
    case TR_OPT_CERT:
        cfg->cert = arg;
        break;
    case TR_OPT_KEY:
        cfg->key = arg;
        break;
    case TR_OPT_CA:
        cfg->ca = arg;
        break;
    case TR_OPT_NAME:
        cfg->name = arg;
        break;
    case TR_OPT_RESUME:
        cfg->resume = 1;
        break;
    case TR_OPT_INFO:
        cfg->info = 1;
        break;
    default:
        return 0;
    }
    return 1;
}

/* tr_start checks the configuration, prepares the process and the
 * transport (see bench.h). */
int
tr_start(const struct tr_config *cfg)
{
    if (strcmp(tr_name, "tls") == 0) {
        if (cfg->server && (cfg->cert == NULL || cfg->key == NULL)) {
            die("the TLS server needs --cert and --key");
        }
        if (!cfg->server && cfg->ca == NULL) {
            die("the TLS client needs --ca");
        }
    }
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    return tr_init(cfg);
}

/* tr_write writes all n bytes with as many tr_write_some calls as it
 * takes: 0, or -1 on error. */
int
tr_write(struct tr_conn *c, const void *buf, size_t n)
{
    const char *p = buf;

    while (n > 0) {
        ssize_t w = tr_write_some(c, p, n);
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
