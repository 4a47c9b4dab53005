/*
 * sockops.c - the descriptor and message calls on one connection.
 *
 *   sockops server PORT            accept one connection on 127.0.0.1:PORT
 *   sockops client PORT FILE       connect to it; FILE is sent by sendfile
 *
 * The two ends run a fixed script; each step is one check line ("ok: ..."
 * or "FAIL: ..."), and the exit status is 1 if any check failed.
 *
 *   client                                   server
 *   write on dup(fd), dup2, dup3 and          read each line on its fd
 *     fcntl(F_DUPFD_CLOEXEC) copies
 *   writev (3 pieces), sendmsg (2 pieces)     read them whole
 *   sendfile(FILE), asking for more than      read it, answer its checksum
 *     the file holds, after a length header
 *   compare the checksum with its own
 *                                             send a line
 *   recv(MSG_PEEK) twice, FIONREAD > 0,
 *     then read: the same bytes
 *                                             send 100000 bytes in pieces
 *   recv(MSG_WAITALL) gets them in one call
 *                                             send two lines
 *   readv into 2 buffers, recvmsg
 *   close(fd): the copies keep the session
 *   write on a copy                           read it on a dup, close the
 *                                             original, answer on the dup
 *   read the answer on another copy
 *   shutdown(SHUT_WR): close_notify           read: end of file; still
 *                                             writes, then closes its last
 *                                             descriptor
 *   read the line, then end of file (the
 *     peer's close_notify, not a reset)
 *
 * alarm() bounds the run.
 */
#include "progutil.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>

#define BULK_LEN 100000

/* bulk_byte is byte I of the MSG_WAITALL block. */
static unsigned char
bulk_byte(size_t i)
{
    return (unsigned char)(i * 31 + i / 256);
}

