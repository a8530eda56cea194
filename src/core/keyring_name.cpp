// Keyring name rules and the type modifier derived from a name.
#include "colcrypt/core/keyring_name.hpp"

#include <openssl/evp.h>

#include "colcrypt/core/error.hpp"
#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {

bool is_valid_keyring_name(const char *name, std::size_t size) noexcept {
    if (size == 0 || size > kMaxKeyringNameSize)
        return false;
    if (name[0] < 'a' || name[0] > 'z')
        return false;
    for (std::size_t i = 0; i < size; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

std::int32_t keyring_type_modifier(const char *name, std::size_t size) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    if (EVP_Digest(name, size, digest, &digest_size, EVP_sha256(), nullptr) != 1)
        throw Error(Errc::crypto_failure, "could not hash keyring name");
    std::uint32_t bits = (std::uint32_t(digest[0]) << 24) | (std::uint32_t(digest[1]) << 16) |
                         (std::uint32_t(digest[2]) << 8) | std::uint32_t(digest[3]);
    return static_cast<std::int32_t>(bits & 0x7fffffffu);
}

}  // namespace colcrypt::core
