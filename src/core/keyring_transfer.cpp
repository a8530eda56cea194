// Recipient texts and keyring bundles.  See
// include/colcrypt/core/keyring_transfer.hpp and
// docs/design/keyring-transfer.md.
#include "colcrypt/core/keyring_transfer.hpp"

#include <cstring>

#include "colcrypt/core/crypto.hpp"
#include "colcrypt/core/error.hpp"
#include "detail.hpp"
#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {
namespace {

constexpr std::uint8_t kRecipientFormat = 1;
constexpr std::uint8_t kBundleFormat = 1;
constexpr std::uint8_t kPayloadFormat = 1;
constexpr std::uint8_t kBundleMagic[4] = {'C', 'C', 'K', 'T'};

constexpr std::size_t kRecipientSize = 1 + kTransferIdSize + kX25519KeySize + kTransferTokenSize;
constexpr std::size_t kRecipientPrefixSize = sizeof(kRecipientPrefix) - 1;
constexpr std::size_t kRecipientTextSize = kRecipientPrefixSize + detail::base64_encoded_size(kRecipientSize);

// Header: magic | format | transfer id | ephemeral public key | nonce.
constexpr std::size_t kIdOffset = 5;
constexpr std::size_t kEphemeralOffset = kIdOffset + kTransferIdSize;
constexpr std::size_t kNonceOffset = kEphemeralOffset + kX25519KeySize;
constexpr std::size_t kHeaderSize = kNonceOffset + kNonceSize;

constexpr char kTokenInfo[] = "colcrypt v1 transfer token";
constexpr char kBundleInfo[] = "colcrypt v1 keyring transfer";

// At most this many data keys in one bundle (2 bytes of count).
constexpr std::size_t kMaxDataKeys = 65535;

// A byte buffer that may hold keys: wiped before it is freed or grows.
class SecretBuffer {
public:
    SecretBuffer() = default;
    explicit SecretBuffer(std::size_t size) : bytes_(size) {}
    ~SecretBuffer() { secure_wipe(bytes_.data(), bytes_.size()); }
    SecretBuffer(const SecretBuffer &) = delete;
    SecretBuffer &operator=(const SecretBuffer &) = delete;

