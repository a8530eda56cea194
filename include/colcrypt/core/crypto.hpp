// Cryptographic primitives, all through OpenSSL 3 EVP.
//
// Each class owns its OpenSSL contexts and sets its key once: encrypting or
// MACing another value reuses the key schedule instead of rebuilding it, which
// is what keeps per-value cost close to `openssl speed`.  Objects are not
// thread-safe (PostgreSQL backends are single-threaded); each backend keeps
// its own.
#pragma once

#include <cstddef>
#include <cstdint>

#include "colcrypt/core/secure.hpp"

// OpenSSL types, forward-declared so that users of this header do not need
// OpenSSL headers.
typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace colcrypt::core {

constexpr std::size_t kNonceSize = 12;  // 96-bit GCM nonce
constexpr std::size_t kTagSize = 16;    // 128-bit GCM tag
constexpr std::size_t kSha256Size = 32;

// AES-256-GCM with one fixed key.
class AesGcm {
public:
    explicit AesGcm(const SecretKey &key);
    ~AesGcm();
    AesGcm(const AesGcm &) = delete;
    AesGcm &operator=(const AesGcm &) = delete;

    // Encrypt size bytes of plaintext into ciphertext (same size; in-place is
    // allowed) and write the 16-byte tag.  nonce is 12 bytes.
    void encrypt(const std::uint8_t *nonce, const std::uint8_t *aad, std::size_t aad_size,
                 const std::uint8_t *plaintext, std::size_t size, std::uint8_t *ciphertext,
                 std::uint8_t *tag);

    // Decrypt and verify.  Returns false (and wipes the output) when the tag
    // does not match.  The general form takes any nonce size >= 1 and tag
    // sizes 12..16, for test vectors; colcrypt itself always uses 12 and 16.
    bool decrypt(const std::uint8_t *nonce, std::size_t nonce_size, const std::uint8_t *aad,
                 std::size_t aad_size, const std::uint8_t *ciphertext, std::size_t size,
                 const std::uint8_t *tag, std::size_t tag_size, std::uint8_t *plaintext);
    bool decrypt(const std::uint8_t *nonce, const std::uint8_t *aad, std::size_t aad_size,
                 const std::uint8_t *ciphertext, std::size_t size, const std::uint8_t *tag,
                 std::uint8_t *plaintext) {
        return decrypt(nonce, kNonceSize, aad, aad_size, ciphertext, size, tag, kTagSize,
                       plaintext);
    }

    // General encrypt for test vectors (any nonce size >= 1, tag sizes 12..16).
    void encrypt(const std::uint8_t *nonce, std::size_t nonce_size, const std::uint8_t *aad,
                 std::size_t aad_size, const std::uint8_t *plaintext, std::size_t size,
                 std::uint8_t *ciphertext, std::uint8_t *tag, std::size_t tag_size);

private:
    EVP_CIPHER_CTX *encrypt_ctx_;
    EVP_CIPHER_CTX *decrypt_ctx_;
    // Nonce size each context is currently set up for (GCM's default is 12):
    // EVP_CTRL_GCM_SET_IVLEN is issued only when a call needs another size.
    std::size_t encrypt_nonce_size_ = kNonceSize;
    std::size_t decrypt_nonce_size_ = kNonceSize;
};

// HMAC-SHA256 with one fixed key (any length, as HMAC allows).  Built on
// EVP digests (RFC 2104) rather than EVP_MAC: the keyed inner and outer
// states are hashed once, and each message copies them, which costs about
// a fifth less per short message than EVP_MAC's init/update/final on
// OpenSSL 3.0 (bench/notes.md).
class HmacSha256 {
public:
    HmacSha256(const std::uint8_t *key, std::size_t key_size);
    explicit HmacSha256(const SecretKey &key) : HmacSha256(key.data(), key.size()) {}
    ~HmacSha256();
    HmacSha256(const HmacSha256 &) = delete;
    HmacSha256 &operator=(const HmacSha256 &) = delete;

    // MAC of the concatenation of two parts (the second may be empty): lets
    // callers prefix a domain byte without copying the message.
    void compute(const std::uint8_t *part1, std::size_t size1, const std::uint8_t *part2,
                 std::size_t size2, std::uint8_t out[kSha256Size]);
    void compute(const std::uint8_t *data, std::size_t size, std::uint8_t out[kSha256Size]) {
        compute(data, size, nullptr, 0, out);
    }

    // The same, fed in pieces: begin, any number of updates, finish.
    void begin();
    void update(const std::uint8_t *data, std::size_t size);
    void finish(std::uint8_t out[kSha256Size]);

private:
    void release() noexcept;

    EVP_MD_CTX *inner_;  // SHA-256 state after the key XOR ipad block
    EVP_MD_CTX *outer_;  // SHA-256 state after the key XOR opad block
    EVP_MD_CTX *work_;   // the message being hashed
};

// HKDF-SHA256 (RFC 5869), extract-and-expand.  out_size at most 255*32.
void hkdf_sha256(const std::uint8_t *ikm, std::size_t ikm_size, const std::uint8_t *salt,
                 std::size_t salt_size, const std::uint8_t *info, std::size_t info_size,
                 std::uint8_t *out, std::size_t out_size);

// Random GCM nonces, drawn from RAND_bytes in batches.  A forked child never
// reuses nonces its parent had buffered: a pthread_atfork child handler
// (registered by the first NonceSource of a process) bumps a process-wide
// fork generation, and a batch drawn in an earlier generation is dropped.
// Checking costs a load per nonce instead of a getpid() system call.
class NonceSource {
public:
    NonceSource();
    ~NonceSource();
    NonceSource(const NonceSource &) = delete;
    NonceSource &operator=(const NonceSource &) = delete;

    void next(std::uint8_t out[kNonceSize]);

private:
    static constexpr std::size_t kBatch = 256;  // nonces per refill
    std::uint8_t buffer_[kBatch * kNonceSize];
    std::size_t used_ = kBatch;                 // all used: refill on first call
    std::uint64_t generation_ = 0;              // fork generation of the batch
};

}  // namespace colcrypt::core
