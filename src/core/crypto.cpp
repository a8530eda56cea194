// AES-256-GCM, HMAC-SHA256, HKDF-SHA256 and the nonce source, on OpenSSL 3 EVP.
//
// Hot paths (AesGcm::encrypt/decrypt, HmacSha256::compute, NonceSource::next)
// allocate nothing of their own: the OpenSSL contexts are built once per key
// and only re-initialised with a new nonce / message per call.  (OpenSSL 3.0's
// EVP_MD_CTX_copy_ex, two per HMAC, frees and re-allocates the digest state
// inside OpenSSL; see HmacSha256::begin.)

#include "colcrypt/core/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>

#include "colcrypt/core/error.hpp"
#include "detail.hpp"
#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {

namespace {

using detail::throw_crypto_failure;

// EVP update calls take int lengths: feed larger inputs in chunks.  GCM and
// HMAC are streaming, so chunking does not change the result.
constexpr std::size_t kUpdateChunk = std::size_t{1} << 30;

// OpenSSL's GCM keeps at most 128 bytes of IV (GCM_IV_MAX_SIZE).
constexpr std::size_t kMaxNonceSize = 128;
constexpr std::size_t kMinTagSize = 12;

// Reject parameters of the general (test-vector) overloads before OpenSSL sees them.
void check_gcm_sizes(std::size_t nonce_size, std::size_t tag_size) {
    if (nonce_size == 0 || nonce_size > kMaxNonceSize) {
        throw Error(Errc::invalid_argument, "GCM nonce size out of range");
    }
    if (tag_size < kMinTagSize || tag_size > kTagSize) {
        throw Error(Errc::invalid_argument, "GCM tag size out of range");
    }
}

// The GCM tag is read and written as the context's AEAD tag parameter, which
// is what EVP_CIPHER_CTX_ctrl(GET_TAG/SET_TAG) turns into on OpenSSL 3 after
// translating the ctrl code; asking directly saves that step (about 6% of a
// short seal or open, bench/notes.md).
bool get_gcm_tag(EVP_CIPHER_CTX *ctx, std::uint8_t *tag, std::size_t tag_size) {
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, tag_size),
        OSSL_PARAM_construct_end()};
    return EVP_CIPHER_CTX_get_params(ctx, params) == 1;
}

bool set_gcm_tag(EVP_CIPHER_CTX *ctx, const std::uint8_t *tag, std::size_t tag_size) {
    // OpenSSL copies the tag out of the parameter; it does not write through it.
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
                                          const_cast<std::uint8_t *>(tag), tag_size),
        OSSL_PARAM_construct_end()};
    return EVP_CIPHER_CTX_set_params(ctx, params) == 1;
}

// Set the context's IV length if it differs from the one it has, so the
// common 12-byte case costs no extra OpenSSL call.  current tracks what the
// context holds; it is set to 0 (unknown) while the change is in flight.
void set_iv_length(EVP_CIPHER_CTX *ctx, std::size_t &current, std::size_t nonce_size) {
    if (nonce_size == current) {
        return;
    }
    current = 0;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_size),
                            nullptr) != 1) {
        throw_crypto_failure("AES-GCM: setting the nonce size failed");
    }
    current = nonce_size;
}

// cipher_update for inputs of more than kUpdateChunk bytes, in chunks.
__attribute__((noinline)) bool cipher_update_in_chunks(EVP_CIPHER_CTX *ctx, std::uint8_t *out,
                                                       const std::uint8_t *in, std::size_t size) {
    while (size > 0) {
        const std::size_t chunk = std::min(size, kUpdateChunk);
        int written = 0;
        if (EVP_CipherUpdate(ctx, out, &written, in, static_cast<int>(chunk)) != 1) {
            return false;
        }
        in += chunk;
        if (out != nullptr) {
            out += chunk;
        }
        size -= chunk;
    }
    return true;
}

// Feed associated data (out == nullptr) or cipher data through EVP_CipherUpdate,
// which dispatches on the context's direction.  Returns false on failure.
// Inlined: every stored value takes the one-call branch.
inline bool cipher_update(EVP_CIPHER_CTX *ctx, std::uint8_t *out, const std::uint8_t *in, std::size_t size) {
    if (__builtin_expect(size > kUpdateChunk, 0)) {
        return cipher_update_in_chunks(ctx, out, in, size);
    }
    int written = 0;
    return size == 0 || EVP_CipherUpdate(ctx, out, &written, in, static_cast<int>(size)) == 1;
}

