// The stored-value format: building, parsing, sealing, opening, text form.
//
// Keyring id / key version pairs:
//   - keyring 0 (transit): the key version is the transit epoch, any value;
//   - any other keyring: a data-key version >= 1, or 0 for a search value
//     (envelope.hpp), which parse accepts and seal refuses to make: search
//     values are built by make_search_value, never sealed under a data key.

#include "colcrypt/core/envelope.hpp"

#include <cstring>

#include "colcrypt/core/error.hpp"
#include "detail.hpp"
#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {

namespace {

constexpr std::uint8_t kHeaderByte = kFormatVersion << 4 | kAlgorithmAes256Gcm;
constexpr std::uint8_t kReservedTermBits = 0xc0;
constexpr std::uint8_t kTermSizeMask = 0x3f;
static_assert(kMaxTermSize <= kTermSizeMask, "term size must fit byte 1");

bool sealable_key_pair(std::uint32_t keyring_id, std::uint32_t key_version) noexcept {
    return keyring_id == kTransitKeyringId || key_version != kSearchKeyVersion;
}

// Bytes of the LEB128 encoding of value (1..5).
std::size_t varint_size(std::uint32_t value) noexcept {
    std::size_t size = 1;
    while (value >= 0x80) {
        value >>= 7;
        ++size;
    }
    return size;
}

// Write the minimal LEB128 encoding of value; returns the byte after it.
std::uint8_t *put_varint(std::uint8_t *out, std::uint32_t value) noexcept {
    while (value >= 0x80) {
        *out++ = static_cast<std::uint8_t>(value | 0x80);
        value >>= 7;
    }
    *out++ = static_cast<std::uint8_t>(value);
    return out;
}

// Read one LEB128 varint from [*p, end) and advance *p.  Accepts only the
// minimal encoding of a value that fits 32 bits, so each value has exactly
// one byte form.
std::uint32_t get_varint(const std::uint8_t **p, const std::uint8_t *end) {
    std::uint32_t value = 0;
    for (std::size_t i = 0;; ++i) {
        if (*p == end) {
            throw Error(Errc::malformed_value, "envelope is truncated");
        }
        const std::uint8_t byte = *(*p)++;
        if (i == kMaxVarintSize - 1 && byte > 0x0f) {
            // The fifth byte carries bits 28..31 only: more bits, or a
            // continuation bit, means the value does not fit 32 bits.
            throw Error(Errc::malformed_value, "envelope varint exceeds 32 bits");
        }
        value |= static_cast<std::uint32_t>(byte & 0x7f) << (7 * i);
        if ((byte & 0x80) == 0) {
            if (byte == 0 && i > 0) {
                throw Error(Errc::malformed_value, "envelope varint is not minimally encoded");
            }
            return value;
        }
    }
}

// Header, varints, nonce and term, i.e. everything before the ciphertext.
std::size_t prefix_size(std::uint32_t keyring_id, std::uint32_t key_version,
                        std::size_t term_size) noexcept {
    return 2 + varint_size(keyring_id) + varint_size(key_version) + kNonceSize + term_size;
}

// Associated data = value-type byte || prefix, assembled on the stack.
std::size_t build_aad(ValueType type, const std::uint8_t *prefix, std::size_t size,
                      std::uint8_t aad[1 + kMaxPrefixSize]) noexcept {
    aad[0] = static_cast<std::uint8_t>(type);
    std::memcpy(aad + 1, prefix, size);
    return 1 + size;
}

// parse_envelope's errors, out of line: every value read is parsed, and
// the exceptions' construction kept the parser's own frame large.
[[noreturn]] __attribute__((noinline, cold)) void reject_envelope(Errc code, const char *message) {
    throw Error(code, message);
}

}  // namespace

// Bytes too short for any envelope are malformed; after that, checks go in
// byte order, so the first defect found is the one reported, and a future
// format version is reported as unsupported rather than malformed.
Envelope parse_envelope(const std::uint8_t *data, std::size_t size) {
    // Size first: bytes too short to be any envelope are damaged, whatever
    // their first byte claims.
    if (size < kMinEnvelopeSize) {
        reject_envelope(Errc::malformed_value, "envelope is truncated");
    }
    Envelope env;  // every field is set below
    env.format_version = data[0] >> 4;
    env.algorithm = data[0] & 0x0f;
    if (env.format_version != kFormatVersion) {
        reject_envelope(Errc::unsupported_format, "unsupported envelope format version");
    }
    if (env.algorithm != kAlgorithmAes256Gcm) {
        reject_envelope(Errc::unsupported_format, "unsupported envelope algorithm");
    }
    if ((data[1] & kReservedTermBits) != 0) {
        reject_envelope(Errc::malformed_value, "envelope has reserved bits set");
    }
    env.term_size = data[1] & kTermSizeMask;
    if (env.term_size > kMaxTermSize) {
        reject_envelope(Errc::malformed_value, "envelope term size is too large");
    }

    const std::uint8_t *const end = data + size;
    const std::uint8_t *p = data + 2;
    if (p[0] < 0x80 && p[1] < 0x80) {
        // One byte each, the common case (ids and versions below 128): what
        // get_varint would read, without its loop; size >= kMinEnvelopeSize
        // puts both bytes in bounds.
        env.keyring_id = p[0];
        env.key_version = p[1];
        p += 2;
    } else {
        env.keyring_id = get_varint(&p, end);
        env.key_version = get_varint(&p, end);
    }
    const std::size_t after_varints = static_cast<std::size_t>(p - data);
    if (size - after_varints < kNonceSize + env.term_size + kTagSize) {
        reject_envelope(Errc::malformed_value, "envelope is truncated");
    }

    env.start = data;
    env.nonce = p;
    env.term = env.term_size != 0 ? p + kNonceSize : nullptr;
    env.prefix_size = after_varints + kNonceSize + env.term_size;
    env.ciphertext = data + env.prefix_size;
    env.ciphertext_size = size - env.prefix_size - kTagSize;
    env.tag = env.ciphertext + env.ciphertext_size;
    env.total_size = size;
    return env;
}

