/*
 * nomem.c - a preloaded library for test_hardening_nomem.sh that makes the
 * shim run out of memory where it allocates on the data path.
 *
 *   LD_PRELOAD=nomem.so NOMEM_SIZE=4096 [NOMEM_FILE=PATH] program ...
 *
 * malloc() fails with ENOMEM for requests of exactly NOMEM_SIZE bytes made
 * by code of libtlsshim.so itself (not by BoringSSL, not by the program):
 * always, or, with NOMEM_FILE, while the file PATH exists, so that the
 * program can choose the moment.  4096 bytes is the session's read-ahead
 * buffer (shim/session.c).  Everything else goes to glibc's allocator.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);

static size_t nomem_size;
static const char *nomem_file;

__attribute__((constructor)) static void
nomem_init(void)
{
    const char *size = getenv("NOMEM_SIZE");

    nomem_size = size != NULL ? strtoul(size, NULL, 10) : 0;
    nomem_file = getenv("NOMEM_FILE");
}

/* nomem_from_shim: |addr| is code of libtlsshim.so. */
static int
nomem_from_shim(void *addr)
{
    Dl_info info;

    return dladdr(addr, &info) != 0 && info.dli_fname != NULL &&
           strstr(info.dli_fname, "libtlsshim") != NULL;
}

/* Exported whatever the build's default visibility: it must replace
 * glibc's malloc for the whole process. */
__attribute__((visibility("default"))) void *
malloc(size_t size)
{
    if (size != 0 && size == nomem_size &&
        nomem_from_shim(__builtin_return_address(0)) &&
        (nomem_file == NULL || access(nomem_file, F_OK) == 0)) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_malloc(size);
}
