// Master key text, key derivation from the master key, and key wrapping.

#include "colcrypt/core/master_key.hpp"

#include <cstring>

#include "colcrypt/core/error.hpp"
#include "detail.hpp"
#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {

namespace {

constexpr std::size_t kHexKeySize = 2 * kKeySize;                          // 64
constexpr std::size_t kBase64KeySize = detail::base64_encoded_size(kKeySize);  // 44
constexpr std::size_t kFingerprintSize = kFingerprintHexSize / 2;          // 8 bytes

// HKDF info strings: one per derived value, so the values are independent.
constexpr char kWrappingInfo[] = "colcrypt v1 key wrapping";
constexpr char kTransitInfo[] = "colcrypt v1 transit";
constexpr char kTransitEpochInfo[] = "colcrypt v1 transit epoch ";
constexpr char kFingerprintInfo[] = "colcrypt v1 master key fingerprint";

// Associated data of a wrapped key: this label, then the slot in a fixed
// binary layout (keyring id 4 bytes big-endian, purpose 1 byte, version 4
// bytes big-endian).
constexpr char kWrapLabel[] = "colcrypt v1 wrapped key";
constexpr std::size_t kWrapLabelSize = sizeof(kWrapLabel) - 1;
constexpr std::size_t kWrapAadSize = kWrapLabelSize + 4 + 1 + 4;

constexpr char kHexDigits[] = "0123456789abcdef";

bool is_ascii_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Value of a hex digit of either case, or -1.
int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Lowercase hex of size bytes into out (2 * size characters, no terminator).
void to_hex(const std::uint8_t *data, std::size_t size, char *out) noexcept {
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = kHexDigits[data[i] >> 4];
        out[2 * i + 1] = kHexDigits[data[i] & 0x0f];
    }
}

// Decode 64 hex digits into key; false on a non-hex character (key is then
// partly written, and wiped by its own destructor).
bool parse_hex_key(const char *text, SecretKey &key) noexcept {
    for (std::size_t i = 0; i < kKeySize; ++i) {
        const int high = hex_value(text[2 * i]);
        const int low = hex_value(text[2 * i + 1]);
        if (high < 0 || low < 0) {
            return false;
        }
        key.data()[i] = static_cast<std::uint8_t>(high << 4 | low);
    }
    return true;
}

// Decode 44 base64 characters with exactly one '=' into key.  The decoder
// writes 33 bytes (it counts the padding), so it goes through a temporary
// that is wiped before returning.
bool parse_base64_key(const char *text, SecretKey &key) noexcept {
    if (text[kBase64KeySize - 1] != '=' || text[kBase64KeySize - 2] == '=') {
        return false;
    }
    std::uint8_t decoded[detail::base64_max_decoded_size(kBase64KeySize)];
    std::size_t decoded_size = 0;
    const bool ok = detail::base64_decode(text, kBase64KeySize, decoded, &decoded_size) &&
                    decoded_size == kKeySize;
    if (ok) {
        std::memcpy(key.data(), decoded, kKeySize);
    }
    secure_wipe(decoded, sizeof decoded);
    return ok;
}

// HKDF-SHA256(ikm = master, salt = empty, info) into out.
void derive(const SecretKey &master, const char *info, std::size_t info_size, std::uint8_t *out,
            std::size_t out_size) {
    hkdf_sha256(master.data(), master.size(), nullptr, 0,
                reinterpret_cast<const std::uint8_t *>(info), info_size, out, out_size);
}

// A derived 256-bit key.  Returned by value: the SecretKey wipes itself.
template <std::size_t N>
SecretKey derive_key(const SecretKey &master, const char (&info)[N]) {
    SecretKey key;
    derive(master, info, N - 1, key.data(), key.size());
    return key;
}

void put_be32(std::uint8_t *out, std::uint32_t value) noexcept {
    out[0] = static_cast<std::uint8_t>(value >> 24);
    out[1] = static_cast<std::uint8_t>(value >> 16);
    out[2] = static_cast<std::uint8_t>(value >> 8);
    out[3] = static_cast<std::uint8_t>(value);
}

