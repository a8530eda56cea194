// Keyring transfer between clusters with different master keys: the
// recipient text a target publishes and the bundle a source seals for it
// (docs/design/keyring-transfer.md has the formats, kept readable forever).
//
// X25519 between an ephemeral key of the source and the target's transfer
// key, HKDF-SHA256 of the shared secret and the request's one-time token,
// AES-256-GCM over the payload with the header as associated data.  The
// payload (every key of the keyring) exists in the clear only inside
// sealed/opened SecretKeys and wiped buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "colcrypt/core/keyring_name.hpp"
#include "colcrypt/core/master_key.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/core/version_range.hpp"
#include "colcrypt/core/x25519.hpp"

namespace colcrypt::core {

constexpr std::size_t kKeyringUuidSize = 16;
constexpr std::size_t kTransferTokenSize = 32;
constexpr char kRecipientPrefix[] = "colcrypt-transfer:";

// What transfer_key publishes: the request, its public key and its token.
struct Recipient {
    std::uint8_t transfer_id[kTransferIdSize];
    std::uint8_t public_key[kX25519KeySize];
    SecretKey token;
};

// The token of a transfer private key: HKDF-SHA256 of it, so the target
// recomputes it instead of storing it.
SecretKey transfer_token(const SecretKey &private_key);

// "colcrypt-transfer:" and base64 of format 1 | id | public key | token.
std::string format_recipient(const Recipient &recipient);
// Throws Error(malformed_value) for text that is not a recipient of format 1.
Recipient parse_recipient(const char *text, std::size_t size);

struct TransferredKey {
    std::uint32_t version;
    SecretKey key;
};

// The payload of a bundle: a keyring's identity, settings and keys.
struct KeyringPayload {
    std::uint8_t uuid[kKeyringUuidSize];
    std::uint32_t keyring_id;
    std::string name;
    std::uint16_t term_bits;
    bool case_insensitive;
    std::uint8_t index_order;
    VersionRange recipient_range;  // the versions the recipient may make
    char source_fingerprint[kFingerprintHexSize + 1];
    TransferredKey index_key;
    std::vector<TransferredKey> data_keys;
};

// The transfer id a bundle names, read without opening it.  Throws
// Error(malformed_value) or Error(unsupported_format).
void bundle_transfer_id(const std::uint8_t *bundle, std::size_t size,
                        std::uint8_t out[kTransferIdSize]);

// The sealed bundle for recipient.
std::vector<std::uint8_t> seal_bundle(const Recipient &recipient, const KeyringPayload &payload);

// Open a bundle with the request's private key.  Throws
// Error(authentication_failed) when any byte was changed or the bundle was
// made for another key or token, Error(malformed_value) for a payload that
// authenticates but does not parse (never made by colcrypt).
KeyringPayload open_bundle(const std::uint8_t *bundle, std::size_t size, const SecretKey &private_key);

}  // namespace colcrypt::core
