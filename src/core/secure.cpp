// Memory hygiene primitives and the self-wiping SecretKey.

#include "colcrypt/core/secure.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "colcrypt/core/error.hpp"
#include "detail.hpp"
#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {

namespace detail {

// See detail.hpp: a failed OpenSSL call must not leave its errors queued.
void throw_crypto_failure(const char *message) {
    ERR_clear_error();
    throw Error(Errc::crypto_failure, message);
}

}  // namespace detail

// OPENSSL_cleanse writes through a volatile function pointer, so the wipe is
// not removed as a dead store even when the memory is freed right after.
void secure_wipe(void *data, std::size_t size) noexcept {
    if (size != 0) {
        OPENSSL_cleanse(data, size);
    }
}

// CRYPTO_memcmp inspects every byte regardless of where the first difference
// is, so timing does not reveal how much of a secret matched.
bool constant_time_equal(const std::uint8_t *a, const std::uint8_t *b,
                         std::size_t size) noexcept {
    return size == 0 || CRYPTO_memcmp(a, b, size) == 0;
}

// RAND_bytes takes an int count; larger requests are served in chunks.
void random_bytes(std::uint8_t *out, std::size_t size) {
    while (size > 0) {
        const std::size_t chunk = std::min<std::size_t>(size, INT_MAX);
        if (RAND_bytes(out, static_cast<int>(chunk)) != 1) {
            detail::throw_crypto_failure("random number generator failed");
        }
        out += chunk;
        size -= chunk;
    }
}

SecretKey::SecretKey(const std::uint8_t *bytes) noexcept {
    std::memcpy(bytes_.data(), bytes, kKeySize);
}

// Plain copy: the old contents are overwritten in place, so nothing is left
// behind to wipe.
SecretKey &SecretKey::operator=(const SecretKey &other) noexcept {
    if (this != &other) {
        bytes_ = other.bytes_;
    }
    return *this;
}

// A fresh key straight from the CSPRNG.
SecretKey SecretKey::random() {
    SecretKey key;
    random_bytes(key.data(), key.size());
    return key;
}

}  // namespace colcrypt::core
