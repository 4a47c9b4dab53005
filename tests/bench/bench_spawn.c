/*
 * bench_spawn.c - the start-up cost of a process: fork and exec a command
 * N times with exactly the environment given, and report the median and
 * mean wall time from fork to the child's exit.
 *
 *   bench_spawn [-n N] [-e VAR=VALUE]... -- COMMAND [ARG...]
 *
 * Run with and without LD_PRELOAD=libtlsshim.so (and TLSSHIM_POLICY) to
 * see what the library adds to every process that inherits it.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ENV 32

int
main(int argc, char **argv)
{
    char *env[MAX_ENV + 1];
    int n_env = 0, n = 200, o, i, failures = 0;
    double *t, sum = 0;

    env[n_env++] = "PATH=/usr/bin:/bin";
    while ((o = getopt(argc, argv, "n:e:")) != -1) {
        switch (o) {
        case 'n':
            n = atoi(optarg);
            break;
        case 'e':
            if (n_env == MAX_ENV || strchr(optarg, '=') == NULL) {
                die("bad -e %s", optarg);
            }
            env[n_env++] = optarg;
            break;
        default:
            die("usage: bench_spawn [-n N] [-e VAR=VALUE]... -- COMMAND...");
        }
    }
    env[n_env] = NULL;
    if (optind >= argc || n <= 0) {
        die("usage: bench_spawn [-n N] [-e VAR=VALUE]... -- COMMAND...");
    }
    t = malloc((size_t)n * sizeof *t);
    if (t == NULL) {
        die("out of memory");
    }
    for (i = 0; i < n; i++) {
        int status;
        double start = now_sec();
        pid_t pid = fork();
        if (pid < 0) {
            die("fork: %m");
        }
        if (pid == 0) {
            execve(argv[optind], argv + optind, env);
            _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid) {
            die("waitpid: %m");
        }
        t[i] = now_sec() - start;
        sum += t[i];
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failures++;
        }
    }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    printf("workload=spawn count=%d failures=%d spawn_med_us=%.1f "
           "spawn_mean_us=%.1f\n",
           n, failures, t[n / 2] * 1e6, sum / n * 1e6);
    free(t);
    return failures != 0;
}
