/*
 * launcher.c - the tlsshim command.
 *
 *     tlsshim [-p POLICY] [-l LEVEL] [--] COMMAND [ARG...]
 *     tlsshim --check [-p POLICY]
 *     tlsshim --version
 *
 * Run mode validates the policy and builds every rule's TLS context before
 * anything runs, so that a broken policy or a key that does not match its
 * certificate is reported here rather than by the library inside someone
 * else's process.  It then refuses commands LD_PRELOAD cannot reach, sets
 * LD_PRELOAD and TLSSHIM_POLICY to absolute paths and execs the command, so
 * the exit status is the command's own.
 *
 * --check does the same validation and prints the rules as understood.
 *
 * Exit status: 0 on success, 2 for usage and policy errors, 126 or 127 when
 * the command cannot be run (as shells do).
 */
#include "tlsshim/boring.h"
#include "tlsshim/policy.h"
#include "tlsshim/tlsctx.h"

#include <arpa/inet.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define EXIT_USAGE      2 /* usage, policy or environment error */
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND  127

/* LIBRARY_NAME is the preloaded library's file name; the launcher looks for
 * it next to itself (build tree) and in ../lib/tlsshim (installed). */
#define LIBRARY_NAME        "libtlsshim.so"
#define LIBRARY_INSTALL_DIR "../lib/tlsshim"

/* A certificate closer to expiry than this is worth a warning in --check. */
#define EXPIRY_WARN_DAYS 30

/* Linux follows at most this many levels of #! interpreters. */
#define MAX_INTERPRETER_DEPTH 4

/* PATH_ERR_MAX holds a message naming up to two paths. */
#define PATH_ERR_MAX (2 * PATH_MAX + 256)

/* ERR_MAX holds several "FILE:LINE: message" lines from policy_load. */
#define ERR_MAX 8192

/* ENDPOINT_TEXT_MAX holds one `match` element: a DNS name and a port range. */
#define ENDPOINT_TEXT_MAX 300

/* The label column of --check output: wide enough for handshake_timeout. */
#define FIELD_WIDTH 18

struct options {
    const char *policy; /* -p, else $TLSSHIM_POLICY; may be NULL */
    const char *level;  /* -l, or NULL to leave TLSSHIM_LOG alone */
    bool check;         /* --check */
    bool version;       /* --version */
    bool help;          /* -h, --help */
    char **command;     /* COMMAND [ARG...], NULL-terminated; may be empty */
};

/* What the launcher needs to know about an ELF file. */
struct elf_info {
    unsigned char elf_class; /* ELFCLASS32 or ELFCLASS64 */
    unsigned char data;      /* ELFDATA2LSB or ELFDATA2MSB */
    unsigned machine;        /* e_machine */
    unsigned type;           /* e_type */
    bool has_interp;         /* a PT_INTERP header: dynamically linked */
    bool swap;               /* byte order differs from ours */
};

/* What --check found in one rule, printed after the rule's block so that
 * the block stays whole on a terminal, and the counts for the summary. */
struct check_report {
    unsigned errors;     /* errors in the whole policy */
    unsigned warnings;   /* warnings in the whole policy */
    char notes[ERR_MAX]; /* this rule's error and warning lines */
    size_t notes_len;    /* bytes used in |notes| */
};

static const char *const log_levels[] = { "error", "warn", "info", "debug" };

static void
print_usage(FILE *out)
{
    fputs("usage: tlsshim [-p POLICY] [-l LEVEL] [--] COMMAND [ARG...]\n"
          "       tlsshim --check [-p POLICY]\n"
          "       tlsshim --version\n",
          out);
}

static void
print_help(void)
{
    print_usage(stdout);
    fputs(
        "\n"
        "Run COMMAND with its TCP connections wrapped in TLS as POLICY says.\n"
        "COMMAND must be a dynamically linked program (or a script run by\n"
        "one) that is not setuid or setgid: LD_PRELOAD cannot reach others,\n"
        "so tlsshim refuses them.\n"
        "\n"
        "options:\n"
        "  -p, --policy POLICY  the policy file (default: $TLSSHIM_POLICY)\n"
        "  -l, --log LEVEL      set TLSSHIM_LOG for COMMAND: error, warn,\n"
        "                       info or debug\n"
        "      --check          validate POLICY (files, keys against their\n"
        "                       certificates, expiry) and print its rules\n"
        "      --version        print the version and the libraries used\n"
        "  -h, --help           print this help\n"
        "\n"
        "environment:\n"
        "  TLSSHIM_POLICY         default policy file\n"
        "  TLSSHIM_LOG            log level of the library (default warn)\n"
        "  TLSSHIM_LOG_FILE       log destination: a path, stderr or syslog\n"
        "  TLSSHIM_LIBRARY        the libtlsshim.so to preload (default: next\n"
        "                         to this program, or ../lib/tlsshim/)\n"
        "  TLSSHIM_BORINGSSL_DIR  directory holding BoringSSL's libssl.so.0\n"
        "\n"
        "exit status: COMMAND's own; 2 for usage and policy errors; 126 or\n"
        "127 when COMMAND cannot be run.\n",
        stdout);
}