    void reserve(std::size_t size) { bytes_.reserve(size); }  // before the first append
    void append(const std::uint8_t *data, std::size_t size) {
        if (bytes_.size() + size > bytes_.capacity()) {
            throw Error(Errc::invalid_argument, "keyring payload buffer too small");
        }
        bytes_.insert(bytes_.end(), data, data + size);
    }
    void byte(std::uint8_t value) { append(&value, 1); }
    void be16(std::uint16_t value) {
        const std::uint8_t b[2] = {static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
        append(b, 2);
    }
    void be32(std::uint32_t value) {
        const std::uint8_t b[4] = {static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
                                   static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
        append(b, 4);
    }
    std::uint8_t *data() noexcept { return bytes_.data(); }
    std::size_t size() const noexcept { return bytes_.size(); }

private:
    std::vector<std::uint8_t> bytes_;
};

// Reads a payload; any overrun is a malformed payload.
class Reader {
public:
    Reader(const std::uint8_t *data, std::size_t size) noexcept : p_(data), end_(data + size) {}
    const std::uint8_t *take(std::size_t size) {
        if (static_cast<std::size_t>(end_ - p_) < size) {
            throw Error(Errc::malformed_value, "keyring bundle payload is truncated");
        }
        const std::uint8_t *at = p_;
        p_ += size;
        return at;
    }
    std::uint8_t byte() { return *take(1); }
    std::uint16_t be16() {
        const std::uint8_t *b = take(2);
        return static_cast<std::uint16_t>(b[0] << 8 | b[1]);
    }
    std::uint32_t be32() {
        const std::uint8_t *b = take(4);
        return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
    }
    bool done() const noexcept { return p_ == end_; }

private:
    const std::uint8_t *p_;
    const std::uint8_t *end_;
};

// HKDF(ikm = shared secret || token, salt = transfer id,
//      info = label || ephemeral public || recipient public).
SecretKey bundle_key(const SecretKey &shared, const SecretKey &token, const std::uint8_t *transfer_id,
                     const std::uint8_t *ephemeral_public, const std::uint8_t *recipient_public) {
    std::uint8_t ikm[kX25519KeySize + kTransferTokenSize];
    std::memcpy(ikm, shared.data(), kX25519KeySize);
    std::memcpy(ikm + kX25519KeySize, token.data(), kTransferTokenSize);
    std::uint8_t info[sizeof kBundleInfo - 1 + 2 * kX25519KeySize];
    std::memcpy(info, kBundleInfo, sizeof kBundleInfo - 1);
    std::memcpy(info + sizeof kBundleInfo - 1, ephemeral_public, kX25519KeySize);
    std::memcpy(info + sizeof kBundleInfo - 1 + kX25519KeySize, recipient_public, kX25519KeySize);
    SecretKey key;
    try {
        hkdf_sha256(ikm, sizeof ikm, transfer_id, kTransferIdSize, info, sizeof info, key.data(), key.size());
    } catch (...) {
        secure_wipe(ikm, sizeof ikm);
        throw;
    }
    secure_wipe(ikm, sizeof ikm);
    return key;
}

void encode_payload(const KeyringPayload &payload, SecretBuffer &out) {
    if (!is_valid_keyring_name(payload.name.data(), payload.name.size())) {
        throw Error(Errc::invalid_argument, "keyring name is not valid");
    }
    if (payload.data_keys.size() > kMaxDataKeys) {
        throw Error(Errc::invalid_argument, "too many data keys for one keyring bundle");
    }
    out.reserve(1 + kKeyringUuidSize + 4 + 1 + payload.name.size() + 2 + 1 + 1 + 8 + kFingerprintHexSize +
                4 + kKeySize + 2 + payload.data_keys.size() * (4 + kKeySize));
    out.byte(kPayloadFormat);
    out.append(payload.uuid, kKeyringUuidSize);
    out.be32(payload.keyring_id);
    out.byte(static_cast<std::uint8_t>(payload.name.size()));
    out.append(reinterpret_cast<const std::uint8_t *>(payload.name.data()), payload.name.size());
    out.be16(payload.term_bits);
    out.byte(payload.case_insensitive ? 1 : 0);
    out.byte(payload.index_order);
    out.be32(static_cast<std::uint32_t>(payload.recipient_range.start));
    out.be32(static_cast<std::uint32_t>(payload.recipient_range.end));
    out.append(reinterpret_cast<const std::uint8_t *>(payload.source_fingerprint), kFingerprintHexSize);
    out.be32(payload.index_key.version);
    out.append(payload.index_key.key.data(), kKeySize);
    out.be16(static_cast<std::uint16_t>(payload.data_keys.size()));
    for (const TransferredKey &key : payload.data_keys) {
        out.be32(key.version);
        out.append(key.key.data(), kKeySize);
    }
}

bool valid_version(std::uint32_t version) noexcept {
    return version >= 1 && version <= 0x7fffffffu;
}

KeyringPayload decode_payload(const std::uint8_t *data, std::size_t size) {
    Reader in(data, size);
    if (in.byte() != kPayloadFormat) {
        throw Error(Errc::unsupported_format, "keyring bundle payload has an unknown format");
    }
    KeyringPayload payload;
    std::memcpy(payload.uuid, in.take(kKeyringUuidSize), kKeyringUuidSize);
    payload.keyring_id = in.be32();
    const std::size_t name_size = in.byte();
    const std::uint8_t *name = in.take(name_size);
    if (!is_valid_keyring_name(reinterpret_cast<const char *>(name), name_size)) {
        throw Error(Errc::malformed_value, "keyring bundle names an invalid keyring");
    }
    payload.name.assign(reinterpret_cast<const char *>(name), name_size);
    payload.term_bits = in.be16();
    const std::uint8_t case_insensitive = in.byte();
    payload.case_insensitive = case_insensitive == 1;
    payload.index_order = in.byte();
    payload.recipient_range.start = static_cast<std::int32_t>(in.be32());
    payload.recipient_range.end = static_cast<std::int32_t>(in.be32());
    std::memcpy(payload.source_fingerprint, in.take(kFingerprintHexSize), kFingerprintHexSize);
    payload.source_fingerprint[kFingerprintHexSize] = '\0';
    payload.index_key.version = in.be32();
    std::memcpy(payload.index_key.key.data(), in.take(kKeySize), kKeySize);
    const std::size_t count = in.be16();
    payload.data_keys.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        payload.data_keys.push_back(TransferredKey{in.be32(), SecretKey(in.take(kKeySize))});
        if (!valid_version(payload.data_keys.back().version) ||
            (i > 0 && payload.data_keys[i - 1].version >= payload.data_keys[i].version)) {
            throw Error(Errc::malformed_value, "keyring bundle has invalid key versions");
        }
    }
    if (!in.done() || payload.keyring_id == 0 || payload.keyring_id > 0x7fffffffu || case_insensitive > 1 ||
        payload.term_bits > 256 || payload.term_bits % 8 != 0 || !valid_version(payload.index_key.version) ||
        payload.recipient_range.start < 1 || payload.recipient_range.end <= payload.recipient_range.start) {
        throw Error(Errc::malformed_value, "keyring bundle payload is not valid");
    }
    return payload;
}

void check_header(const std::uint8_t *bundle, std::size_t size) {
    if (size < kHeaderSize + kTagSize || std::memcmp(bundle, kBundleMagic, sizeof kBundleMagic) != 0) {
        throw Error(Errc::malformed_value, "not a colcrypt keyring bundle");
    }
    if (bundle[4] != kBundleFormat) {
        throw Error(Errc::unsupported_format, "keyring bundle has an unknown format");
    }
}

}  // namespace

SecretKey transfer_token(const SecretKey &private_key) {
    SecretKey token;
    hkdf_sha256(private_key.data(), private_key.size(), nullptr, 0, reinterpret_cast<const std::uint8_t *>(kTokenInfo),
                sizeof kTokenInfo - 1, token.data(), token.size());
    return token;
}

std::string format_recipient(const Recipient &recipient) {
    std::uint8_t raw[kRecipientSize];
    raw[0] = kRecipientFormat;
    std::memcpy(raw + 1, recipient.transfer_id, kTransferIdSize);
    std::memcpy(raw + 1 + kTransferIdSize, recipient.public_key, kX25519KeySize);
    std::memcpy(raw + 1 + kTransferIdSize + kX25519KeySize, recipient.token.data(), kTransferTokenSize);
    std::string text(kRecipientTextSize, '\0');
    std::memcpy(&text[0], kRecipientPrefix, kRecipientPrefixSize);
    detail::base64_encode(raw, sizeof raw, &text[kRecipientPrefixSize]);
    secure_wipe(raw, sizeof raw);
    return text;
}

Recipient parse_recipient(const char *text, std::size_t size) {
    if (size != kRecipientTextSize || std::memcmp(text, kRecipientPrefix, kRecipientPrefixSize) != 0) {
        throw Error(Errc::malformed_value, "not a colcrypt transfer recipient");
    }
    std::uint8_t raw[detail::base64_max_decoded_size(kRecipientTextSize - kRecipientPrefixSize)];
    std::size_t raw_size = 0;
    const bool ok = detail::base64_decode(text + kRecipientPrefixSize, size - kRecipientPrefixSize, raw, &raw_size) &&
                    raw_size == kRecipientSize && raw[0] == kRecipientFormat;
    Recipient recipient;
    if (ok) {
        std::memcpy(recipient.transfer_id, raw + 1, kTransferIdSize);
        std::memcpy(recipient.public_key, raw + 1 + kTransferIdSize, kX25519KeySize);
        std::memcpy(recipient.token.data(), raw + 1 + kTransferIdSize + kX25519KeySize, kTransferTokenSize);
    }
    secure_wipe(raw, sizeof raw);
    if (!ok) {
        throw Error(Errc::malformed_value, "not a colcrypt transfer recipient");
    }
    return recipient;
}

void bundle_transfer_id(const std::uint8_t *bundle, std::size_t size, std::uint8_t out[kTransferIdSize]) {
    check_header(bundle, size);
    std::memcpy(out, bundle + kIdOffset, kTransferIdSize);
}

std::vector<std::uint8_t> seal_bundle(const Recipient &recipient, const KeyringPayload &payload) {
    SecretBuffer plain;
    encode_payload(payload, plain);
    X25519KeyPair ephemeral = x25519_generate();
    SecretKey shared = x25519_shared_secret(ephemeral.private_key, recipient.public_key);
    SecretKey key =
        bundle_key(shared, recipient.token, recipient.transfer_id, ephemeral.public_key, recipient.public_key);

    std::vector<std::uint8_t> bundle(kHeaderSize + plain.size() + kTagSize);
    std::memcpy(bundle.data(), kBundleMagic, sizeof kBundleMagic);
    bundle[4] = kBundleFormat;
    std::memcpy(bundle.data() + kIdOffset, recipient.transfer_id, kTransferIdSize);
    std::memcpy(bundle.data() + kEphemeralOffset, ephemeral.public_key, kX25519KeySize);
    random_bytes(bundle.data() + kNonceOffset, kNonceSize);  // one message per key: a random nonce is safe
    AesGcm aead(key);
    aead.encrypt(bundle.data() + kNonceOffset, bundle.data(), kHeaderSize, plain.data(), plain.size(),
                 bundle.data() + kHeaderSize, bundle.data() + kHeaderSize + plain.size());
    return bundle;
}

KeyringPayload open_bundle(const std::uint8_t *bundle, std::size_t size, const SecretKey &private_key) {
    check_header(bundle, size);
    std::uint8_t public_key[kX25519KeySize];
    x25519_public_key(private_key, public_key);
    SecretKey token = transfer_token(private_key);
    SecretKey shared;
    try {
        shared = x25519_shared_secret(private_key, bundle + kEphemeralOffset);
    } catch (const Error &) {
        // A replaced ephemeral key of small order: as any other tampering.
        throw Error(Errc::authentication_failed, "keyring bundle does not authenticate");
    }
    SecretKey key = bundle_key(shared, token, bundle + kIdOffset, bundle + kEphemeralOffset, public_key);
    const std::size_t payload_size = size - kHeaderSize - kTagSize;
    SecretBuffer plain(payload_size);
    AesGcm aead(key);
    if (!aead.decrypt(bundle + kNonceOffset, bundle, kHeaderSize, bundle + kHeaderSize, payload_size,
                      bundle + kHeaderSize + payload_size, plain.data())) {
        throw Error(Errc::authentication_failed, "keyring bundle does not authenticate");
    }
    return decode_payload(plain.data(), plain.size());
}

}  // namespace colcrypt::core
