/*
 * init.c - load everything the shim needs, once, at start-up.
 *
 * A process without TLSSHIM_POLICY pays for one getenv().  A process with a
 * policy reads it at start-up and checks that its files and BoringSSL are
 * there.  The program the launcher started (or one preloaded by hand) then
 * loads BoringSSL and builds every rule's context (reading the
 * certificates, keys and CAs) at once, before it can chroot() or drop
 * privileges.  The processes it starts in turn inherit the policy but
 * mostly never wrap anything (the shell children of a server, say), and
 * loading BoringSSL costs milliseconds: they load it when a rule first
 * matches, or before they chroot() or change user (interpose_lockdown.c).
 */
#include "tlsshim/init.h"

#include "tlsshim/fdtable.h"
#include "tlsshim/log.h"
#include "tlsshim/real.h"
#include "tlsshim/session.h"
#include "tlsshim/streams.h"
#include "tlsshim/tlsctx.h"
#include "tlsshim/wrap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

atomic_bool init_active;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static struct policy *init_policy;
static SSL_CTX **init_ctxs;

/* init_fatal logs |msg| (which may hold several lines) and ends the
 * process: running the program without the protection its policy asks for
 * would send its data in the clear. */
static void
init_fatal(const char *msg)
{
    const char *line = msg;

    /* One line per problem; the last also says what happens now, so that a
     * single problem gives a single line. */
    while (*line != '\0') {
        size_t len = strcspn(line, "\n");
        bool last = line[len] == '\0' || line[len + 1] == '\0';

        log_msg(
            LOG_LEVEL_ERROR, "%.*s%s", (int)len, line,
            last
                ? "; not running the program without the protection its policy asks for"
                : "");
        line += len;
        line += *line == '\n';
    }
    _exit(2);
}

static pthread_once_t init_tls_once = PTHREAD_ONCE_INIT;
static bool init_tls_ok;
static char init_tls_error[4096]; /* why init_tls_run failed */

/* init_tls_run loads BoringSSL and builds every rule's context; on failure
 * it keeps the reason in init_tls_error. */
static void
init_tls_run(void)
{
    char *err = init_tls_error;
    size_t err_len = sizeof(init_tls_error);

    if (boring_load(err, err_len) != 0 || session_global_init() != 0) {
        return;
    }
    init_ctxs = calloc(init_policy->rules_len, sizeof(*init_ctxs));
    if (init_ctxs == NULL) {
        snprintf(err, err_len, "out of memory for TLS contexts");
        return;
    }
    for (size_t i = 0; i < init_policy->rules_len; i++) {
        if (tlsctx_new(&init_policy->rules[i], &init_ctxs[i], err, err_len) !=
            0) {
            return;
        }
    }
    for (size_t i = 0; i < init_policy->rules_len; i++) {
        char warning[1024];

        if (tlsctx_key_warning(&init_policy->rules[i], warning,
                               sizeof(warning))) {
            log_msg(LOG_LEVEL_WARN, "%s", warning);
        }
    }
    init_tls_ok = true;
}

int
init_load_tls(void)
{
    static atomic_bool reported;

    /* No init_ensure() here: start-up itself gets here when it wraps an
     * inherited socket, and pthread_once must not be re-entered. */
    if (!atomic_load_explicit(&init_active, memory_order_acquire)) {
        return 0;
    }
    pthread_once(&init_tls_once, init_tls_run);
    if (!init_tls_ok && !atomic_exchange(&reported, true)) {
        log_msg(LOG_LEVEL_ERROR,
                "%s; connections the policy matches are refused",
                init_tls_error);
    }
    return init_tls_ok ? 0 : -1;
}

/* init_is_descendant reports whether this process was started by a program
 * that the launcher started (TLSSHIM_LAUNCHER_PID names another process),
 * rather than by the launcher itself or with LD_PRELOAD set by hand. */
static bool
init_is_descendant(void)
{
    const char *pid = getenv("TLSSHIM_LAUNCHER_PID");

    return pid != NULL && *pid != '\0' && atol(pid) != (long)getpid();
}

/* init_inherited_sockets wraps a connection this process was started
 * with on fds 0 and 1, as inetd, tcpsvd or a forking server that dup2()s
 * the connection before exec hand it over.  When both are the same socket
 * they share one session. */
static void
init_inherited_sockets(void)
{
    struct stat st0;
    struct stat st1;

    bool sock0 = fstat(0, &st0) == 0 && S_ISSOCK(st0.st_mode);

    if (sock0) {
        wrap_recognise(0);
    }
    if (fstat(1, &st1) == 0 && S_ISSOCK(st1.st_mode)) {
        if (sock0 && st0.st_dev == st1.st_dev && st0.st_ino == st1.st_ino) {
            fdtable_dup(0, 1);
        } else {
            wrap_recognise(1);
        }
    }

    /* stdio on them must go through the session too. */
    for (int fd = 0; fd <= 1; fd++) {
        struct session *s = fdtable_get(fd);

        if (s != NULL) {
            streams_adopt_std(fd);
            session_unref(s);
        }
    }
}

static void
init_run(void)
{
    const char *path = getenv("TLSSHIM_POLICY");
    char err[4096];

    real_resolve();
    log_set_writer(libc.write);
    log_init();
    if (path == NULL || *path == '\0') {
        return;
    }

    if (policy_load(path, &init_policy, err, sizeof(err)) != 0) {
        init_fatal(err);
    }
    if (init_policy->rules_len == 0) {
        log_msg(LOG_LEVEL_DEBUG, "policy %s has no rules", path);
        return;
    }
    if (boring_present(err, sizeof(err)) != 0) {
        init_fatal(err);
    }
    atomic_store_explicit(&init_active, true, memory_order_release);

    /* The program itself (started by the launcher, which checked the
     * policy, or preloaded by hand, which nothing checked) loads TLS now:
     * a policy the library cannot use stops it here, before it runs.  The
     * processes it starts in turn, which inherit the policy and mostly
     * never wrap anything, load TLS only when a rule first matches. */
    if (!init_is_descendant()) {
        pthread_once(&init_tls_once, init_tls_run);
        if (!init_tls_ok) {
            init_fatal(init_tls_error);
        }
    }
    log_msg(LOG_LEVEL_DEBUG, "policy %s: %zu rules loaded", path,
            init_policy->rules_len);
    init_inherited_sockets();
}

void
init_ensure(void)
{
    pthread_once(&init_once, init_run);
}

const struct policy_rule *
init_match(enum policy_kind kind, const struct sockaddr *sa, socklen_t sa_len,
           const char *name, SSL_CTX **out_ctx)
{
    const struct policy_rule *rule =
        policy_match(init_policy, kind, sa, sa_len, name);

    *out_ctx = NULL;
    if (rule != NULL && init_load_tls() == 0) {
        *out_ctx = init_ctxs[rule - init_policy->rules];
    }
    return rule;
}

__attribute__((constructor)) static void
init_constructor(void)
{
    init_ensure();
}

/* init_close_at_exit ends the sessions of a process that exits without
 * closing them (inetd-style services often do): their peers would
 * otherwise see a truncated stream.  Only the process that ran a
 * session's handshake sends its close_notify. */
static void
init_close_at_exit(int fd, struct session *s)
{
    session_close_last(s, fd);
}

__attribute__((destructor)) static void
init_destructor(void)
{
    if (atomic_load_explicit(&init_active, memory_order_acquire)) {
        streams_flush_all();
        fdtable_each(init_close_at_exit);
    }
}
