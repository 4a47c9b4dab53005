/*
 * bench_util.c - measuring helpers shared by the benchmark programs.
 */
#include "bench.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* die prints "bench: " and the message to stderr and exits 1. */
void
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ts_sec converts a timespec to seconds. */
static double
ts_sec(const struct timespec *ts)
{
    return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

/* clock_sec reads clock id, in seconds. */
static double
clock_sec(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return ts_sec(&ts);
}

/* now_sec: monotonic time in seconds. */
double
now_sec(void)
{
    return clock_sec(CLOCK_MONOTONIC);
}

/* proc_cpu_sec: CPU seconds (user and system, all threads, living and
 * ended) that process |pid| has used so far, or -1.  The process's CPU
 * clock counts in nanoseconds; /proc/PID/stat, the fallback, only in clock
 * ticks (10 ms), too coarse for a run of a few hundred milliseconds. */
double
proc_cpu_sec(pid_t pid)
{
    clockid_t clock;
    struct timespec ts;
    char path[64], buf[1024];
    FILE *f;
    size_t len;
    const char *p;
    unsigned long long utime, stime;
    int field;

    if (clock_getcpuclockid(pid, &clock) == 0 &&
        clock_gettime(clock, &ts) == 0) {
        return ts_sec(&ts);
    }
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    /* The command name may hold blanks and parentheses: count fields
     * after the last ')'.  utime and stime are fields 14 and 15. */
    p = strrchr(buf, ')');
    if (p == NULL) {
        return -1;
    }
    for (field = 2; field < 13 && p != NULL; field++) {
        p = strchr(p + 1, ' ');
    }
    if (p == NULL || sscanf(p, " %llu %llu", &utime, &stime) != 2) {
        return -1;
    }
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* self_cpu_sec: CPU seconds this process has used (all its threads). */
double
self_cpu_sec(void)
{
    return clock_sec(CLOCK_PROCESS_CPUTIME_ID);
}

/* proc_rss_kib: VmRSS of pid (0 for this process) in KiB; -1 if
 * unreadable. */
long
proc_rss_kib(pid_t pid)
{
    char path[64], line[256];
    FILE *f;
    long kib = -1;

    if (pid == 0) {
        snprintf(path, sizeof path, "/proc/self/status");
    } else {
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    }
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmRSS: %ld", &kib) == 1) {
            break;
        }
    }
    fclose(f);
    return kib;
}

/* parse_size accepts 123, 64k, 16K, 1m, 1g (binary units); exits on
 * error. */
uint64_t
parse_size(const char *s)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s) {
        die("not a size: %s", s);
    }
    switch (*end) {
    case 'k':
    case 'K':
        v <<= 10;
        end++;
        break;
    case 'm':
    case 'M':
        v <<= 20;
        end++;
        break;
    case 'g':
    case 'G':
        v <<= 30;
        end++;
        break;
    default:
        break;
    }
    if (*end != '\0') {
        die("not a size: %s", s);
    }
    return v;
}

/* raise_nofile lifts the soft descriptor limit to the hard one. */
void
raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* cmp_double orders doubles, for qsort. */
int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}