static int
run_client(uint16_t port, const char *path)
{
    int fd = connect_to(port);
    int d1, d2, d3, d4;
    char buf[256];
    char sumline[64];
    static unsigned char bulk[BULK_LEN];
    struct stat st;
    uint64_t sum = FNV_INIT;
    ssize_t n;
    int avail = -1;
    int file;

    /* --- descriptors that share the session --- */
    d1 = dup(fd);
    d2 = dup2(fd, 50);
    d3 = dup3(fd, 51, O_CLOEXEC);
    d4 = fcntl(fd, F_DUPFD_CLOEXEC, 60);
    if (d1 < 0 || d2 != 50 || d3 != 51 || d4 < 60) {
        die("dup: %d %d %d %d", d1, d2, d3, d4);
    }
    write_str(d1, "A: written on dup\n");
    write_str(d2, "B: written on dup2\n");
    write_str(d3, "C: written on dup3\n");
    write_str(d4, "D: written on F_DUPFD_CLOEXEC\n");
    check(1, "wrote on dup %d, dup2 %d, dup3 %d, F_DUPFD_CLOEXEC %d", d1, d2,
          d3, d4);

    /* --- gather writes --- */
    {
        struct iovec iov[3] = {
            { .iov_base = "E: written ", .iov_len = 11 },
            { .iov_base = "by ", .iov_len = 3 },
            { .iov_base = "writev\n", .iov_len = 7 },
        };
        struct iovec miov[2] = {
            { .iov_base = "F: written ", .iov_len = 11 },
            { .iov_base = "by sendmsg\n", .iov_len = 11 },
        };
        struct msghdr msg = { .msg_iov = miov, .msg_iovlen = 2 };

        n = writev(fd, iov, 3);
        check(n == 21, "writev: 3 pieces, %zd of 21 bytes", n);
        n = sendmsg(fd, &msg, 0);
        check(n == 22, "sendmsg: 2 pieces, %zd of 22 bytes", n);
    }

    /* --- sendfile --- */
    file = open(path, O_RDONLY);
    if (file < 0 || fstat(file, &st) != 0) {
        die("open %s", path);
    }
    for (;;) {
        char chunk[65536];
        ssize_t r = read(file, chunk, sizeof(chunk));

        if (r < 0) {
            die("read %s", path);
        }
        if (r == 0) {
            break;
        }
        sum = fnv1a(sum, chunk, (size_t)r);
    }
    snprintf(buf, sizeof(buf), "G: sendfile %012lld\n", (long long)st.st_size);
    write_str(fd, buf);
    {
        off_t off = 0;
        long long sent = 0;

        while (off < st.st_size) {
            /* Asking for more than the file holds, as servers that send
             * "up to N bytes" do: sendfile stops at the end of the file,
             * and what it sent must leave at once (the shim sends the
             * records of one call with MSG_MORE but the last, and must not
             * leave the ones it sent waiting in TCP for more). */
            n = sendfile(fd, file, &off, (size_t)(st.st_size - off) + 65536);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            sent += n;
        }
        check(sent == (long long)st.st_size && off == st.st_size,
              "sendfile: %lld of %lld bytes, offset %lld", sent,
              (long long)st.st_size, (long long)off);
    }
    close(file);
    snprintf(sumline, sizeof(sumline), "H: sum %016llx\n",
             (unsigned long long)sum);
    expect_str(fd, sumline, "sendfile: the server's checksum of the file");

    /* --- MSG_PEEK and FIONREAD: the server sends "I: peek me\n" --- */
    {
        static const char want[] = "I: peek me\n";
        size_t len = sizeof(want) - 1;
        char peek1[32] = "";
        char peek2[32] = "";
        ssize_t p1;
        ssize_t p2;

        /* MSG_PEEK waits for data like recv does; MSG_WAITALL makes it
         * wait for the whole line.  Peeked twice: nothing is consumed. */
        p1 = recv(fd, peek1, len, MSG_PEEK | MSG_WAITALL);
        p2 = recv(d1, peek2, len, MSG_PEEK);
        check(p1 == (ssize_t)len && memcmp(peek1, want, len) == 0,
              "MSG_PEEK: '%.*s' (%zd bytes)", (int)(p1 > 0 ? p1 - 1 : 0), peek1,
              p1);
        check(p2 > 0 && memcmp(peek2, want, (size_t)p2) == 0,
              "MSG_PEEK again, on a dup: the same %zd bytes", p2);
        if (ioctl(fd, FIONREAD, &avail) != 0) {
            avail = -1;
        }
        check(avail >= (int)len,
              "FIONREAD: %d bytes ready (at least the %zu peeked)", avail, len);
        expect_str(fd, want, "read after MSG_PEEK");
    }

    /* --- MSG_WAITALL: the server sends BULK_LEN bytes in small pieces */
    n = recv(fd, bulk, sizeof(bulk), MSG_WAITALL);
    {
        size_t bad = 0;

        for (size_t i = 0; n > 0 && i < (size_t)n; i++) {
            if (bulk[i] != bulk_byte(i)) {
                bad++;
            }
        }
        check(n == BULK_LEN && bad == 0,
              "MSG_WAITALL: one recv returned %zd of %d bytes, %zu wrong", n,
              BULK_LEN, bad);
    }

    /* --- readv and recvmsg: the server sends "J: readv\n" and
     * "K: recvmsg\n" --- */
    {
        char a[4] = "";
        char b[5] = "";
        char c[6] = "";
        char e[5] = "";
        struct iovec iov[2] = {
            { .iov_base = a, .iov_len = sizeof(a) },
            { .iov_base = b, .iov_len = sizeof(b) },
        };
        struct iovec miov[2] = {
            { .iov_base = c, .iov_len = sizeof(c) },
            { .iov_base = e, .iov_len = sizeof(e) },
        };
        struct msghdr msg = { .msg_iov = miov, .msg_iovlen = 2 };
        size_t got = 0;

        /* readv may return less than asked for: loop as a program would. */
        while (got < 9) {
            n = readv(fd, iov, 2);
            if (n <= 0) {
                break;
            }
            got += (size_t)n;
            /* Advance the vector past what arrived. */
            for (int i = 0; i < 2 && n > 0; i++) {
                size_t take =
                    (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;

                iov[i].iov_base = (char *)iov[i].iov_base + take;
                iov[i].iov_len -= take;
                n -= (ssize_t)take;
            }
        }
        check(got == 9 && memcmp(a, "J: r", 4) == 0 &&
                  memcmp(b, "eadv\n", 5) == 0,
              "readv: '%.4s' + '%.4s' (%zu bytes)", a, b, got);
        n = recvmsg(fd, &msg, MSG_WAITALL);
        check(n == 11 && memcmp(c, "K: rec", 6) == 0 &&
                  memcmp(e, "vmsg\n", 5) == 0,
              "recvmsg: '%.6s' + '%.4s' (%zd bytes)", c, e, n);
    }

    /* --- the original closes, the copies carry on --- */
    check(close(fd) == 0, "close of the original descriptor %d", fd);
    write_str(d2, "L: after the original closed\n");
    expect_str(d4, "M: answered on the server's dup\n",
               "read on a copy after the original closed");

    /* --- shutdown(SHUT_WR): close_notify, and reading goes on --- */
    check(shutdown(d1, SHUT_WR) == 0, "shutdown(SHUT_WR) on a copy");
    expect_str(d3, "N: written after your shutdown\n",
               "read after this end's shutdown(SHUT_WR)");
    n = read(d3, buf, sizeof(buf));
    check(n == 0,
          "end of file once the server closed its last descriptor "
          "(read returned %zd%s%s)",
          n, n < 0 ? ", " : "", n < 0 ? strerror(errno) : "");

    close(d1);
    close(d2);
    close(d3);
    close(d4);
    return checks_exit();
}

static int
run_server(uint16_t port)
{
    int lfd = listen_on(port);
    int fd;
    int sd;
    char hdr[32];
    char buf[65536];
    long long size;
    long long got = 0;
    uint64_t sum = FNV_INIT;
    ssize_t n;

    printf("listening %u\n", port);
    fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
        die("accept");
    }
    close(lfd);

    expect_str(fd, "A: written on dup\n", "line written on the client's dup");
    expect_str(fd, "B: written on dup2\n", "line written on dup2");
    expect_str(fd, "C: written on dup3\n", "line written on dup3");
    expect_str(fd, "D: written on F_DUPFD_CLOEXEC\n",
               "line written on F_DUPFD_CLOEXEC");
    expect_str(fd, "E: written by writev\n", "line written by writev");
    expect_str(fd, "F: written by sendmsg\n", "line written by sendmsg");

    /* "G: sendfile %012lld\n" then the file. */
    n = read_full(fd, hdr, 25);
    hdr[n > 0 ? n : 0] = '\0';
    if (n != 25 || sscanf(hdr, "G: sendfile %lld", &size) != 1) {
        check(0, "sendfile header: '%s'", hdr);
        return checks_exit();
    }
    while (got < size) {
        size_t want = size - got < (long long)sizeof(buf) ? (size_t)(size - got)
                                                          : sizeof(buf);

        n = read(fd, buf, want);
        if (n <= 0) {
            break;
        }
        sum = fnv1a(sum, buf, (size_t)n);
        got += n;
    }
    check(got == size, "sendfile: received %lld of %lld bytes", got, size);
    snprintf(hdr, sizeof(hdr), "H: sum %016llx\n", (unsigned long long)sum);
    write_str(fd, hdr);

    write_str(fd, "I: peek me\n");

    /* The MSG_WAITALL block, in pieces of varying size. */
    for (size_t off = 0, piece = 1; off < BULK_LEN; off += piece) {
        piece = (piece * 5 + 3) % 7001 + 1;
        if (piece > BULK_LEN - off) {
            piece = BULK_LEN - off;
        }
        for (size_t i = 0; i < piece; i++) {
            buf[i] = (char)bulk_byte(off + i);
        }
        if (write_full(fd, buf, piece) != 0) {
            die("write bulk");
        }
    }

    write_str(fd, "J: readv\n");
    write_str(fd, "K: recvmsg\n");

    /* A copy of this end, then the original closes. */
    sd = dup(fd);
    if (sd < 0) {
        die("dup");
    }
    expect_str(sd, "L: after the original closed\n",
               "line after the client closed its original");
    check(close(fd) == 0, "server: close of the original %d, dup %d stays", fd,
          sd);
    write_str(sd, "M: answered on the server's dup\n");

    n = read(sd, buf, sizeof(buf));
    check(n == 0,
          "end of file from the client's shutdown(SHUT_WR) (read returned "
          "%zd%s%s)",
          n, n < 0 ? ", " : "", n < 0 ? strerror(errno) : "");
    write_str(sd, "N: written after your shutdown\n");
    check(close(sd) == 0, "server: close of the last descriptor");
    return checks_exit();
}

/* main picks the end to play: see the top of the file. */
int
main(int argc, char **argv)
{
    static const char usage[] = "usage: sockops server PORT\n"
                                "       sockops client PORT FILE\n";
    const char *mode =
        start_mode(argc, argv, 3, usage, "server", "client", NULL);

    if (strcmp(mode, "client") == 0 && argc < 4) {
        usage_exit(usage);
    }
    alarm(60);
    if (strcmp(mode, "server") == 0) {
        return run_server(parse_port(argv[2]));
    }
    return run_client(parse_port(argv[2]), argv[3]);
}
