/*
 * forksrv.c - a server that hands each connection to a new process.
 *
 *   forksrv fork PORT COUNT     accept COUNT connections on 127.0.0.1:PORT;
 *                               for each, fork(): the child serves it, the
 *                               parent closes its copy at once
 *   forksrv clone PORT COUNT    the same with a raw clone system call, as
 *                               vsftpd does: no pthread_atfork handler runs,
 *                               so a library can only notice the new
 *                               process by its pid
 *   forksrv pass PORT COUNT     one worker process, forked before any
 *                               connection, serves them all: the parent
 *                               accepts each and hands it over with
 *                               SCM_RIGHTS on a UNIX socket, as vsftpd
 *                               does between its processes, then closes
 *                               its copy.  The worker never saw the
 *                               connection made.
 *   forksrv client PORT COUNT   connect COUNT times in a row, send a
 *                               request, check the reply
 *
 * The child reads one request line ("request N MARKER\n") and answers
 * "reply N MARKER from child PID\n", then closes.  The server prints one
 * line per connection and, after the last, waits for every child and exits
 * 1 unless all of them exited 0.  The client prints the replies and exits 1
 * unless each one is right.  alarm() bounds every process.
 */
#include "progutil.h"

#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* read_line reads up to a newline (kept) one byte at a time, so that
 * nothing past the line is consumed.  Returns the length, 0 at end of file,
 * -1 on error. */
static ssize_t
read_line(int fd, char *buf, size_t size)
{
    size_t len = 0;

    while (len + 1 < size) {
        ssize_t n = read_full(fd, buf + len, 1);

        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            break;
        }
        len++;
        if (buf[len - 1] == '\n') {
            break;
        }
    }
    buf[len] = '\0';
    return (ssize_t)len;
}

/* serve runs in the child: one request, one reply. */
static int
serve(int fd)
{
    char req[256];
    char reply[400];
    ssize_t n = read_line(fd, req, sizeof(req));

    if (n <= 0 || strncmp(req, "request ", 8) != 0 || req[n - 1] != '\n') {
        fprintf(stderr, "forksrv: child %ld: bad request (%zd bytes): %s\n",
                (long)getpid(), n, n < 0 ? strerror(errno) : req);
        return 1;
    }
    req[n - 1] = '\0';
    snprintf(reply, sizeof(reply), "reply %s from child %ld\n", req + 8,
             (long)getpid());
    if (write_full(fd, reply, strlen(reply)) != 0) {
        fprintf(stderr, "forksrv: child %ld: write: %s\n", (long)getpid(),
                strerror(errno));
        return 1;
    }
    if (close(fd) != 0) {
        fprintf(stderr, "forksrv: child %ld: close: %s\n", (long)getpid(),
                strerror(errno));
        return 1;
    }
    return 0;
}

/* new_process is fork() or the raw clone system call. */
static pid_t
new_process(int raw)
{
    if (!raw) {
        return fork();
    }
    /* x86-64 and most others: clone(flags, stack, ptid, ctid, tls).  A
     * null stack means the child runs on a copy of this one, like fork. */
    return (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
}

static int
run_server(int raw, uint16_t port, int count)
{
    int lfd = listen_on(port);
    int failed = 0;
    int children = 0;

    printf("listening %u (%s)\n", port, raw ? "raw clone" : "fork");
    for (int i = 1; i <= count; i++) {
        int fd = accept(lfd, NULL, NULL);
        pid_t pid;

        if (fd < 0) {
            die("accept");
        }
        pid = new_process(raw);
        if (pid < 0) {
            die("%s", raw ? "clone" : "fork");
        }
        if (pid == 0) {
            close(lfd);
            /* _exit: the child must not run the parent's exit handlers
             * or flush its stdio buffers a second time. */
            _exit(serve(fd));
        }
        /* The parent's copy goes at once, as real servers do: this must
         * not disturb the child's session. */
        if (close(fd) != 0) {
            die("close");
        }
        children++;
        printf("connection %d: child %ld\n", i, (long)pid);
    }
    close(lfd);
    while (children > 0) {
        int status;
        pid_t pid = wait(&status);

        if (pid < 0) {
            die("wait");
        }
        children--;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failed++;
            printf("child %ld: status 0x%x\n", (long)pid, status);
        }
    }
    check(failed == 0, "server: %d of %d children failed", failed, count);
    return checks_exit();
}

/* A message of one byte with room for one descriptor (SCM_RIGHTS): what
 * the parent sends the worker for each connection in the "pass" mode. */
struct fd_msg {
    char byte;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov;
    struct msghdr msg;
};

