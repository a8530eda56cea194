// X25519 (RFC 7748) key agreement through OpenSSL 3 EVP, for keyring
// transfer (docs/design/keyring-transfer.md).  Private keys are SecretKeys
// (32 bytes, wiped on destruction); public keys are plain bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "colcrypt/core/secure.hpp"

namespace colcrypt::core {

constexpr std::size_t kX25519KeySize = 32;

struct X25519KeyPair {
    SecretKey private_key;
    std::uint8_t public_key[kX25519KeySize];
};

// A fresh key pair from OpenSSL's generator.
X25519KeyPair x25519_generate();

// The public key of a private key.
void x25519_public_key(const SecretKey &private_key, std::uint8_t out[kX25519KeySize]);

// The shared secret of our private key and their public key.  Throws
// Error(invalid_argument) for a public key of small order (the all-zero
// result RFC 7748 section 6.1 says to reject), which no honest peer sends.
SecretKey x25519_shared_secret(const SecretKey &private_key,
                               const std::uint8_t peer_public[kX25519KeySize]);

}  // namespace colcrypt::core
