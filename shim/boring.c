/*
 * boring.c - load Debian's BoringSSL privately and fill the |bssl| table.
 *
 * Why RTLD_DEEPBIND: BoringSSL and OpenSSL 3 export the same unversioned
 * names.  Without it, BoringSSL's own internal references (libssl to
 * libcrypto) could bind to an OpenSSL already loaded in the program, and
 * crash.  With RTLD_LOCAL the program's OpenSSL references can never bind to
 * BoringSSL either.  dlmopen() would give a separate namespace, but then a
 * second libc is loaded and BoringSSL's thread-local error state breaks.
 */
#include "tlsshim/boring.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

struct boring_api bssl;

/*
 * BoringSSL's allocator, made the program's.
 *
 * Under RTLD_DEEPBIND, libcrypto's reference to malloc binds to libc's
 * (libc is in its private scope), but its weak reference to jemalloc's
 * sized free, sdallocx, is found only in the global scope.  In a program
 * that brings jemalloc (redis-server, redis-cli, redis-benchmark), BoringSSL
 * then allocated with glibc and freed into jemalloc, which later handed
 * glibc's heap out again: the program crashed in its next malloc or free
 * (redis-cli --version already did, once a CA file had been loaded).
 * BoringSSL looks for these three hooks (weak references) before anything
 * else: defined here, every BoringSSL allocation goes through the program's
 * own malloc and free, whatever allocator that is.
 */
__attribute__((visibility("default"))) void *
OPENSSL_memory_alloc(size_t size)
{
    return malloc(size);
}

__attribute__((visibility("default"))) void
OPENSSL_memory_free(void *ptr)
{
    if (ptr != NULL) {
        /* BoringSSL's own free wipes what it frees: keys must not linger. */
        explicit_bzero(ptr, malloc_usable_size(ptr));
        free(ptr);
    }
}

/* BoringSSL's realloc copies this many bytes of the old block: the usable
 * size is at least what was asked for, and all of it is readable. */
__attribute__((visibility("default"))) size_t
OPENSSL_memory_get_size(void *ptr)
{
    return ptr != NULL ? malloc_usable_size(ptr) : 0;
}

static bool boring_ready;

/* boring_symbols maps each name in BORING_FUNCTIONS to its slot in |bssl|.
 * Every member of struct boring_api is a function pointer, so each slot can
 * be written through a void pointer. */
#define BORING_ENTRY(name) { #name, offsetof(struct boring_api, name) },
static const struct {
    const char *name;
    size_t offset;
} boring_symbols[] = { BORING_FUNCTIONS(BORING_ENTRY) };
#undef BORING_ENTRY

static const char *
boring_dir(void)
{
    const char *dir =
        getauxval(AT_SECURE) ? NULL : getenv("TLSSHIM_BORINGSSL_DIR");

    return dir != NULL && *dir != '\0' ? dir : BORING_DIR;
}

/* boring_open loads DIR/NAME into its own lookup scope. */
static void *
boring_open(const char *dir, const char *name, char *err, size_t err_len)
{
    char path[512];
    void *handle;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (handle == NULL) {
        snprintf(
            err, err_len,
            "BoringSSL not found: cannot load %s: %s (install the Debian package android-libboringssl)",
            path, dlerror());
    }
    return handle;
}

int
boring_load(char *err, size_t err_len)
{
    const char *dir = boring_dir();
    void *crypto;
    void *ssl;

    if (boring_ready) {
        return 0;
    }

    /* libcrypto first, so that libssl's dependency resolves to this very
     * copy inside the same private scope. */
    crypto = boring_open(dir, BORING_CRYPTO_NAME, err, err_len);
    if (crypto == NULL) {
        return -1;
    }
    ssl = boring_open(dir, BORING_SSL_NAME, err, err_len);
    if (ssl == NULL) {
        dlclose(crypto);
        return -1;
    }

    for (size_t i = 0; i < sizeof(boring_symbols) / sizeof(*boring_symbols);
         i++) {
        void **slot = (void **)((char *)&bssl + boring_symbols[i].offset);

        *slot = dlsym(ssl, boring_symbols[i].name);
        if (*slot == NULL) {
            *slot = dlsym(crypto, boring_symbols[i].name);
        }
        if (*slot == NULL) {
            snprintf(err, err_len,
                     "BoringSSL in %s lacks %s: unsupported version", dir,
                     boring_symbols[i].name);
            memset(&bssl, 0, sizeof(bssl));
            return -1;
        }
    }

    boring_ready = true;
    return 0;
}

int
boring_present(char *err, size_t err_len)
{
    const char *dir = boring_dir();
    const char *names[] = { BORING_CRYPTO_NAME, BORING_SSL_NAME };

    for (size_t i = 0; i < 2; i++) {
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (access(path, R_OK) != 0) {
            snprintf(
                err, err_len,
                "BoringSSL not found: cannot read %s: %s (install the Debian package android-libboringssl)",
                path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

bool
boring_loaded(void)
{
    return boring_ready;
}

char *
boring_last_error(char *out, size_t out_len, const char *fallback)
{
    /* BoringSSL queues the error where it happened first and then one per
     * caller that passed it on: SSL_CTX_use_certificate_chain_file on a
     * file of garbage queues PEM's NO_START_LINE, then SSL's generic
     * "PEM routines" (ERR_R_PEM_LIB).  The first specific reason is the
     * one that explains; reasons below 100 are library names and generic
     * codes. */
    uint32_t code, chosen = 0, last = 0;
    const char *reason;

    while ((code = bssl.ERR_get_error()) != 0) {
        if (chosen == 0 && ERR_GET_REASON(code) >= 100) {
            chosen = code;
        }
        last = code;
    }
    if (chosen == 0) {
        chosen = last;
    }
    reason = chosen != 0 ? bssl.ERR_reason_error_string(chosen) : NULL;
    if (reason != NULL) {
        snprintf(out, out_len, "%s", reason);
    } else if (chosen != 0) {
        bssl.ERR_error_string_n(chosen, out, out_len);
    } else {
        snprintf(out, out_len, "%s", fallback);
    }
    return out;
}