// Build the associated data binding a wrapped key to its slot.
void wrap_aad(std::uint32_t keyring_id, KeyPurpose purpose, std::uint32_t version,
              std::uint8_t out[kWrapAadSize]) noexcept {
    std::memcpy(out, kWrapLabel, kWrapLabelSize);
    put_be32(out + kWrapLabelSize, keyring_id);
    out[kWrapLabelSize + 4] = static_cast<std::uint8_t>(purpose);
    put_be32(out + kWrapLabelSize + 5, version);
}

// Associated data of a transfer private key (docs/design/keyring-transfer.md):
// its own label, then the transfer id, so it never unwraps as a data key.
constexpr char kTransferWrapLabel[] = "colcrypt v1 transfer private key";
constexpr std::size_t kTransferWrapLabelSize = sizeof(kTransferWrapLabel) - 1;
constexpr std::size_t kTransferWrapAadSize = kTransferWrapLabelSize + kTransferIdSize;

void transfer_wrap_aad(const std::uint8_t transfer_id[kTransferIdSize],
                       std::uint8_t out[kTransferWrapAadSize]) noexcept {
    std::memcpy(out, kTransferWrapLabel, kTransferWrapLabelSize);
    std::memcpy(out + kTransferWrapLabelSize, transfer_id, kTransferIdSize);
}

// Offsets inside a wrapped key.
constexpr std::size_t kWrapNonceOffset = 1;
constexpr std::size_t kWrapKeyOffset = kWrapNonceOffset + kNonceSize;
constexpr std::size_t kWrapTagOffset = kWrapKeyOffset + kKeySize;
static_assert(kWrapTagOffset + kTagSize == kWrappedKeySize, "wrapped key layout");

}  // namespace

// Trim, then decide by length: 64 characters must be hex, 44 must be base64.
// The key text never appears in a message, only what is wrong with it.
SecretKey parse_master_key(const char *text, std::size_t size) {
    while (size > 0 && is_ascii_space(text[0])) {
        ++text;
        --size;
    }
    while (size > 0 && is_ascii_space(text[size - 1])) {
        --size;
    }
    if (size == 0) {
        throw Error(Errc::invalid_key_material, "master key is empty");
    }
    if (size != kHexKeySize && size != kBase64KeySize) {
        throw Error(Errc::invalid_key_material,
                    "master key has the wrong length: expected 64 hex digits or 44 base64 "
                    "characters");
    }
    SecretKey key;
    const bool ok = size == kHexKeySize ? parse_hex_key(text, key) : parse_base64_key(text, key);
    if (!ok) {
        throw Error(Errc::invalid_key_material, "master key is neither hex nor base64");
    }
    return key;
}

// Key file format: the hex form and a newline.  The stack copy is wiped;
// the returned string is not (std::string cannot wipe itself), so callers
// should secure_wipe its data once it is written out.
std::string format_master_key(const SecretKey &key) {
    char hex[kHexKeySize + 1];
    to_hex(key.data(), key.size(), hex);
    hex[kHexKeySize] = '\n';
    std::string text(hex, sizeof hex);
    secure_wipe(hex, sizeof hex);
    return text;
}

// ---------------------------------------------------------------------------
// MasterKey

// Derive the keys in the member initialisers (declaration order puts them
// before the AEAD object that uses them), then the fingerprint.
MasterKey::MasterKey(const SecretKey &master)
    : wrapping_key_(derive_key(master, kWrappingInfo)),
      transit_base_key_(derive_key(master, kTransitInfo)),
      wrapping_(wrapping_key_) {
    std::uint8_t fingerprint[kFingerprintSize];
    derive(master, kFingerprintInfo, sizeof kFingerprintInfo - 1, fingerprint,
           sizeof fingerprint);
    to_hex(fingerprint, sizeof fingerprint, fingerprint_);
    fingerprint_[kFingerprintHexSize] = '\0';
    secure_wipe(fingerprint, sizeof fingerprint);
}

