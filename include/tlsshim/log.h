/*
 * log.h - one line per event, never into the program's own connections.
 *
 * Lines look like "tlsshim[PID]: message".  The level comes from TLSSHIM_LOG
 * (error, warn, info, debug; default warn) and the destination from
 * TLSSHIM_LOG_FILE (a path, "stderr" or "syslog").  Without
 * TLSSHIM_LOG_FILE the log goes to stderr, or to syslog when fd 2 is closed
 * or is a socket.  In a setuid or setgid process both variables are ignored.
 * Logging preserves errno.
 */
#ifndef TLSSHIM_LOG_H
#define TLSSHIM_LOG_H

#include <stdbool.h>
#include <sys/types.h>

enum log_level {
    LOG_LEVEL_ERROR, /* our fault or the policy's: the user must act */
    LOG_LEVEL_WARN,  /* a connection failed or is weakened */
    LOG_LEVEL_INFO,  /* one line per handshake; a peer's ordinary faults */
    LOG_LEVEL_DEBUG, /* everything else */
};

/* log_init reads the environment and opens the destination.  Calling it
 * again re-reads the environment.  Before it runs, warnings and errors go to
 * stderr. */
void log_init(void);

/* log_set_writer makes log lines go out through |writer| (the real
 * write(2), once the library has found it) instead of the syscall()
 * function, which the library interposes. */
void log_set_writer(ssize_t (*writer)(int fd, const void *buf, size_t len));

/* log_enabled reports whether lines of |level| are written. */
bool log_enabled(enum log_level level);

/* log_msg writes one line at |level|.  A trailing newline is added. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* TLSSHIM_LOG_H */
