#ifndef HIREWIRE_CCRYPTO_SHIM_H
#define HIREWIRE_CCRYPTO_SHIM_H
#include <openssl/crypto.h>
#include <openssl/evp.h>

/* HMAC-SHA256 through OpenSSL 3's one-shot MAC API (HMAC() itself is deprecated).
   Writes 32 bytes to out; returns 1 on success. */
static inline int hirewire_hmac_sha256(const unsigned char *key, size_t key_length,
                                       const unsigned char *data, size_t data_length,
                                       unsigned char *out) {
    size_t written = 0;
    unsigned char *result = EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_length,
                                      data, data_length, out, 32, &written);
    return result != NULL && written == 32;
}

/* SHA-256 of data into 32 bytes of out; returns 1 on success. */
static inline int hirewire_sha256(const unsigned char *data, size_t length, unsigned char *out) {
    unsigned int written = 0;
    return EVP_Digest(data, length, out, &written, EVP_sha256(), NULL) == 1 && written == 32;
}

/* Constant-time comparison: 0 when equal. */
static inline int hirewire_constant_time_compare(const void *a, const void *b, size_t length) {
    return CRYPTO_memcmp(a, b, length);
}
#endif