namespace {

// The size of a varint of two to five bytes at data (its first byte has the
// continuation bit), or 0 unless get_varint would accept it: minimal, at
// most 32 bits, within size.
std::size_t long_varint_size(const std::uint8_t *data, std::size_t size) noexcept {
    for (std::size_t i = 1; i < kMaxVarintSize && i < size; ++i) {
        const std::uint8_t byte = data[i];
        if (i == kMaxVarintSize - 1 && byte > 0x0f) {
            return 0;
        }
        if ((byte & 0x80) == 0) {
            return byte == 0 ? 0 : i + 1;
        }
    }
    return 0;
}

}  // namespace

// The checks of parse_envelope, for the one shape it accepts here.  The key
// version may take up to five varint bytes: the versions a keyring
// transfer's target makes are near 2^31 (docs/design/keyring-transfer.md).
bool peek_term(const std::uint8_t *data, std::size_t size, TermView *out) noexcept {
    constexpr std::size_t kVersionOffset = 2 + 1;
    if (size < kVersionOffset + 1 + kNonceSize || data[0] != kHeaderByte) {
        return false;
    }
    const std::size_t term_size = data[1];  // reserved bits must be 0
    const std::uint8_t keyring_id = data[2];
    if (term_size == 0 || term_size > kMaxTermSize || keyring_id == 0 || keyring_id >= 0x80) {
        return false;
    }
    // One byte for versions below 128: the common case stays one test.
    std::size_t version_size = 1;
    std::uint32_t version = data[kVersionOffset];
    if ((data[kVersionOffset] & 0x80) != 0) {
        version_size = long_varint_size(data + kVersionOffset, size - kVersionOffset);
        if (version_size == 0) {
            return false;
        }
        version = 0;  // minimal LEB128 of at most 32 bits: checked by long_varint_size
        for (std::size_t i = version_size; i-- > 0;) {
            version = (version << 7) | (data[kVersionOffset + i] & 0x7f);
        }
    }
    const std::size_t prefix = kVersionOffset + version_size + kNonceSize;
    if (size < prefix || size - prefix < term_size + kTagSize) {
        return false;
    }
    out->keyring_id = keyring_id;
    out->key_version = version;
    out->term = data + prefix;
    out->term_size = term_size;
    return true;
}

// The checks parse_envelope makes on these bytes, in the same order.
bool read_envelope_header(const std::uint8_t *data, std::size_t size, std::uint32_t *keyring_id,
                          std::uint32_t *key_version) noexcept {
    if (size < 4 || data[0] != kHeaderByte || (data[1] & kReservedTermBits) != 0 ||
        (data[1] & kTermSizeMask) > kMaxTermSize) {
        return false;
    }
    try {
        const std::uint8_t *p = data + 2;
        const std::uint8_t *const end = data + size;
        const std::uint32_t id = get_varint(&p, end);
        const std::uint32_t version = get_varint(&p, end);
        *keyring_id = id;
        *key_version = version;
        return true;
    } catch (const Error &) {
        return false;
    }
}

std::size_t search_value_size(std::uint32_t keyring_id, std::size_t term_size, std::size_t transit_size) {
    return prefix_size(keyring_id, kSearchKeyVersion, term_size) + transit_size + kTagSize;
}

void make_search_value(std::uint32_t keyring_id, const std::uint8_t *term, std::size_t term_size,
                       const std::uint8_t *transit, std::size_t transit_size, std::uint8_t *out) {
    if (keyring_id == kTransitKeyringId || term_size > kMaxTermSize || (term == nullptr && term_size != 0)) {
        throw Error(Errc::invalid_argument, "invalid search value keyring or term");
    }
    const Envelope payload = parse_envelope(transit, transit_size);
    if (payload.keyring_id != kTransitKeyringId) {
        throw Error(Errc::invalid_argument, "a search value carries a transit envelope");
    }
    std::uint8_t *p = out;
    *p++ = kHeaderByte;
    *p++ = static_cast<std::uint8_t>(term_size);
    p = put_varint(p, keyring_id);
    p = put_varint(p, kSearchKeyVersion);
    std::memset(p, 0, kNonceSize);
    p += kNonceSize;
    if (term_size != 0) {
        std::memcpy(p, term, term_size);
        p += term_size;
    }
    std::memcpy(p, transit, transit_size);
    std::memset(p + transit_size, 0, kTagSize);
}