/* fd_msg_init points m->msg at m's byte and control buffer and returns
 * it. */
static struct msghdr *
fd_msg_init(struct fd_msg *m, char byte)
{
    memset(m, 0, sizeof(*m));
    m->byte = byte;
    m->iov.iov_base = &m->byte;
    m->iov.iov_len = 1;
    m->msg.msg_iov = &m->iov;
    m->msg.msg_iovlen = 1;
    m->msg.msg_control = m->control.buf;
    m->msg.msg_controllen = sizeof(m->control.buf);
    return &m->msg;
}

/* pass_worker receives |count| connections over |unix_fd| and serves each
 * in turn.  Returns the process exit status. */
static int
pass_worker(int unix_fd, int count)
{
    for (int i = 0; i < count; i++) {
        struct fd_msg m;
        struct msghdr *msg = fd_msg_init(&m, 0);
        struct cmsghdr *c;
        int fd;

        if (recvmsg(unix_fd, msg, 0) != 1) {
            return 1;
        }
        c = CMSG_FIRSTHDR(msg);
        if (c == NULL || c->cmsg_type != SCM_RIGHTS) {
            return 1;
        }
        memcpy(&fd, CMSG_DATA(c), sizeof(fd));
        if (serve(fd) != 0) {
            return 1;
        }
    }
    return 0;
}

/* run_pass is the "pass" mode: see the top of the file. */
static int
run_pass(uint16_t port, int count)
{
    int lfd = listen_on(port);
    int pair[2];
    int status;
    pid_t worker;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) {
        die("socketpair");
    }
    worker = fork();
    if (worker < 0) {
        die("fork");
    }
    if (worker == 0) {
        close(lfd);
        close(pair[0]);
        _exit(pass_worker(pair[1], count));
    }
    close(pair[1]);
    printf("listening %u (worker %ld)\n", port, (long)worker);
    for (int i = 1; i <= count; i++) {
        int fd = accept(lfd, NULL, NULL);
        struct fd_msg m;
        struct msghdr *msg = fd_msg_init(&m, 'c');
        struct cmsghdr *c = CMSG_FIRSTHDR(msg);

        if (fd < 0) {
            die("accept");
        }
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(fd));
        if (sendmsg(pair[0], msg, 0) != 1) {
            die("sendmsg");
        }
        if (close(fd) != 0) {
            die("close");
        }
        printf("connection %d: passed to worker %ld\n", i, (long)worker);
    }
    close(lfd);
    if (waitpid(worker, &status, 0) != worker) {
        die("waitpid");
    }
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "server: 0 of %d children failed", count);
    return checks_exit();
}

static int
run_client(uint16_t port, int count, const char *marker)
{
    for (int i = 1; i <= count; i++) {
        int fd = connect_to(port);
        char req[200];
        char want[200];
        char reply[400];
        ssize_t n;

        snprintf(req, sizeof(req), "request %d %s\n", i, marker);
        snprintf(want, sizeof(want), "reply %d %s from child ", i, marker);
        write_str(fd, req);
        n = read_line(fd, reply, sizeof(reply));
        if (n < 0) {
            check(0, "connection %d: read: %s", i, strerror(errno));
        } else {
            reply[strcspn(reply, "\n")] = '\0';
            check(strncmp(reply, want, strlen(want)) == 0,
                  "connection %d: '%s'", i, reply);
            /* Then the child's close: end of file, not a reset. */
            n = read(fd, reply, sizeof(reply));
            check(n == 0,
                  "connection %d: end of file after the reply (%zd%s%s)", i, n,
                  n < 0 ? ", " : "", n < 0 ? strerror(errno) : "");
        }
        close(fd);
    }
    return checks_exit();
}

/* main picks the mode: see the top of the file. */
int
main(int argc, char **argv)
{
    static const char usage[] = "usage: forksrv fork|clone|pass PORT COUNT\n"
                                "       forksrv client PORT COUNT [MARKER]\n";
    const char *mode = start_mode(argc, argv, 4, usage, "fork", "clone", "pass",
                                  "client", NULL);
    int count = atoi(argv[3]);

    if (count < 1) {
        usage_exit(usage);
    }
    alarm(60);
    if (strcmp(mode, "client") == 0) {
        return run_client(parse_port(argv[2]), count,
                          argc > 4 ? argv[4] : "no-marker");
    }
    if (strcmp(mode, "pass") == 0) {
        return run_pass(parse_port(argv[2]), count);
    }
    return run_server(strcmp(mode, "clone") == 0, parse_port(argv[2]), count);
}
