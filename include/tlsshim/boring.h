/*
 * boring.h - BoringSSL, loaded into a private lookup scope and reached
 * through a table of function pointers.
 *
 * The library never links libssl or libcrypto.  A program under the shim
 * may use OpenSSL 3, whose libraries export the same unversioned names as
 * BoringSSL; linking either into the shim would let one library's calls
 * land in the other.  boring_load() opens Debian's BoringSSL with
 * RTLD_LOCAL | RTLD_DEEPBIND, so BoringSSL resolves its own symbols first,
 * and fills |bssl| with dlsym'd pointers.  Code calls bssl.SSL_read(...)
 * and so on; a direct call to a BoringSSL function is a link error, because
 * the library is linked with -z defs.
 *
 * The headers are BoringSSL's own (from /usr/include/android), so every
 * pointer has the exact type of the function it points to.
 */
#ifndef TLSSHIM_BORING_H
#define TLSSHIM_BORING_H

#include <openssl/base.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stddef.h>

/* BORING_SSL_PATH and BORING_CRYPTO_PATH are where Debian's
 * android-libboringssl package installs the libraries.  TLSSHIM_BORINGSSL_DIR
 * in the environment overrides the directory (for tests). */
#define BORING_DIR         "/usr/lib/x86_64-linux-gnu/android"
#define BORING_SSL_NAME    "libssl.so.0"
#define BORING_CRYPTO_NAME "libcrypto.so.0"

/* BORING_FUNCTIONS lists every BoringSSL function the shim calls. */
#define BORING_FUNCTIONS(X)               \
    X(TLS_method)                         \
    X(SSL_CTX_new)                        \
    X(SSL_CTX_free)                       \
    X(SSL_CTX_set_min_proto_version)      \
    X(SSL_CTX_set_max_proto_version)      \
    X(SSL_CTX_use_certificate_chain_file) \
    X(SSL_CTX_use_PrivateKey_file)        \
    X(SSL_CTX_check_private_key)          \
    X(SSL_CTX_load_verify_locations)      \
    X(SSL_CTX_set_verify)                 \
    X(SSL_CTX_set_alpn_protos)            \
    X(SSL_CTX_set_alpn_select_cb)         \
    X(SSL_select_next_proto)              \
    X(SSL_CTX_set_client_CA_list)         \
    X(SSL_load_client_CA_file)            \
    X(SSL_CTX_set_mode)                   \
    X(SSL_CTX_set_options)                \
    X(SSL_CTX_set_session_cache_mode)     \
    X(SSL_CTX_get0_certificate)           \
    X(SSL_CTX_set_strict_cipher_list)     \
    X(SSL_new)                            \
    X(SSL_free)                           \
    X(SSL_set_bio)                        \
    X(SSL_set_connect_state)              \
    X(SSL_set_accept_state)               \
    X(SSL_do_handshake)                   \
    X(SSL_read)                           \
    X(SSL_write)                          \
    X(SSL_peek)                           \
    X(SSL_pending)                        \
    X(SSL_shutdown)                       \
    X(SSL_get_shutdown)                   \
    X(SSL_get_error)                      \
    X(SSL_set_tlsext_host_name)           \
    X(SSL_get0_param)                     \
    X(X509_VERIFY_PARAM_set1_host)        \
    X(X509_VERIFY_PARAM_set1_ip_asc)      \
    X(X509_VERIFY_PARAM_set_hostflags)    \
    X(SSL_get_verify_result)              \
    X(X509_verify_cert_error_string)      \
    X(SSL_get_version)                    \
    X(SSL_get_current_cipher)             \
    X(SSL_CIPHER_get_name)                \
    X(SSL_session_reused)                 \
    X(SSL_get_peer_certificate)           \
    X(SSL_get_peer_cert_chain)            \
    X(SSL_get0_alpn_selected)             \
    X(SSL_set_alpn_protos)                \
    X(SSL_get_servername)                 \
    X(SSL_CTX_sess_set_new_cb)            \
    X(SSL_CTX_set_tlsext_ticket_keys)     \
    X(SSL_set_session)                    \
    X(SSL_SESSION_free)                   \
    X(SSL_SESSION_up_ref)                 \
    X(SSL_SESSION_is_resumable)           \
    X(SSL_SESSION_should_be_single_use)   \
    X(SSL_set_ex_data)                    \
    X(SSL_get_ex_data)                    \
    X(RAND_bytes)                         \
    X(PEM_read_bio_PrivateKey)            \
    X(X509_check_private_key)             \
    X(EVP_PKEY_free)                      \
    X(X509_free)                          \
    X(X509_get_X509_PUBKEY)               \
    X(i2d_X509_PUBKEY)                    \
    X(X509_get_ext_d2i)                   \
    X(X509_get_subject_name)              \
    X(X509_NAME_oneline)                  \
    X(X509_get0_notAfter)                 \
    X(GENERAL_NAMES_free)                 \
    X(ASN1_STRING_get0_data)              \
    X(ASN1_STRING_length)                 \
    X(ASN1_TIME_diff)                     \
    X(sk_num)                             \
    X(sk_value)                           \
    X(SHA256)                             \
    X(OPENSSL_free)                       \
    X(PEM_read_bio_X509)                  \
    X(BIO_new_file)                       \
    X(BIO_free)                           \
    X(BIO_meth_new)                       \
    X(BIO_meth_set_write)                 \
    X(BIO_meth_set_read)                  \
    X(BIO_meth_set_ctrl)                  \
    X(BIO_new)                            \
    X(BIO_set_data)                       \
    X(BIO_get_data)                       \
    X(BIO_set_init)                       \
    X(BIO_set_retry_read)                 \
    X(BIO_set_retry_write)                \
    X(BIO_clear_retry_flags)              \
    X(ERR_get_error)                      \
    X(ERR_peek_last_error)                \
    X(ERR_clear_error)                    \
    X(ERR_error_string_n)                 \
    X(ERR_reason_error_string)

#define BORING_MEMBER(name) __typeof__(name) *name;

/* struct boring_api holds one pointer per function in BORING_FUNCTIONS,
 * named after the function. */
struct boring_api {
    BORING_FUNCTIONS(BORING_MEMBER)
};

#undef BORING_MEMBER

/* bssl is the table; it is filled by boring_load and all NULL before. */
extern struct boring_api bssl;

/* boring_load opens BoringSSL privately and fills |bssl|.  It returns 0 on
 * success (also when already loaded), or -1 with a one-line reason in |err|
 * ("BoringSSL not found: ... (install android-libboringssl)").  Not
 * thread-safe: call it from start-up code. */
int boring_load(char *err, size_t err_len);

/* boring_present checks, cheaply, that the BoringSSL libraries exist and
 * are readable where boring_load() will look.  Returns 0, or -1 with the
 * same one-line reason boring_load() would give. */
int boring_present(char *err, size_t err_len);

/* boring_loaded reports whether boring_load succeeded. */
bool boring_loaded(void);

/* boring_last_error writes the reason text of the last BoringSSL error on
 * this thread's queue (or |fallback| if the queue is empty) into |out| and
 * clears the queue.  Returns |out|. */
char *boring_last_error(char *out, size_t out_len, const char *fallback);

#endif /* TLSSHIM_BORING_H */
