/*
 * interpose_lockdown.c - load TLS before the program locks itself in.
 *
 * BoringSSL and the policy's certificates, keys and CAs are loaded when a
 * rule first matches a connection (init.c).  A program may make them
 * unreachable before that: vsftpd calls chroot() soon after start, many
 * servers drop to an unprivileged user, and seccomp filters can forbid
 * opening files at all.  Each call here loads everything first, then does
 * what the program asked.
 */
#include "tlsshim/init.h"
#include "tlsshim/real.h"

#include <grp.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <unistd.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

/* lockdown_prepare loads TLS now if the policy has rules.  A failure was
 * logged by init_load_tls and makes matching connections fail: the
 * program's own call goes ahead either way. */
static void
lockdown_prepare(void)
{
    real_resolve();
    init_ensure();
    (void)init_load_tls();
}

SHIM_EXPORT int
chroot(const char *path)
{
    lockdown_prepare();
    return libc.chroot(path);
}

SHIM_EXPORT int
setuid(uid_t uid)
{
    lockdown_prepare();
    return libc.setuid(uid);
}

SHIM_EXPORT int
setgid(gid_t gid)
{
    lockdown_prepare();
    return libc.setgid(gid);
}

SHIM_EXPORT int
seteuid(uid_t uid)
{
    lockdown_prepare();
    return libc.seteuid(uid);
}

SHIM_EXPORT int
setegid(gid_t gid)
{
    lockdown_prepare();
    return libc.setegid(gid);
}

SHIM_EXPORT int
setreuid(uid_t ruid, uid_t euid)
{
    lockdown_prepare();
    return libc.setreuid(ruid, euid);
}

SHIM_EXPORT int
setregid(gid_t rgid, gid_t egid)
{
    lockdown_prepare();
    return libc.setregid(rgid, egid);
}

SHIM_EXPORT int
setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
    lockdown_prepare();
    return libc.setresuid(ruid, euid, suid);
}

SHIM_EXPORT int
setresgid(gid_t rgid, gid_t egid, gid_t sgid)
{
    lockdown_prepare();
    return libc.setresgid(rgid, egid, sgid);
}

SHIM_EXPORT int
setgroups(size_t n, const gid_t *groups)
{
    lockdown_prepare();
    return libc.setgroups(n, groups);
}

/* prctl can install a seccomp filter or drop capabilities; the arguments
 * after |option| are unsigned longs for every option. */
SHIM_EXPORT int
prctl(int option, ...)
{
    unsigned long arg[4];
    va_list ap;

    va_start(ap, option);
    for (int i = 0; i < 4; i++) {
        arg[i] = va_arg(ap, unsigned long);
    }
    va_end(ap);
    if (option == PR_SET_SECCOMP || option == PR_CAPBSET_DROP ||
        option == PR_SET_NO_NEW_PRIVS) {
        lockdown_prepare();
    } else {
        real_resolve();
    }
    return libc.prctl(option, arg[0], arg[1], arg[2], arg[3]);
}
