/*
 * log.c - the shim's one-line log.
 *
 * The shim lives inside someone else's process: it never writes to stdout,
 * and never into a descriptor that might be one of the program's
 * connections.  When fd 2 is a socket (inetd-style services have their
 * connection there) or closed, the default destination is syslog.
 *
 * Lines are formatted into a stack buffer and written with one write(2)
 * system call, so lines of concurrent threads do not interleave and the
 * interposed write() is never re-entered.
 */
#include "tlsshim/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

enum log_dest {
    LOG_DEST_STDERR, /* fd 2 */
    LOG_DEST_FILE,   /* log_fd, opened O_APPEND */
    LOG_DEST_SYSLOG, /* syslog(3) */
};

static enum log_level log_level = LOG_LEVEL_WARN;
static enum log_dest log_dest = LOG_DEST_STDERR;
static int log_fd = -1;
static ssize_t (*log_writer)(int fd, const void *buf, size_t len);

static const char *const log_level_names[] = {
    [LOG_LEVEL_ERROR] = "error",
    [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};

/* log_raw_write writes with the system call itself: the interposed write()
 * must not see the shim's own log lines. */
static void
log_raw_write(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        long n = log_writer != NULL ? log_writer(fd, buf, len)
                                    : syscall(SYS_write, fd, buf, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

static bool
log_fd2_is_safe(void)
{
    struct stat st;

    if (fstat(2, &st) != 0) {
        return false;
    }
    return !S_ISSOCK(st.st_mode);
}

void
log_init(void)
{
    /* A setuid program must not let its caller pick a file to append to. */
    bool trusted_env = getauxval(AT_SECURE) == 0;
    const char *level = trusted_env ? getenv("TLSSHIM_LOG") : NULL;
    const char *dest = trusted_env ? getenv("TLSSHIM_LOG_FILE") : NULL;

    log_level = LOG_LEVEL_WARN;
    for (size_t i = 0; level != NULL && i < 4; i++) {
        if (strcasecmp(level, log_level_names[i]) == 0) {
            log_level = (enum log_level)i;
        }
    }

    if (log_fd >= 0) {
        close(log_fd);
        log_fd = -1;
    }
    if (dest == NULL || *dest == '\0') {
        log_dest = log_fd2_is_safe() ? LOG_DEST_STDERR : LOG_DEST_SYSLOG;
    } else if (strcmp(dest, "stderr") == 0) {
        log_dest = LOG_DEST_STDERR;
    } else if (strcmp(dest, "syslog") == 0) {
        log_dest = LOG_DEST_SYSLOG;
    } else {
        log_fd = open(dest, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        log_dest = log_fd >= 0 ? LOG_DEST_FILE : LOG_DEST_STDERR;
    }
    if (log_dest == LOG_DEST_SYSLOG) {
        openlog("tlsshim", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    }
}

void
log_set_writer(ssize_t (*writer)(int fd, const void *buf, size_t len))
{
    log_writer = writer;
}

bool
log_enabled(enum log_level level)
{
    return level <= log_level;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    static const int syslog_prio[] = {
        [LOG_LEVEL_ERROR] = LOG_ERR,
        [LOG_LEVEL_WARN] = LOG_WARNING,
        [LOG_LEVEL_INFO] = LOG_INFO,
        [LOG_LEVEL_DEBUG] = LOG_DEBUG,
    };
    int saved_errno = errno;
    char line[1024];
    int prefix_len;
    int body_len;
    va_list ap;

    if (!log_enabled(level)) {
        return;
    }

    prefix_len = snprintf(line, sizeof(line), "tlsshim[%ld]: ", (long)getpid());
    va_start(ap, fmt);
    body_len =
        vsnprintf(line + prefix_len, sizeof(line) - prefix_len - 1, fmt, ap);
    va_end(ap);
    if (body_len < 0) {
        errno = saved_errno;
        return;
    }
    if ((size_t)body_len > sizeof(line) - prefix_len - 2) {
        body_len = (int)(sizeof(line) - prefix_len - 2);
    }

    if (log_dest == LOG_DEST_SYSLOG) {
        syslog(syslog_prio[level], "%s", line + prefix_len);
    } else {
        size_t len = (size_t)prefix_len + (size_t)body_len;

        line[len++] = '\n';
        log_raw_write(log_dest == LOG_DEST_FILE ? log_fd : 2, line, len);
    }
    errno = saved_errno;
}