Envelope search_value_payload(const Envelope &search) {
    const Envelope payload = parse_envelope(search.ciphertext, search.ciphertext_size);
    if (payload.keyring_id != kTransitKeyringId) {
        throw Error(Errc::malformed_value, "search value does not carry a transit envelope");
    }
    return payload;
}

bool looks_transit(const std::uint8_t *data, std::size_t size) noexcept {
    // Header byte, flags with the term size, then the keyring id's varint.
    return size > 2 && data[0] == kHeaderByte && data[2] == kTransitKeyringId;
}

std::size_t sealed_size(std::uint32_t keyring_id, std::uint32_t key_version,
                        std::size_t term_size, std::size_t plaintext_size) {
    return prefix_size(keyring_id, key_version, term_size) + plaintext_size + kTagSize;
}

// Write the prefix, then encrypt directly behind it: no copies of the
// plaintext, no allocation.
void seal(AesGcm &aead, NonceSource &nonces, ValueType type, std::uint32_t keyring_id,
          std::uint32_t key_version, const std::uint8_t *term, std::size_t term_size,
          const std::uint8_t *plaintext, std::size_t size, std::uint8_t *out) {
    if (term_size > kMaxTermSize || (term == nullptr && term_size != 0)) {
        throw Error(Errc::invalid_argument, "blind-index term size out of range");
    }
    if (size > kMaxPlaintextSize) {
        throw Error(Errc::invalid_argument, "value is too large to encrypt");
    }
    if (!sealable_key_pair(keyring_id, key_version)) {
        throw Error(Errc::invalid_argument, "invalid keyring id and key version");
    }
    std::uint8_t *p = out;
    *p++ = kHeaderByte;
    *p++ = static_cast<std::uint8_t>(term_size);
    p = put_varint(p, keyring_id);
    p = put_varint(p, key_version);
    std::uint8_t *const nonce = p;
    nonces.next(nonce);
    p += kNonceSize;
    if (term_size != 0) {
        std::memcpy(p, term, term_size);
        p += term_size;
    }
    const std::size_t prefix = static_cast<std::size_t>(p - out);

    std::uint8_t aad[1 + kMaxPrefixSize];
    const std::size_t aad_size = build_aad(type, out, prefix, aad);
    aead.encrypt(nonce, aad, aad_size, plaintext, size, p, p + size);
}

// The tag covers the type byte and the whole prefix, so a wrong type, key,
// header, nonce or term all surface as one authentication failure.
void open(AesGcm &aead, ValueType type, const Envelope &envelope, std::uint8_t *plaintext_out) {
    if (envelope.prefix_size > kMaxPrefixSize) {
        throw Error(Errc::invalid_argument, "envelope prefix is too large");
    }
    std::uint8_t aad[1 + kMaxPrefixSize];
    const std::size_t aad_size = build_aad(type, envelope.start, envelope.prefix_size, aad);
    if (!aead.decrypt(envelope.nonce, aad, aad_size, envelope.ciphertext,
                      envelope.ciphertext_size, envelope.tag, plaintext_out)) {
        throw Error(Errc::authentication_failed,
                    "encrypted value does not authenticate: wrong key, wrong type, or tampered");
    }
}

// ---------------------------------------------------------------------------
// Text form

std::size_t envelope_text_size(std::size_t envelope_size) {
    return kTextPrefixSize + detail::base64_encoded_size(envelope_size);
}

void envelope_to_text(const std::uint8_t *envelope, std::size_t size, char *out) {
    std::memcpy(out, kTextPrefix, kTextPrefixSize);
    detail::base64_encode(envelope, size, out + kTextPrefixSize);
}

// Case-sensitive, exactly as envelope_to_text writes it.
bool has_envelope_prefix(const char *text, std::size_t size) noexcept {
    return size >= kTextPrefixSize && std::memcmp(text, kTextPrefix, kTextPrefixSize) == 0;
}

std::size_t envelope_max_decoded_size(std::size_t text_size) noexcept {
    return text_size < kTextPrefixSize
               ? 0
               : detail::base64_max_decoded_size(text_size - kTextPrefixSize);
}

// Strict base64 (see detail.hpp): no white space, canonical padding.
std::size_t envelope_from_text(const char *text, std::size_t size, std::uint8_t *out) {
    if (!has_envelope_prefix(text, size)) {
        throw Error(Errc::malformed_value, "encrypted value text lacks the colcrypt: prefix");
    }
    std::size_t decoded = 0;
    if (!detail::base64_decode(text + kTextPrefixSize, size - kTextPrefixSize, out, &decoded)) {
        throw Error(Errc::malformed_value, "encrypted value text is not valid base64");
    }
    return decoded;
}

}  // namespace colcrypt::core
