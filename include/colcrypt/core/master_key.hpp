// The master key (key-encryption key) and the keys derived from it.
//
// The raw 256-bit master key never encrypts anything itself.  HKDF-SHA256
// derives three independent values from it:
//   - the wrapping key, which wraps every data key and blind-index key;
//   - the transit base key, from which the key of each transit epoch is
//     derived, for values not yet bound to a keyring (see envelope.hpp);
//   - the fingerprint, 8 bytes shown as 16 hex digits, stored next to every
//     wrapped key so a wrong master key is reported as such.  It is a one-way
//     derivation and reveals nothing about the key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "colcrypt/core/crypto.hpp"
#include "colcrypt/core/secure.hpp"

namespace colcrypt::core {

constexpr std::size_t kFingerprintHexSize = 16;  // hex digits, without terminator

// What a wrapped key is for.  Bound into the wrapping as associated data.
enum class KeyPurpose : std::uint8_t { data = 1, index = 2 };

// Wrapped key: format byte (1) | nonce (12) | encrypted key (32) | tag (16).
constexpr std::uint8_t kWrapFormatVersion = 1;
constexpr std::size_t kWrappedKeySize = 1 + kNonceSize + kKeySize + kTagSize;

// A keyring transfer request's random id (docs/design/keyring-transfer.md).
constexpr std::size_t kTransferIdSize = 16;

// Parse master key text: 64 hex digits, or 44 characters of standard base64,
// with leading and trailing white space ignored.  Throws
// Error(invalid_key_material) with a message naming what is wrong (empty,
// wrong length, bad characters) and never the key itself.
SecretKey parse_master_key(const char *text, std::size_t size);

// The key as 64 lowercase hex digits and a newline: the key file format.
std::string format_master_key(const SecretKey &key);

class MasterKey {
public:
    explicit MasterKey(const SecretKey &master);

    // 16 lowercase hex digits, NUL-terminated.
    const char *fingerprint() const noexcept { return fingerprint_; }

    // Wrap key for slot (keyring_id, purpose, version).  The slot is bound as
    // associated data, so a wrapped key cannot be moved to another slot or
    // keyring unnoticed.  out receives kWrappedKeySize bytes.
    void wrap(std::uint32_t keyring_id, KeyPurpose purpose, std::uint32_t version,
              const SecretKey &key, std::uint8_t out[kWrappedKeySize]);

    // Reverse of wrap.  Throws Error(malformed_value) for a wrong size or
    // format byte and Error(authentication_failed) for a wrong master key,
    // a wrong slot or tampering.
    SecretKey unwrap(std::uint32_t keyring_id, KeyPurpose purpose, std::uint32_t version,
                     const std::uint8_t *wrapped, std::size_t size);

    // The private key of a keyring transfer request, wrapped in the same
    // format as a data key but bound to the transfer id under its own label,
    // so it can never be taken for (or replace) a data or index key.
    void wrap_transfer_key(const std::uint8_t transfer_id[kTransferIdSize], const SecretKey &key,
                           std::uint8_t out[kWrappedKeySize]);
    SecretKey unwrap_transfer_key(const std::uint8_t transfer_id[kTransferIdSize],
                                  const std::uint8_t *wrapped, std::size_t size);

    // The transit key of one epoch (keyring id 0, key version = epoch):
    // HKDF of the transit base key and the epoch, so any process holding the
    // master key can derive the key of any epoch.
    SecretKey transit_key(std::uint32_t epoch) const;

private:
    void wrap_bound(const std::uint8_t *aad, std::size_t aad_size, const SecretKey &key,
                    std::uint8_t out[kWrappedKeySize]);
    SecretKey unwrap_bound(const std::uint8_t *aad, std::size_t aad_size,
                           const std::uint8_t *wrapped, std::size_t size);

    // The keys are derived before the AEAD object is built (member order).
    SecretKey wrapping_key_;
    SecretKey transit_base_key_;
    AesGcm wrapping_;
    NonceSource nonces_;
    char fingerprint_[kFingerprintHexSize + 1];
};

}  // namespace colcrypt::core