// info = "colcrypt v1 transit epoch " followed by the epoch, big-endian.
SecretKey MasterKey::transit_key(std::uint32_t epoch) const {
    std::uint8_t info[sizeof kTransitEpochInfo - 1 + 4];
    std::memcpy(info, kTransitEpochInfo, sizeof kTransitEpochInfo - 1);
    for (int i = 0; i < 4; ++i) {
        info[sizeof kTransitEpochInfo - 1 + i] = static_cast<std::uint8_t>(epoch >> (24 - 8 * i));
    }
    SecretKey key;
    hkdf_sha256(transit_base_key_.data(), transit_base_key_.size(), nullptr, 0, info, sizeof info,
                key.data(), key.size());
    return key;
}

// format byte | fresh nonce | AES-GCM(wrapping key, key, AAD = slot) | tag.
void MasterKey::wrap(std::uint32_t keyring_id, KeyPurpose purpose, std::uint32_t version,
                     const SecretKey &key, std::uint8_t out[kWrappedKeySize]) {
    std::uint8_t aad[kWrapAadSize];
    wrap_aad(keyring_id, purpose, version, aad);
    wrap_bound(aad, sizeof aad, key, out);
}

SecretKey MasterKey::unwrap(std::uint32_t keyring_id, KeyPurpose purpose, std::uint32_t version,
                            const std::uint8_t *wrapped, std::size_t size) {
    std::uint8_t aad[kWrapAadSize];
    wrap_aad(keyring_id, purpose, version, aad);
    return unwrap_bound(aad, sizeof aad, wrapped, size);
}

void MasterKey::wrap_transfer_key(const std::uint8_t transfer_id[kTransferIdSize], const SecretKey &key,
                                  std::uint8_t out[kWrappedKeySize]) {
    std::uint8_t aad[kTransferWrapAadSize];
    transfer_wrap_aad(transfer_id, aad);
    wrap_bound(aad, sizeof aad, key, out);
}

SecretKey MasterKey::unwrap_transfer_key(const std::uint8_t transfer_id[kTransferIdSize],
                                         const std::uint8_t *wrapped, std::size_t size) {
    std::uint8_t aad[kTransferWrapAadSize];
    transfer_wrap_aad(transfer_id, aad);
    return unwrap_bound(aad, sizeof aad, wrapped, size);
}

void MasterKey::wrap_bound(const std::uint8_t *aad, std::size_t aad_size, const SecretKey &key,
                           std::uint8_t out[kWrappedKeySize]) {
    out[0] = kWrapFormatVersion;
    nonces_.next(out + kWrapNonceOffset);
    wrapping_.encrypt(out + kWrapNonceOffset, aad, aad_size, key.data(), key.size(),
                      out + kWrapKeyOffset, out + kWrapTagOffset);
}

// Decrypt straight into the returned SecretKey: on failure decrypt wipes it,
// and its destructor wipes it again when the exception unwinds.
SecretKey MasterKey::unwrap_bound(const std::uint8_t *aad, std::size_t aad_size,
                                  const std::uint8_t *wrapped, std::size_t size) {
    if (size != kWrappedKeySize) {
        throw Error(Errc::malformed_value, "wrapped key has the wrong size");
    }
    if (wrapped[0] != kWrapFormatVersion) {
        throw Error(Errc::malformed_value, "wrapped key has an unknown format byte");
    }
    SecretKey key;
    if (!wrapping_.decrypt(wrapped + kWrapNonceOffset, aad, aad_size, wrapped + kWrapKeyOffset,
                           kKeySize, wrapped + kWrapTagOffset, key.data())) {
        throw Error(Errc::authentication_failed,
                    "wrapped key does not authenticate: wrong master key, wrong slot, or "
                    "tampered");
    }
    return key;
}

}  // namespace colcrypt::core
