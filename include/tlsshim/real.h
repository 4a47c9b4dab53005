/*
 * real.h - the next definitions of the libc calls the shim interposes.
 *
 * The shim's own I/O, and BoringSSL's through the shim's BIO, must reach the
 * real libc functions, never the interposed ones.  The table |libc| is
 * filled with dlsym(RTLD_NEXT, ...) the first time any interposed call runs:
 * not in a constructor, because another library's constructor may call
 * read() or close() before the shim's constructor has run.
 */
#ifndef TLSSHIM_REAL_H
#define TLSSHIM_REAL_H

#include <aio.h>
#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* struct libc_calls holds one pointer per interposed libc call, named after
 * the call. */
struct libc_calls {
    int (*connect)(int fd, const struct sockaddr *addr, socklen_t len);
    int (*accept)(int fd, struct sockaddr *addr, socklen_t *len);
    int (*accept4)(int fd, struct sockaddr *addr, socklen_t *len, int flags);
    ssize_t (*read)(int fd, void *buf, size_t len);
    ssize_t (*write)(int fd, const void *buf, size_t len);
    ssize_t (*readv)(int fd, const struct iovec *iov, int iovcnt);
    ssize_t (*writev)(int fd, const struct iovec *iov, int iovcnt);
    ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
    ssize_t (*send)(int fd, const void *buf, size_t len, int flags);
    ssize_t (*recvfrom)(int fd, void *buf, size_t len, int flags,
                        struct sockaddr *addr, socklen_t *addr_len);
    ssize_t (*sendto)(int fd, const void *buf, size_t len, int flags,
                      const struct sockaddr *addr, socklen_t addr_len);
    ssize_t (*recvmsg)(int fd, struct msghdr *msg, int flags);
    ssize_t (*sendmsg)(int fd, const struct msghdr *msg, int flags);
    ssize_t (*sendfile)(int out_fd, int in_fd, off_t *offset, size_t count);
    ssize_t (*splice)(int fd_in, off64_t *off_in, int fd_out, off64_t *off_out,
                      size_t len, unsigned int flags);
    int (*close)(int fd);
    int (*close_range)(unsigned int first, unsigned int last, int flags);
    int (*shutdown)(int fd, int how);
    int (*dup)(int fd);
    int (*dup2)(int fd, int fd2);
    int (*dup3)(int fd, int fd2, int flags);
    int (*fcntl)(int fd, int cmd, ...);
    int (*ioctl)(int fd, unsigned long request, ...);
    int (*poll)(struct pollfd *fds, nfds_t nfds, int timeout);
    int (*ppoll)(struct pollfd *fds, nfds_t nfds, const struct timespec *ts,
                 const sigset_t *sigmask);
    int (*select)(int nfds, fd_set *readfds, fd_set *writefds,
                  fd_set *exceptfds, struct timeval *timeout);
    int (*pselect)(int nfds, fd_set *readfds, fd_set *writefds,
                   fd_set *exceptfds, const struct timespec *timeout,
                   const sigset_t *sigmask);
    int (*epoll_ctl)(int epfd, int op, int fd, struct epoll_event *event);
    int (*epoll_pwait)(int epfd, struct epoll_event *events, int max,
                       int timeout, const sigset_t *sigmask);
    int (*sendmmsg)(int fd, struct mmsghdr *vec, unsigned int vlen, int flags);
    int (*recvmmsg)(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
                    struct timespec *timeout);
    ssize_t (*preadv2)(int fd, const struct iovec *iov, int iovcnt,
                       off_t offset, int flags);
    ssize_t (*pwritev2)(int fd, const struct iovec *iov, int iovcnt,
                        off_t offset, int flags);
    int (*vdprintf)(int fd, const char *fmt, va_list ap);
    int (*vdprintf_chk)(int fd, int flag, const char *fmt, va_list ap);
    int (*aio_read)(struct aiocb *cb);
    int (*aio_write)(struct aiocb *cb);
    int (*lio_listio)(int mode, struct aiocb *const list[], int n,
                      struct sigevent *sev);
    long (*syscall)(long number, ...);
    int (*chroot)(const char *path);
    int (*setuid)(uid_t uid);
    int (*setgid)(gid_t gid);
    int (*seteuid)(uid_t uid);
    int (*setegid)(gid_t gid);
    int (*setreuid)(uid_t ruid, uid_t euid);
    int (*setregid)(gid_t rgid, gid_t egid);
    int (*setresuid)(uid_t ruid, uid_t euid, uid_t suid);
    int (*setresgid)(gid_t rgid, gid_t egid, gid_t sgid);
    int (*setgroups)(size_t n, const gid_t *groups);
    int (*prctl)(int option, ...);
    FILE *(*fdopen)(int fd, const char *mode);
    int (*fileno)(FILE *stream);
    int (*fileno_unlocked)(FILE *stream);
    int (*getaddrinfo)(const char *node, const char *service,
                       const struct addrinfo *hints, struct addrinfo **res);
    struct hostent *(*gethostbyname)(const char *name);
    int (*gethostbyname_r)(const char *name, struct hostent *ret, char *buf,
                           size_t buflen, struct hostent **result,
                           int *h_errnop);
};

/* libc is the table; use it only after real_resolve(). */
extern struct libc_calls libc;

/* real_resolved is set once |libc| is complete. */
extern atomic_bool real_resolved;

/* real_resolve_slow fills |libc|.  A call that finds a name missing aborts
 * with a message: the shim cannot pass calls through without it. */
void real_resolve_slow(void);

/* real_resolve makes sure |libc| is filled.  Cheap after the first call. */
static inline void
real_resolve(void)
{
    if (!atomic_load_explicit(&real_resolved, memory_order_acquire)) {
        real_resolve_slow();
    }
}

#endif /* TLSSHIM_REAL_H */