// A fresh cipher context keyed for one direction; throws on failure.
EVP_CIPHER_CTX *new_gcm_context(const SecretKey &key, int enc) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == nullptr) {
        throw_crypto_failure("AES-GCM: out of memory");
    }
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.data(), nullptr, enc) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        throw_crypto_failure("AES-GCM: key setup failed");
    }
    return ctx;
}

}  // namespace

// ---------------------------------------------------------------------------
// AesGcm

// Two contexts, one per direction: the key schedule is expanded once for
// each, and GCM tag handling differs between encryption and decryption.
AesGcm::AesGcm(const SecretKey &key) : encrypt_ctx_(nullptr), decrypt_ctx_(nullptr) {
    encrypt_ctx_ = new_gcm_context(key, 1);
    try {
        decrypt_ctx_ = new_gcm_context(key, 0);
    } catch (...) {
        EVP_CIPHER_CTX_free(encrypt_ctx_);
        throw;
    }
}

// EVP_CIPHER_CTX_free wipes the key schedule.
AesGcm::~AesGcm() {
    EVP_CIPHER_CTX_free(encrypt_ctx_);
    EVP_CIPHER_CTX_free(decrypt_ctx_);
}

// The colcrypt case: 12-byte nonce, 16-byte tag.
void AesGcm::encrypt(const std::uint8_t *nonce, const std::uint8_t *aad, std::size_t aad_size,
                     const std::uint8_t *plaintext, std::size_t size, std::uint8_t *ciphertext,
                     std::uint8_t *tag) {
    encrypt(nonce, kNonceSize, aad, aad_size, plaintext, size, ciphertext, tag, kTagSize);
}

// Re-initialise with only the nonce (the key schedule stays), then AAD,
// data, final and tag.
void AesGcm::encrypt(const std::uint8_t *nonce, std::size_t nonce_size, const std::uint8_t *aad,
                     std::size_t aad_size, const std::uint8_t *plaintext, std::size_t size,
                     std::uint8_t *ciphertext, std::uint8_t *tag, std::size_t tag_size) {
    check_gcm_sizes(nonce_size, tag_size);
    set_iv_length(encrypt_ctx_, encrypt_nonce_size_, nonce_size);
    int written = 0;
    if (EVP_EncryptInit_ex(encrypt_ctx_, nullptr, nullptr, nullptr, nonce) != 1 ||
        !cipher_update(encrypt_ctx_, nullptr, aad, aad_size) ||
        !cipher_update(encrypt_ctx_, ciphertext, plaintext, size) ||
        EVP_EncryptFinal_ex(encrypt_ctx_, ciphertext + size, &written) != 1 ||
        !get_gcm_tag(encrypt_ctx_, tag, tag_size)) {
        throw_crypto_failure("AES-GCM: encryption failed");
    }
}