static void print_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
static void report_add(struct check_report *report, bool is_error,
                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void print_field(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* print_error writes "tlsshim: MESSAGE" to stderr. */
static void
print_error(const char *fmt, ...)
{
    va_list ap;

    /* Keep --check's stdout and stderr in order on a shared terminal. */
    fflush(stdout);
    fputs("tlsshim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* usage_error writes "tlsshim: MESSAGE" and the usage, and exits 2. */
static void
usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("tlsshim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    print_usage(stderr);
    exit(EXIT_USAGE);
}

/* print_error_lines prints each line of |err| (as policy_load writes them)
 * with the program's prefix. */
static void
print_error_lines(const char *err)
{
    const char *line = err;

    while (*line != '\0') {
        size_t len = strcspn(line, "\n");

        if (len > 0) {
            print_error("%.*s", (int)len, line);
        }
        line += len;
        if (*line == '\n') {
            line++;
        }
    }
}

static bool
valid_log_level(const char *level)
{
    for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
        if (strcmp(level, log_levels[i]) == 0) {
            return true;
        }
    }
    return false;
}

static void
parse_args(int argc, char **argv, struct options *out_opts)
{
    enum { OPT_CHECK = 256, OPT_VERSION };
    static const struct option longopts[] = {
        { "policy", required_argument, NULL, 'p' },
        { "log", required_argument, NULL, 'l' },
        { "check", no_argument, NULL, OPT_CHECK },
        { "version", no_argument, NULL, OPT_VERSION },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    memset(out_opts, 0, sizeof(*out_opts));
    out_opts->policy = getenv("TLSSHIM_POLICY");

    /* "+" stops at COMMAND, so its own options are left alone; ":" lets us
     * word the errors ourselves. */
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+:p:l:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            out_opts->policy = optarg;
            break;
        case 'l':
            if (!valid_log_level(optarg)) {
                usage_error(
                    "invalid log level '%s': use error, warn, info or debug",
                    optarg);
            }
            out_opts->level = optarg;
            break;
        case OPT_CHECK:
            out_opts->check = true;
            break;
        case OPT_VERSION:
            out_opts->version = true;
            break;
        case 'h':
            out_opts->help = true;
            break;
        case ':':
            usage_error("option '%s' needs an argument", argv[optind - 1]);
        default:
            /* optopt holds the letter of a bad short option; for long
             * options it is 0 or the option's value. */
            if (optopt > 0 && optopt < OPT_CHECK) {
                usage_error("unknown option '-%c'", optopt);
            }
            usage_error("unknown or malformed option '%s'", argv[optind - 1]);
        }
    }
    out_opts->command = argv + optind;

    if (out_opts->help || out_opts->version) {
        return;
    }
    if (out_opts->check && out_opts->command[0] != NULL) {
        usage_error("--check takes no command");
    }
    if (!out_opts->check && out_opts->command[0] == NULL) {
        usage_error("no command given");
    }
    if (out_opts->policy == NULL || out_opts->policy[0] == '\0') {
        usage_error("no policy: give -p POLICY or set TLSSHIM_POLICY");
    }
}

/* self_dir writes the directory of the running launcher into |out|. */
static int
self_dir(char *out, size_t out_len)
{
    char path[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", path, sizeof(path) - 1);
    char *slash;

    if (len < 0 || (size_t)len >= sizeof(path) - 1) {
        return -1;
    }
    path[len] = '\0';
    slash = strrchr(path, '/');
    if (slash == NULL || (size_t)(slash - path) >= out_len) {
        return -1;
    }
    if (slash == path) {
        slash++;
    }
    *slash = '\0';
    snprintf(out, out_len, "%s", path);
    return 0;
}

/* find_library writes the absolute path of libtlsshim.so into |out|
 * (PATH_MAX bytes): $TLSSHIM_LIBRARY, else next to the launcher (build
 * tree), else ../lib/tlsshim (installed).  Returns 0, or -1 with the reason
 * in |err|. */
static int
find_library(char *out, char *err, size_t err_len)
{
    const char *env = getenv("TLSSHIM_LIBRARY");
    char dir[PATH_MAX];
    char candidate[PATH_MAX + 64];

    if (env != NULL && env[0] != '\0') {
        if (realpath(env, out) == NULL) {
            snprintf(err, err_len, "TLSSHIM_LIBRARY=%s: %s", env,
                     strerror(errno));
            return -1;
        }
        return 0;
    }

    if (self_dir(dir, sizeof(dir)) != 0) {
        snprintf(
            err, err_len,
            "cannot find libtlsshim.so: cannot read /proc/self/exe: %s (set TLSSHIM_LIBRARY)",
            strerror(errno));
        return -1;
    }
    snprintf(candidate, sizeof(candidate), "%s/%s", dir, LIBRARY_NAME);
    if (realpath(candidate, out) != NULL) {
        return 0;
    }
    snprintf(candidate, sizeof(candidate), "%s/%s/%s", dir, LIBRARY_INSTALL_DIR,
             LIBRARY_NAME);
    if (realpath(candidate, out) != NULL) {
        return 0;
    }

    snprintf(err, err_len,
             "cannot find libtlsshim.so in %s or %s/%s (set TLSSHIM_LIBRARY)",
             dir, dir, LIBRARY_INSTALL_DIR);
    return -1;
}

/* boring_library_path writes where boring_load will look for libssl. */
static void
boring_library_path(char *out, size_t out_len)
{
    const char *dir = getenv("TLSSHIM_BORINGSSL_DIR");

    if (dir == NULL || dir[0] == '\0') {
        dir = BORING_DIR;
    }
    snprintf(out, out_len, "%s/%s", dir, BORING_SSL_NAME);
}

static uint16_t
elf_16(const struct elf_info *info, uint16_t v)
{
    return info->swap ? __builtin_bswap16(v) : v;
}

static uint32_t
elf_32(const struct elf_info *info, uint32_t v)
{
    return info->swap ? __builtin_bswap32(v) : v;
}

static uint64_t
elf_64(const struct elf_info *info, uint64_t v)
{
    return info->swap ? __builtin_bswap64(v) : v;
}

static bool
read_at(int fd, void *buf, size_t len, uint64_t off)
{
    if (off > (uint64_t)INT64_MAX) {
        return false;
    }
    return pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

/* elf_phnum_extended reads the real program header count from section
 * header 0, where it lives when e_phnum is PN_XNUM (elf(5)). */
static bool
elf_phnum_extended(int fd, const struct elf_info *info, uint64_t shoff,
                   uint64_t *out_phnum)
{
    if (info->elf_class == ELFCLASS64) {
        Elf64_Shdr sh;

        if (!read_at(fd, &sh, sizeof(sh), shoff)) {
            return false;
        }
        *out_phnum = elf_32(info, sh.sh_info);
    } else {
        Elf32_Shdr sh;

        if (!read_at(fd, &sh, sizeof(sh), shoff)) {
            return false;
        }
        *out_phnum = elf_32(info, sh.sh_info);
    }
    return true;
}

/* elf_read fills |out_info| from the ELF file open on |fd|.  Returns true for
 * an ELF file, false for anything else (a truncated or corrupt ELF file is "not
 * ELF": the kernel will refuse to run it and say so). */
static bool
elf_read(int fd, struct elf_info *out_info)
{
    union {
        unsigned char ident[EI_NIDENT];
        Elf64_Ehdr e64;
        Elf32_Ehdr e32;
    } hdr;
    uint64_t phoff;
    uint64_t shoff;
    uint64_t phnum;
    size_t phentsize;
    size_t phsize;

    memset(out_info, 0, sizeof(*out_info));
    if (!read_at(fd, &hdr, sizeof(hdr.ident), 0) ||
        memcmp(hdr.ident, ELFMAG, SELFMAG) != 0) {
        return false;
    }
    out_info->elf_class = hdr.ident[EI_CLASS];
    out_info->data = hdr.ident[EI_DATA];
    if (out_info->data != ELFDATA2LSB && out_info->data != ELFDATA2MSB) {
        return false;
    }
    out_info->swap = (out_info->data == ELFDATA2LSB) !=
                     (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__);

    if (out_info->elf_class == ELFCLASS64) {
        if (!read_at(fd, &hdr.e64, sizeof(hdr.e64), 0)) {
            return false;
        }
        out_info->type = elf_16(out_info, hdr.e64.e_type);
        out_info->machine = elf_16(out_info, hdr.e64.e_machine);
        phoff = elf_64(out_info, hdr.e64.e_phoff);
        shoff = elf_64(out_info, hdr.e64.e_shoff);
        phnum = elf_16(out_info, hdr.e64.e_phnum);
        phentsize = elf_16(out_info, hdr.e64.e_phentsize);
        phsize = sizeof(Elf64_Phdr);
    } else if (out_info->elf_class == ELFCLASS32) {
        if (!read_at(fd, &hdr.e32, sizeof(hdr.e32), 0)) {
            return false;
        }
        out_info->type = elf_16(out_info, hdr.e32.e_type);
        out_info->machine = elf_16(out_info, hdr.e32.e_machine);
        phoff = elf_32(out_info, hdr.e32.e_phoff);
        shoff = elf_32(out_info, hdr.e32.e_shoff);
        phnum = elf_16(out_info, hdr.e32.e_phnum);
        phentsize = elf_16(out_info, hdr.e32.e_phentsize);
        phsize = sizeof(Elf32_Phdr);
    } else {
        return false;
    }

    if (phnum == PN_XNUM && !elf_phnum_extended(fd, out_info, shoff, &phnum)) {
        return false;
    }
    /* The kernel refuses program header tables over 64 KiB. */
    if (phnum > 0 && (phentsize < phsize || phnum * phentsize > 65536)) {
        return false;
    }

    for (uint64_t i = 0; i < phnum; i++) {
        uint64_t off = phoff + i * phentsize;
        uint32_t type;

        if (out_info->elf_class == ELFCLASS64) {
            Elf64_Phdr ph;

            if (!read_at(fd, &ph, sizeof(ph), off)) {
                return false;
            }
            type = elf_32(out_info, ph.p_type);
        } else {
            Elf32_Phdr ph;

            if (!read_at(fd, &ph, sizeof(ph), off)) {
                return false;
            }
            type = elf_32(out_info, ph.p_type);
        }
        if (type == PT_INTERP) {
            out_info->has_interp = true;
            break;
        }
    }
    return true;
}

/* check_library makes sure |lib| is an ELF shared object, and fills
 * |out_info| for the comparison with the command.  The dynamic loader skips
 * an LD_PRELOAD entry it cannot load with only a warning, and the command
 * would then run unprotected. */
static int
check_library(const char *lib, struct elf_info *out_info)
{
    int fd = open(lib, O_RDONLY | O_CLOEXEC);
    bool is_elf;

    if (fd < 0) {
        print_error("cannot open %s: %s", lib, strerror(errno));
        return -1;
    }
    is_elf = elf_read(fd, out_info);
    close(fd);
    if (!is_elf || out_info->type != ET_DYN) {
        print_error("%s is not an ELF shared library", lib);
        return -1;
    }
    if (strpbrk(lib, ": ") != NULL) {
        /* ld.so splits LD_PRELOAD at both characters. */
        print_error(
            "%s: the path contains ':' or ' ', which LD_PRELOAD cannot express; install tlsshim elsewhere",
            lib);
        return -1;
    }
    return 0;
}

/* resolve_command finds |cmd| the way execvp does: as given if it contains
 * a slash, else in the first PATH directory holding an executable regular
 * file of that name.  Returns false if there is none; execvp will then fail
 * and report why. */
static bool
resolve_command(const char *cmd, char *out, size_t out_len)
{
    const char *path = getenv("PATH");
    char default_path[256];

    if (strchr(cmd, '/') != NULL) {
        snprintf(out, out_len, "%s", cmd);
        return true;
    }
    if (path == NULL) {
        size_t n = confstr(_CS_PATH, default_path, sizeof(default_path));

        if (n == 0 || n > sizeof(default_path)) {
            snprintf(default_path, sizeof(default_path), "/bin:/usr/bin");
        }
        path = default_path;
    }

    while (true) {
        size_t len = strcspn(path, ":");
        struct stat st;

        /* An empty PATH element means the current directory. */
        if (len == 0) {
            snprintf(out, out_len, "%s", cmd);
        } else {
            snprintf(out, out_len, "%.*s/%s", (int)len, path, cmd);
        }
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
            access(out, X_OK) == 0) {
            return true;
        }
        if (path[len] == '\0') {
            return false;
        }
        path += len + 1;
    }
}

/* script_interpreter reads the #! line of the file open on |fd| into
 * |out|.  Returns true for a script. */
static bool
script_interpreter(int fd, char *out, size_t out_len)
{
    /* The kernel reads the #! line from the first 256 bytes. */
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    char *start;
    size_t len;

    if (n < 2 || buf[0] != '#' || buf[1] != '!') {
        return false;
    }
    buf[n] = '\0';
    start = buf + 2;
    start += strspn(start, " \t");
    len = strcspn(start, " \t\n");
    if (len == 0 || len >= out_len) {
        return false;
    }
    memcpy(out, start, len);
    out[len] = '\0';
    return true;
}

/* check_reachable refuses a program the dynamic loader would run without
 * the preloaded library: setuid or setgid (secure mode ignores
 * LD_PRELOAD), with file capabilities (same), statically linked (no loader
 * at all), or built for another architecture than the library (the loader
 * skips it with a warning).  A script is judged by its interpreter.
 * |what| names the program in messages; |depth| counts #! levels. */
static int
check_reachable(const char *path, const char *what,
                const struct elf_info *lib_info, int depth)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct elf_info info;
    char interp[256];
    char interp_what[PATH_MAX + 64];
    struct stat st;
    bool is_elf;

    /* Unreadable or missing: execvp will report it. */
    if (fd < 0) {
        return 0;
    }
    if (fstat(fd, &st) != 0) {
        close(fd);
        return 0;
    }

    if (script_interpreter(fd, interp, sizeof(interp))) {
        /* Linux ignores the setuid bit of scripts. */
        close(fd);
        if (depth >= MAX_INTERPRETER_DEPTH) {
            return 0;
        }
        snprintf(interp_what, sizeof(interp_what), "%s (the interpreter of %s)",
                 interp, what);
        return check_reachable(interp, interp_what, lib_info, depth + 1);
    }

    is_elf = elf_read(fd, &info);
    close(fd);

    /* Set-group-ID without group execute means mandatory locking, not
     * setgid execution (stat(2)). */
    if ((st.st_mode & S_ISUID) != 0 ||
        ((st.st_mode & S_ISGID) != 0 && (st.st_mode & S_IXGRP) != 0)) {
        print_error(
            "%s is setuid/setgid: the dynamic loader ignores LD_PRELOAD for it, so tlsshim cannot protect its connections",
            what);
        return -1;
    }
    if (getxattr(path, "security.capability", NULL, 0) > 0) {
        print_error(
            "%s has file capabilities: the dynamic loader ignores LD_PRELOAD for it, so tlsshim cannot protect its connections",
            what);
        return -1;
    }
    if (!is_elf) {
        /* Not ELF and not #!: execvp hands it to /bin/sh. */
        return 0;
    }
    if (!info.has_interp) {
        print_error(
            "%s is statically linked: LD_PRELOAD cannot reach it, so tlsshim cannot protect its connections",
            what);
        return -1;
    }
    if (info.elf_class != lib_info->elf_class || info.data != lib_info->data ||
        info.machine != lib_info->machine) {
        print_error(
            "%s is built for another architecture (%s-bit, machine %u) than libtlsshim.so (%s-bit, machine %u): the dynamic loader would skip the library, so tlsshim cannot protect its connections",
            what, info.elf_class == ELFCLASS64 ? "64" : "32", info.machine,
            lib_info->elf_class == ELFCLASS64 ? "64" : "32", lib_info->machine);
        return -1;
    }
    return 0;
}

/* load_policy loads |path| or prints the errors.  Returns NULL on error. */
static struct policy *
load_policy(const char *path)
{
    static char err[ERR_MAX];
    struct policy *policy = NULL;

    err[0] = '\0';
    if (policy_load(path, &policy, err, sizeof(err)) != 0) {
        if (err[0] == '\0') {
            print_error("%s: cannot load the policy", path);
        } else {
            print_error_lines(err);
        }
        return NULL;
    }
    return policy;
}

static int
load_boring(void)
{
    char err[512];

    err[0] = '\0';
    if (boring_load(err, sizeof(err)) != 0) {
        print_error("%s", err[0] != '\0' ? err : "cannot load BoringSSL");
        return -1;
    }
    return 0;
}

/* build_context builds |rule|'s TLS context to check everything it needs,
 * and frees it: the library builds its own in the program's process.  An
 * expired certificate of the rule's own is an error too.
 * Returns 0, or -1 with "FILE:LINE: key: reason" in |err|. */
static int
build_context(const struct policy_rule *rule, char *err, size_t err_len)
{
    SSL_CTX *ctx = NULL;

    err[0] = '\0';
    if (tlsctx_new(rule, &ctx, err, err_len) != 0) {
        if (err[0] == '\0') {
            snprintf(err, err_len, "%s:%d: cannot build the TLS context",
                     rule->file, rule->line);
        }
        return -1;
    }
    bssl.SSL_CTX_free(ctx);

    /* Every peer would refuse an expired certificate of this end's own:
     * better to say so now than on each connection. */
    if (rule->cert != NULL) {
        char reason[256];
        long days;

        if (tlsctx_cert_days_left(rule->cert, &days, NULL, 0, reason,
                                  sizeof(reason)) == 0 &&
            days < 0) {
            snprintf(err, err_len,
                     "%s:%d: cert: certificate %s expired %ld day%s ago",
                     rule->file, rule->cert_line, rule->cert, -days,
                     days == -1 ? "" : "s");
            return -1;
        }
    }
    return 0;
}

/* set_preload appends |lib| to LD_PRELOAD unless it is already there. */
static int
set_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    const char *p = old;
    char *value;
    int rc;

    if (old == NULL || old[strspn(old, ": ")] == '\0') {
        return setenv("LD_PRELOAD", lib, 1);
    }
    while (*p != '\0') {
        size_t len = strcspn(p, ": ");

        if (len == strlen(lib) && strncmp(p, lib, len) == 0) {
            return 0;
        }
        p += len;
        p += strspn(p, ": ");
    }
    if (asprintf(&value, "%s:%s", old, lib) < 0) {
        return -1;
    }
    rc = setenv("LD_PRELOAD", value, 1);
    free(value);
    return rc;
}

/* prepare_policy loads the policy at |path| and builds every rule's TLS
 * context, so that nothing runs with a policy the library would refuse.
 * On success it writes the policy's absolute path into |out_path|
 * (PATH_MAX bytes) and returns 0; otherwise it prints why and returns -1. */
static int
prepare_policy(const char *path, char *out_path)
{
    struct policy *policy = load_policy(path);
    char err[ERR_MAX];
    bool failed = false;

    if (policy == NULL) {
        return -1;
    }
    if (policy->rules_len > 0 && load_boring() != 0) {
        policy_free(policy);
        return -1;
    }
    for (size_t i = 0; i < policy->rules_len; i++) {
        if (build_context(&policy->rules[i], err, sizeof(err)) != 0) {
            print_error_lines(err);
            failed = true;
        } else if (tlsctx_key_warning(&policy->rules[i], err, sizeof(err))) {
            print_error_lines(err);
        }
    }
    snprintf(out_path, PATH_MAX, "%s", policy->path);
    policy_free(policy);
    if (failed) {
        return -1;
    }

    /* The library opens the policy after the command may have changed its
     * directory. */
    if (out_path[0] != '/' && realpath(path, out_path) == NULL) {
        print_error("%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int
run(const struct options *opts)
{
    char launcher_pid[32];
    char policy_path[PATH_MAX];
    char lib[PATH_MAX];
    char command[PATH_MAX];
    char err[PATH_ERR_MAX];
    struct elf_info lib_info;
    const char *cmd = opts->command[0];
    int status;

    if (prepare_policy(opts->policy, policy_path) != 0) {
        return EXIT_USAGE;
    }
    if (find_library(lib, err, sizeof(err)) != 0) {
        print_error("%s", err);
        return EXIT_USAGE;
    }
    if (check_library(lib, &lib_info) != 0) {
        return EXIT_USAGE;
    }
    if (resolve_command(cmd, command, sizeof(command)) &&
        check_reachable(command, command, &lib_info, 0) != 0) {
        return EXIT_USAGE;
    }

    /* The command keeps this process id across exec: the library tells
     * the command (which loads TLS at once) from the processes it starts
     * (which load it when a rule first matches) by it. */
    snprintf(launcher_pid, sizeof(launcher_pid), "%ld", (long)getpid());
    if (set_preload(lib) != 0 ||
        setenv("TLSSHIM_POLICY", policy_path, 1) != 0 ||
        setenv("TLSSHIM_LAUNCHER_PID", launcher_pid, 1) != 0 ||
        (opts->level != NULL && setenv("TLSSHIM_LOG", opts->level, 1) != 0)) {
        print_error("cannot set the environment: %s", strerror(errno));
        return EXIT_USAGE;
    }

    fflush(NULL);
    execvp(cmd, opts->command);

    /* Shells answer 127 for a command that is not there, 126 for one that
     * is there but cannot run. */
    status =
        errno == ENOENT || errno == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
    print_error("cannot run %s: %s", cmd, strerror(errno));
    return status;
}

/* format_endpoint writes one `match` element back as policy text. */
static void
format_endpoint(const struct policy_endpoint *ep, char *out, size_t out_len)
{
    char host[ENDPOINT_TEXT_MAX - 16]; /* "[v6]/N" or a DNS name */
    char port[16];
    unsigned full = ep->family == AF_INET6 ? 128 : 32;

    switch (ep->host_kind) {
    case POLICY_HOST_ANY:
        snprintf(host, sizeof(host), "*");
        break;
    case POLICY_HOST_ADDR: {
        char text[INET6_ADDRSTRLEN];

        if (inet_ntop(ep->family, ep->addr, text, sizeof(text)) == NULL) {
            snprintf(text, sizeof(text), "?");
        }
        if (ep->family == AF_INET6) {
            snprintf(host, sizeof(host), "[%s]", text);
        } else {
            snprintf(host, sizeof(host), "%s", text);
        }
        if (ep->prefix_len < full) {
            size_t len = strlen(host);

            snprintf(host + len, sizeof(host) - len, "/%u", ep->prefix_len);
        }
        break;
    }
    case POLICY_HOST_NAME:
    default:
        snprintf(host, sizeof(host), "%s", ep->name != NULL ? ep->name : "?");
        break;
    }

    if (ep->port_lo <= 1 && ep->port_hi == 65535) {
        snprintf(port, sizeof(port), "*");
    } else if (ep->port_lo == ep->port_hi) {
        snprintf(port, sizeof(port), "%u", ep->port_lo);
    } else {
        snprintf(port, sizeof(port), "%u-%u", ep->port_lo, ep->port_hi);
    }
    snprintf(out, out_len, "%s:%s", host, port);
}

static void
print_field(const char *name, const char *fmt, ...)
{
    va_list ap;

    printf("  %-*s", FIELD_WIDTH, name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

static void
print_match(const struct policy_rule *rule)
{
    char text[ENDPOINT_TEXT_MAX];

    printf("  %-*s", FIELD_WIDTH, "match");
    for (size_t i = 0; i < rule->match_len; i++) {
        format_endpoint(&rule->match[i], text, sizeof(text));
        printf("%s%s", i > 0 ? ", " : "", text);
    }
    putchar('\n');
}

/* alpn_text writes the ALPN wire-format list as "h2, http/1.1". */
static void
alpn_text(const unsigned char *alpn, size_t alpn_len, char *out, size_t out_len)
{
    size_t o = 0;

    out[0] = '\0';
    for (size_t i = 0; i < alpn_len && o < out_len;) {
        size_t len = alpn[i++];

        if (len > alpn_len - i) {
            len = alpn_len - i;
        }
        o += snprintf(out + o, out_len - o, "%s%.*s", o > 0 ? ", " : "",
                      (int)len, (const char *)alpn + i);
        i += len;
    }
}

/* subject_text turns X509_NAME_oneline's "/C=FR/CN=host" into the more
 * familiar "C=FR, CN=host". */
static void
subject_text(const char *oneline, char *out, size_t out_len)
{
    size_t o = 0;

    if (*oneline == '/') {
        oneline++;
    }
    for (; *oneline != '\0' && o + 3 < out_len; oneline++) {
        if (*oneline == '/') {
            /* A '/' starts the next attribute only if "TYPE=" follows. */
            size_t type_len = strspn(oneline + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                  "abcdefghijklmnopqrstuvwxyz"
                                                  "0123456789.");

            if (type_len > 0 && oneline[1 + type_len] == '=') {
                out[o++] = ',';
                out[o++] = ' ';
                continue;
            }
        }
        out[o++] = *oneline;
    }
    out[o] = '\0';
}

static void
expiry_text(long days, char *out, size_t out_len)
{
    if (days < 0) {
        snprintf(out, out_len, "EXPIRED %ld day%s ago", -days,
                 days == -1 ? "" : "s");
    } else if (days == 0) {
        snprintf(out, out_len, "expires in less than a day");
    } else {
        snprintf(out, out_len, "expires in %ld day%s", days,
                 days == 1 ? "" : "s");
    }
}

/* report_add adds one line to |report|'s notes, as an error or (with
 * "warning: " after FILE:LINE) a warning. */
static void
report_add(struct check_report *report, bool is_error, const char *fmt, ...)
{
    size_t room = sizeof(report->notes) - report->notes_len;
    va_list ap;
    int n;

    if (is_error) {
        report->errors++;
    } else {
        report->warnings++;
    }
    va_start(ap, fmt);
    n = vsnprintf(report->notes + report->notes_len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n + 1 >= room) {
        /* Out of room: the counts stay right; the line is lost. */
        report->notes[report->notes_len] = '\0';
        return;
    }
    report->notes_len += (size_t)n;
    report->notes[report->notes_len++] = '\n';
    report->notes[report->notes_len] = '\0';
}

/* report_flush prints the notes of |report| and empties them. */
static void
report_flush(struct check_report *report)
{
    print_error_lines(report->notes);
    report->notes_len = 0;
    report->notes[0] = '\0';
}

/* print_cert prints the field |key| naming the PEM file |path| with the
 * subject and expiry of its first certificate.  An expired certificate of
 * the rule's own is an error; an expired or expiring CA file (which may
 * hold others) and an expiring certificate are warnings.  A file the TLS
 * context could not be built from was reported already (|ctx_ok|). */
static void
print_cert(const struct policy_rule *rule, const char *key, const char *path,
           int line, bool is_ca, bool ctx_ok, struct check_report *report)
{
    char oneline[512];
    char subject[512];
    char err[512];
    char expiry[64];
    long days = 0;

    if (line == 0) {
        line = rule->line;
    }
    oneline[0] = '\0';
    err[0] = '\0';
    if (tlsctx_cert_days_left(path, &days, oneline, sizeof(oneline), err,
                              sizeof(err)) != 0) {
        print_field(key, "%s (%s)", path, err[0] != '\0' ? err : "unreadable");
        if (ctx_ok) {
            report_add(report, true, "%s:%d: %s: %s", rule->file, line, key,
                       err[0] != '\0' ? err : "cannot read the certificate");
        }
        return;
    }

    subject_text(oneline, subject, sizeof(subject));
    expiry_text(days, expiry, sizeof(expiry));
    print_field(key, "%s (%s%s%s)", path, subject,
                subject[0] != '\0' ? ", " : "", expiry);
    if (days < 0 && !is_ca) {
        report_add(report, true,
                   "%s:%d: %s: certificate %s expired %ld day%s ago",
                   rule->file, line, key, path, -days, days == -1 ? "" : "s");
    } else if (days < 0) {
        report_add(
            report, false,
            "%s:%d: warning: %s: the first certificate in %s expired %ld day%s ago",
            rule->file, line, key, path, -days, days == -1 ? "" : "s");
    } else if (days < EXPIRY_WARN_DAYS) {
        report_add(report, false, "%s:%d: warning: %s: %s %s %s", rule->file,
                   line, key,
                   is_ca ? "the first certificate in" : "certificate", path,
                   expiry);
    }
}

/* print_tls_client prints the keys of a rule whose end plays the TLS
 * client: how the server is verified, and an optional client certificate. */
static void
print_tls_client(const struct policy_rule *rule, bool ctx_ok,
                 struct check_report *report)
{
    char pin[POLICY_PIN_TEXT_LEN];

    if (rule->verify == POLICY_VERIFY_NONE && rule->pins_len > 0) {
        print_field("verify",
                    "none (only pin_sha256 authenticates the server)");
        report_add(
            report, false,
            "%s:%d: warning: verify = none: the chain and name are not checked, only pin_sha256 authenticates the server",
            rule->file, rule->line);
    } else if (rule->verify == POLICY_VERIFY_NONE) {
        print_field("verify", "none (the server is not authenticated)");
        report_add(
            report, false,
            "%s:%d: warning: verify = none: the server is not authenticated, anyone on the path can read and change the traffic",
            rule->file, rule->line);
    } else {
        print_field("verify", "peer (chain and name)");
    }
    if (rule->connect_port != 0) {
        print_field("connect_port", "%u", rule->connect_port);
    }
    if (rule->server_name != NULL) {
        print_field("server_name", "%s", rule->server_name);
    } else {
        print_field("server_name",
                    "(the name the program resolved, else the address)");
    }
    /* The first certificate of the system bundle says nothing about the
     * others; that of a private CA file usually is the CA. */
    if (rule->ca_file != NULL &&
        strcmp(rule->ca_file, POLICY_DEFAULT_CA_FILE) == 0) {
        print_field("ca_file", "%s (system bundle%s)", rule->ca_file,
                    rule->ca_file_line == 0 ? ", default" : "");
    } else if (rule->ca_file != NULL) {
        print_cert(rule, "ca_file", rule->ca_file, rule->ca_file_line, true,
                   ctx_ok, report);
    }
    if (rule->ca_path != NULL) {
        print_field("ca_path", "%s", rule->ca_path);
    }
    for (size_t i = 0; i < rule->pins_len; i++) {
        policy_pin_text(rule->pins[i].sha256, pin);
        print_field("pin_sha256", "%s", pin);
    }
    if (rule->cert != NULL) {
        print_cert(rule, "cert", rule->cert, rule->cert_line, false, ctx_ok,
                   report);
    }
    if (rule->key != NULL) {
        print_field("key", "%s", rule->key);
    }
}

/* print_tls_server prints the keys of a rule whose end plays the TLS
 * server: its certificate and whether it asks for the client's. */
static void
print_tls_server(const struct policy_rule *rule, bool ctx_ok,
                 struct check_report *report)
{
    static const char *const auth[] = {
        [POLICY_CLIENT_AUTH_NONE] = "none",
        [POLICY_CLIENT_AUTH_OPTIONAL] = "optional",
        [POLICY_CLIENT_AUTH_REQUIRED] = "required",
    };

    if (rule->cert != NULL) {
        print_cert(rule, "cert", rule->cert, rule->cert_line, false, ctx_ok,
                   report);
    }
    if (rule->key != NULL) {
        print_field("key", "%s", rule->key);
    }
    print_field("client_auth", "%s",
                (unsigned)rule->client_auth < sizeof(auth) / sizeof(auth[0])
                    ? auth[rule->client_auth]
                    : "?");
    if (rule->client_ca != NULL) {
        print_cert(rule, "client_ca", rule->client_ca, rule->client_ca_line,
                   true, ctx_ok, report);
    }
}

static void
print_rule(const struct policy_rule *rule, bool ctx_ok,
           struct check_report *report)
{
    const char *kind = policy_kind_name(rule->kind);
    const char *role = rule->tls_client ? "client" : "server";
    bool role_is_tcp = rule->tls_client == (rule->kind == POLICY_CLIENT);
    char alpn[512];

    printf("[%s%s%s] line %d\n", kind, rule->label[0] != '\0' ? " " : "",
           rule->label, rule->line);
    print_match(rule);
    if (role_is_tcp) {
        print_field("tls_role", "%s", role);
    } else {
        print_field("tls_role", "%s (TCP role: %s)", role, kind);
    }
    if (rule->tls_client) {
        print_tls_client(rule, ctx_ok, report);
    } else {
        print_tls_server(rule, ctx_ok, report);
    }
    print_field("min_version", "TLS 1.%d",
                rule->min_version == POLICY_TLS1_3 ? 3 : 2);
    if (rule->alpn != NULL && rule->alpn_len > 0) {
        alpn_text(rule->alpn, rule->alpn_len, alpn, sizeof(alpn));
        print_field("alpn", "%s", alpn);
    }
    if (rule->handshake_timeout_ms % 1000 == 0) {
        print_field("handshake_timeout", "%u s",
                    rule->handshake_timeout_ms / 1000);
    } else {
        print_field("handshake_timeout", "%u ms", rule->handshake_timeout_ms);
    }
    print_field("resumption", "%s", rule->resumption ? "on" : "off");
}

static int
check(const struct options *opts)
{
    struct policy *policy = load_policy(opts->policy);
    static struct check_report report;
    char err[ERR_MAX];

    if (policy == NULL) {
        return EXIT_USAGE;
    }
    if (policy->rules_len > 0 && load_boring() != 0) {
        policy_free(policy);
        return EXIT_USAGE;
    }

    printf("policy %s: %zu rule%s\n", policy->path, policy->rules_len,
           policy->rules_len == 1 ? "" : "s");
    for (size_t i = 0; i < policy->rules_len; i++) {
        const struct policy_rule *rule = &policy->rules[i];
        bool ctx_ok = build_context(rule, err, sizeof(err)) == 0;

        if (!ctx_ok) {
            report_add(&report, true, "%s", err);
        }
        if (tlsctx_key_warning(rule, err, sizeof(err))) {
            report_add(&report, false, "%s", err);
        }
        print_rule(rule, ctx_ok, &report);
        report_flush(&report);
    }
    policy_free(policy);

    if (report.errors == 0) {
        printf("result: ok");
    } else {
        printf("result: %u error%s", report.errors,
               report.errors == 1 ? "" : "s");
    }
    if (report.warnings > 0) {
        printf(", %u warning%s", report.warnings,
               report.warnings == 1 ? "" : "s");
    }
    putchar('\n');
    return report.errors == 0 ? 0 : EXIT_USAGE;
}

static void
print_version(void)
{
    char path[PATH_MAX + 64];
    char lib[PATH_MAX];
    char err[PATH_ERR_MAX];

    printf("tlsshim %s\n", TLSSHIM_VERSION);
    boring_library_path(path, sizeof(path));
    printf("BoringSSL: %s%s\n", path,
           access(path, R_OK) == 0 ? "" : " (not found)");
    if (find_library(lib, err, sizeof(err)) == 0) {
        printf("library: %s\n", lib);
    } else {
        printf("library: %s\n", err);
    }
}

int
main(int argc, char **argv)
{
    struct options opts;

    parse_args(argc, argv, &opts);
    if (opts.help) {
        print_help();
        return 0;
    }
    if (opts.version) {
        print_version();
        return 0;
    }
    if (opts.check) {
        return check(&opts);
    }
    return run(&opts);
}
