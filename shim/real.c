/*
 * real.c - look up the next definitions of the interposed libc calls.
 *
 * dlsym(RTLD_NEXT, ...) may allocate, and it may be reached from another
 * library's constructor before ours; both are fine because the shim does not
 * interpose malloc.  Two threads resolving at once store the same values, so
 * no lock is needed.
 */
#include "tlsshim/real.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

struct libc_calls libc;
atomic_bool real_resolved;

static void *
real_lookup(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);

    if (fn == NULL) {
        /* Nothing can be passed through; say so once and stop, rather than
         * crash later on a NULL call.  write(2) is the raw syscall wrapper
         * that the shim never interposes under this name. */
        fprintf(stderr, "tlsshim: cannot find libc's %s\n", name);
        abort();
    }
    return fn;
}

void
real_resolve_slow(void)
{
    libc.connect = real_lookup("connect");
    libc.accept = real_lookup("accept");
    libc.accept4 = real_lookup("accept4");
    libc.read = real_lookup("read");
    libc.write = real_lookup("write");
    libc.readv = real_lookup("readv");
    libc.writev = real_lookup("writev");
    libc.recv = real_lookup("recv");
    libc.send = real_lookup("send");
    libc.recvfrom = real_lookup("recvfrom");
    libc.sendto = real_lookup("sendto");
    libc.recvmsg = real_lookup("recvmsg");
    libc.sendmsg = real_lookup("sendmsg");
    libc.sendfile = real_lookup("sendfile");
    libc.splice = real_lookup("splice");
    libc.close = real_lookup("close");
    libc.close_range = real_lookup("close_range");
    libc.shutdown = real_lookup("shutdown");
    libc.dup = real_lookup("dup");
    libc.dup2 = real_lookup("dup2");
    libc.dup3 = real_lookup("dup3");
    libc.fcntl = real_lookup("fcntl");
    libc.ioctl = real_lookup("ioctl");
    libc.poll = real_lookup("poll");
    libc.ppoll = real_lookup("ppoll");
    libc.select = real_lookup("select");
    libc.pselect = real_lookup("pselect");
    libc.epoll_ctl = real_lookup("epoll_ctl");
    libc.epoll_pwait = real_lookup("epoll_pwait");
    libc.sendmmsg = real_lookup("sendmmsg");
    libc.recvmmsg = real_lookup("recvmmsg");
    libc.preadv2 = real_lookup("preadv2");
    libc.pwritev2 = real_lookup("pwritev2");
    libc.vdprintf = real_lookup("vdprintf");
    libc.vdprintf_chk = real_lookup("__vdprintf_chk");
    libc.aio_read = real_lookup("aio_read");
    libc.aio_write = real_lookup("aio_write");
    libc.lio_listio = real_lookup("lio_listio");
    libc.syscall = real_lookup("syscall");
    libc.chroot = real_lookup("chroot");
    libc.setuid = real_lookup("setuid");
    libc.setgid = real_lookup("setgid");
    libc.seteuid = real_lookup("seteuid");
    libc.setegid = real_lookup("setegid");
    libc.setreuid = real_lookup("setreuid");
    libc.setregid = real_lookup("setregid");
    libc.setresuid = real_lookup("setresuid");
    libc.setresgid = real_lookup("setresgid");
    libc.setgroups = real_lookup("setgroups");
    libc.prctl = real_lookup("prctl");
    libc.fdopen = real_lookup("fdopen");
    libc.fileno = real_lookup("fileno");
    libc.fileno_unlocked = real_lookup("fileno_unlocked");
    libc.getaddrinfo = real_lookup("getaddrinfo");
    libc.gethostbyname = real_lookup("gethostbyname");
    libc.gethostbyname_r = real_lookup("gethostbyname_r");
    atomic_store_explicit(&real_resolved, true, memory_order_release);
}