// The tag is checked by EVP_DecryptFinal_ex in constant time.  Any failure
// wipes the output so no unauthenticated plaintext escapes.
bool AesGcm::decrypt(const std::uint8_t *nonce, std::size_t nonce_size, const std::uint8_t *aad,
                     std::size_t aad_size, const std::uint8_t *ciphertext, std::size_t size,
                     const std::uint8_t *tag, std::size_t tag_size, std::uint8_t *plaintext) {
    check_gcm_sizes(nonce_size, tag_size);
    set_iv_length(decrypt_ctx_, decrypt_nonce_size_, nonce_size);
    if (EVP_DecryptInit_ex(decrypt_ctx_, nullptr, nullptr, nullptr, nonce) != 1 ||
        !set_gcm_tag(decrypt_ctx_, tag, tag_size) ||
        !cipher_update(decrypt_ctx_, nullptr, aad, aad_size) ||
        !cipher_update(decrypt_ctx_, plaintext, ciphertext, size)) {
        secure_wipe(plaintext, size);
        throw_crypto_failure("AES-GCM: decryption failed");
    }
    int written = 0;
    if (EVP_DecryptFinal_ex(decrypt_ctx_, plaintext + size, &written) != 1) {
        secure_wipe(plaintext, size);
        ERR_clear_error();
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------
// HmacSha256

namespace {

constexpr std::size_t kSha256BlockSize = 64;

bool digest_update(EVP_MD_CTX *ctx, const std::uint8_t *data, std::size_t size) {
    return size == 0 || EVP_DigestUpdate(ctx, data, size) == 1;
}

}  // namespace

// RFC 2104: H((K ^ opad) || H((K ^ ipad) || message)), K padded with zeros
// to the block size after hashing it if it is longer.  The two pad blocks are
// hashed here, once; the pads and the hashed key are wiped before returning.
HmacSha256::HmacSha256(const std::uint8_t *key, std::size_t key_size)
    : inner_(EVP_MD_CTX_new()), outer_(EVP_MD_CTX_new()), work_(EVP_MD_CTX_new()) {
    EVP_MD *sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    std::uint8_t block[kSha256BlockSize] = {};
    std::uint8_t pad[kSha256BlockSize];
    bool ok = sha256 != nullptr && inner_ != nullptr && outer_ != nullptr && work_ != nullptr;
    if (ok && key_size > kSha256BlockSize) {
        unsigned int hashed = 0;
        ok = EVP_DigestInit_ex2(work_, sha256, nullptr) == 1 &&
             EVP_DigestUpdate(work_, key, key_size) == 1 &&
             EVP_DigestFinal_ex(work_, block, &hashed) == 1 && hashed == kSha256Size;
    } else if (ok && key_size != 0) {
        std::memcpy(block, key, key_size);
    }
    for (std::size_t i = 0; ok && i < kSha256BlockSize; ++i) {
        pad[i] = block[i] ^ 0x36;
    }
    ok = ok && EVP_DigestInit_ex2(inner_, sha256, nullptr) == 1 &&
         EVP_DigestUpdate(inner_, pad, sizeof pad) == 1;
    for (std::size_t i = 0; ok && i < kSha256BlockSize; ++i) {
        pad[i] = block[i] ^ 0x5c;
    }
    ok = ok && EVP_DigestInit_ex2(outer_, sha256, nullptr) == 1 &&
         EVP_DigestUpdate(outer_, pad, sizeof pad) == 1;
    secure_wipe(block, sizeof block);
    secure_wipe(pad, sizeof pad);
    EVP_MD_free(sha256);  // the contexts hold their own references
    if (!ok) {
        release();
        throw_crypto_failure("HMAC: key setup failed");
    }
}

// EVP_MD_CTX_free wipes the digest states, which are key-derived.
void HmacSha256::release() noexcept {
    EVP_MD_CTX_free(work_);
    EVP_MD_CTX_free(outer_);
    EVP_MD_CTX_free(inner_);
    work_ = outer_ = inner_ = nullptr;
}

HmacSha256::~HmacSha256() { release(); }

// A copy of the keyed inner state.  Re-initialising work_ and hashing the
// stored ipad block again instead, which allocates nothing, measured slower:
// a 16-byte HMAC 214 -> 336 ns (bench/core_ab.sh, one run, 2026-12-03).
void HmacSha256::begin() {
    if (EVP_MD_CTX_copy_ex(work_, inner_) != 1) {
        throw_crypto_failure("HMAC: initialisation failed");
    }
}

void HmacSha256::update(const std::uint8_t *data, std::size_t size) {
    if (!digest_update(work_, data, size)) {
        throw_crypto_failure("HMAC: update failed");
    }
}

// The inner digest is key-dependent and message-dependent: wiped after use.
void HmacSha256::finish(std::uint8_t out[kSha256Size]) {
    std::uint8_t inner_digest[kSha256Size];
    unsigned int written = 0;
    bool ok = EVP_DigestFinal_ex(work_, inner_digest, &written) == 1 && written == kSha256Size &&
              EVP_MD_CTX_copy_ex(work_, outer_) == 1 &&
              EVP_DigestUpdate(work_, inner_digest, sizeof inner_digest) == 1 &&
              EVP_DigestFinal_ex(work_, out, &written) == 1 && written == kSha256Size;
    secure_wipe(inner_digest, sizeof inner_digest);
    if (!ok) {
        throw_crypto_failure("HMAC: finalisation failed");
    }
}

// The per-value path (a term per stored value).
void HmacSha256::compute(const std::uint8_t *part1, std::size_t size1,
                         const std::uint8_t *part2, std::size_t size2,
                         std::uint8_t out[kSha256Size]) {
    begin();
    if (!digest_update(work_, part1, size1) || !digest_update(work_, part2, size2)) {
        throw_crypto_failure("HMAC: update failed");
    }
    finish(out);
}

// ---------------------------------------------------------------------------
// HKDF

// Only used when keys are derived (master key setup), so fetching the KDF
// per call is acceptable.  Empty salt and info are passed as absent, which
// RFC 5869 and OpenSSL treat the same as zero-length.
void hkdf_sha256(const std::uint8_t *ikm, std::size_t ikm_size, const std::uint8_t *salt,
                 std::size_t salt_size, const std::uint8_t *info, std::size_t info_size,
                 std::uint8_t *out, std::size_t out_size) {
    if (out_size == 0 || out_size > 255 * kSha256Size) {
        throw Error(Errc::invalid_argument, "HKDF output size out of range");
    }
    EVP_KDF *kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    if (kdf == nullptr) {
        throw_crypto_failure("HKDF: algorithm not available");
    }
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);  // the context holds its own reference
    if (ctx == nullptr) {
        throw_crypto_failure("HKDF: out of memory");
    }

    // OSSL_PARAM octet strings need a non-null pointer even when empty.
    static const std::uint8_t empty = 0;
    char digest[] = "SHA256";
    OSSL_PARAM params[5];
    std::size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t *>(ikm_size == 0 ? &empty : ikm), ikm_size);
    if (salt_size != 0) {
        params[n++] = OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t *>(salt), salt_size);
    }
    if (info_size != 0) {
        params[n++] = OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_INFO, const_cast<std::uint8_t *>(info), info_size);
    }
    params[n] = OSSL_PARAM_construct_end();

    const int ok = EVP_KDF_derive(ctx, out, out_size, params);
    EVP_KDF_CTX_free(ctx);  // wipes OpenSSL's copies of ikm and the PRK
    if (ok != 1) {
        secure_wipe(out, out_size);
        throw_crypto_failure("HKDF: derivation failed");
    }
}

