// X25519 through EVP_PKEY (OpenSSL 3).  Raw private keys are copied out of
// and into OpenSSL only through SecretKey buffers, which wipe themselves.
#include "colcrypt/core/x25519.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <cstring>

#include "colcrypt/core/error.hpp"
#include "detail.hpp"
#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {
namespace {

using detail::throw_crypto_failure;

// Owns an EVP_PKEY (EVP_PKEY_free wipes the private key it holds).
class Pkey {
public:
    explicit Pkey(EVP_PKEY *pkey) noexcept : pkey_(pkey) {}
    ~Pkey() { EVP_PKEY_free(pkey_); }
    Pkey(const Pkey &) = delete;
    Pkey &operator=(const Pkey &) = delete;
    EVP_PKEY *get() const noexcept { return pkey_; }

private:
    EVP_PKEY *pkey_;
};

class PkeyCtx {
public:
    explicit PkeyCtx(EVP_PKEY_CTX *ctx) noexcept : ctx_(ctx) {}
    ~PkeyCtx() { EVP_PKEY_CTX_free(ctx_); }
    PkeyCtx(const PkeyCtx &) = delete;
    PkeyCtx &operator=(const PkeyCtx &) = delete;
    EVP_PKEY_CTX *get() const noexcept { return ctx_; }

private:
    EVP_PKEY_CTX *ctx_;
};

EVP_PKEY *private_pkey(const SecretKey &private_key) {
    EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(),
                                                  private_key.size());
    if (pkey == nullptr) {
        throw_crypto_failure("X25519: loading the private key failed");
    }
    return pkey;
}

void raw_public(EVP_PKEY *pkey, std::uint8_t out[kX25519KeySize]) {
    std::size_t size = kX25519KeySize;
    if (EVP_PKEY_get_raw_public_key(pkey, out, &size) != 1 || size != kX25519KeySize) {
        throw_crypto_failure("X25519: reading the public key failed");
    }
}

}  // namespace

X25519KeyPair x25519_generate() {
    PkeyCtx ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
    if (ctx.get() == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1) {
        throw_crypto_failure("X25519: key generation setup failed");
    }
    EVP_PKEY *generated = nullptr;
    if (EVP_PKEY_keygen(ctx.get(), &generated) != 1) {
        throw_crypto_failure("X25519: key generation failed");
    }
    Pkey pkey(generated);
    X25519KeyPair pair;
    std::size_t size = pair.private_key.size();
    if (EVP_PKEY_get_raw_private_key(pkey.get(), pair.private_key.data(), &size) != 1 ||
        size != kX25519KeySize) {
        throw_crypto_failure("X25519: reading the private key failed");
    }
    raw_public(pkey.get(), pair.public_key);
    return pair;
}

void x25519_public_key(const SecretKey &private_key, std::uint8_t out[kX25519KeySize]) {
    Pkey pkey(private_pkey(private_key));
    raw_public(pkey.get(), out);
}

SecretKey x25519_shared_secret(const SecretKey &private_key,
                               const std::uint8_t peer_public[kX25519KeySize]) {
    Pkey ours(private_pkey(private_key));
    Pkey theirs(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public, kX25519KeySize));
    if (theirs.get() == nullptr) {
        ERR_clear_error();
        throw Error(Errc::invalid_argument, "X25519 public key is not valid");
    }
    PkeyCtx ctx(EVP_PKEY_CTX_new(ours.get(), nullptr));
    if (ctx.get() == nullptr || EVP_PKEY_derive_init(ctx.get()) != 1) {
        throw_crypto_failure("X25519: key agreement setup failed");
    }
    if (EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1) {
        throw_crypto_failure("X25519: setting the peer key failed");
    }
    SecretKey secret;
    std::size_t size = secret.size();
    // OpenSSL refuses an all-zero shared secret (a small-order public key).
    if (EVP_PKEY_derive(ctx.get(), secret.data(), &size) != 1 || size != kX25519KeySize) {
        ERR_clear_error();
        throw Error(Errc::invalid_argument, "X25519 public key is of small order");
    }
    return secret;
}

}  // namespace colcrypt::core
