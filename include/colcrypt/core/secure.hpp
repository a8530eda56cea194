// Memory hygiene for secrets: wiping, constant-time comparison, and a
// fixed-size key type that wipes itself.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace colcrypt::core {

constexpr std::size_t kKeySize = 32;  // AES-256 and HMAC-SHA256 keys

// Overwrite memory in a way the compiler may not optimise away (OPENSSL_cleanse).
void secure_wipe(void *data, std::size_t size) noexcept;

// Compare in time independent of the contents (CRYPTO_memcmp).
bool constant_time_equal(const std::uint8_t *a, const std::uint8_t *b, std::size_t size) noexcept;

// Fill with cryptographically strong random bytes (RAND_bytes); throws
// Error(crypto_failure) if the generator fails.
void random_bytes(std::uint8_t *out, std::size_t size);

// A 256-bit secret key.  Wiped on destruction; copies are explicit.
class SecretKey {
public:
    SecretKey() noexcept { bytes_.fill(0); }
    explicit SecretKey(const std::uint8_t *bytes) noexcept;
    SecretKey(const SecretKey &other) noexcept : bytes_(other.bytes_) {}
    SecretKey &operator=(const SecretKey &other) noexcept;
    ~SecretKey() { secure_wipe(bytes_.data(), bytes_.size()); }

    static SecretKey random();

    const std::uint8_t *data() const noexcept { return bytes_.data(); }
    std::uint8_t *data() noexcept { return bytes_.data(); }
    static constexpr std::size_t size() noexcept { return kKeySize; }

private:
    std::array<std::uint8_t, kKeySize> bytes_;
};

}  // namespace colcrypt::core