// ---------------------------------------------------------------------------
// NonceSource

namespace {

// Incremented in the child right after every fork() (pthread_atfork), so a
// batch drawn before the fork is recognisably stale there.  getpid() per
// nonce did the same at the cost of a system call, about a third of a seal.
std::atomic<std::uint64_t> fork_generation{0};

void on_fork_child() noexcept { fork_generation.fetch_add(1, std::memory_order_relaxed); }

// Once per process (a child inherits the registration with the memory).
// Done before any batch can be drawn, so no fork goes unnoticed.
void register_fork_handler() {
    static const bool registered = [] {
        if (pthread_atfork(nullptr, nullptr, on_fork_child) != 0) {
            throw_crypto_failure("nonce source: registering the fork handler failed");
        }
        return true;
    }();
    (void)registered;
}

}  // namespace

NonceSource::NonceSource() { register_fork_handler(); }

// Nonces are not secret, but the batch reveals the nonces of values not yet
// written; wipe it like any other buffer of crypto state.
NonceSource::~NonceSource() { secure_wipe(buffer_, sizeof buffer_); }

// One RAND_bytes call per kBatch nonces.  A new fork generation means we are
// a forked child holding a copy of the parent's batch: drop it, or parent
// and child would encrypt with the same nonces.
void NonceSource::next(std::uint8_t out[kNonceSize]) {
    const std::uint64_t generation = fork_generation.load(std::memory_order_relaxed);
    if (used_ == kBatch || generation != generation_) {
        random_bytes(buffer_, sizeof buffer_);
        used_ = 0;
        generation_ = generation;
    }
    std::memcpy(out, buffer_ + used_ * kNonceSize, kNonceSize);
    ++used_;
}

}  // namespace colcrypt::core
