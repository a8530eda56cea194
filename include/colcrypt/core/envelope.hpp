// The stored-value format ("envelope") of every encrypted value.
//
// Version 1 layout, in order:
//   byte 0    format version << 4 | algorithm      (0x11: v1, AES-256-GCM)
//   byte 1    blind-index term size in bytes, 0..32 (top two bits reserved, 0)
//   varint    keyring id   (unsigned LEB128, minimal encoding, <= 2^32-1)
//   varint    key version  (same encoding)
//   12 bytes  random nonce
//   T bytes   blind-index term (T from byte 1)
//   N bytes   ciphertext (N = plaintext size)
//   16 bytes  GCM tag
//
// Associated data = value-type byte || every byte before the ciphertext, so
// the header, nonce and term are authenticated, and a value cannot be moved
// to another keyring, key version or type (text vs bytea ...) unnoticed.
//
// Overhead for keyring id and version below 128 and an 8-byte term:
// 2 + 1 + 1 + 12 + 8 + 16 = 40 bytes.
//
// Keyring id 0 is the transit keyring: values parsed before the target
// column's keyring is known (type modifier -1) are sealed under a transit
// key derived from the master key, and re-sealed under the column's keyring
// by the type-modifier coercion.  Their key version is the transit epoch:
// the transit key is derived per epoch (MasterKey::transit_key), and each
// process moves to a fresh random epoch long before a key nears the GCM
// nonce bound, while any process can still decrypt any epoch.
//
// Key version 0 of a real keyring marks a search value: a comparison operand
// that colcrypt._bind makes for lookups in one backend, never a stored value
// (docs/design/encrypt-privilege.md).  Its header names the keyring and
// carries the keyring's term of the plaintext, so it sorts and matches in
// the keyring's index order; its payload (where the ciphertext would be) is
// a complete transit envelope of the plaintext, and its nonce and tag are
// zero: nothing is sealed under the keyring, so making one needs no encrypt
// privilege and spends none of the keyring's nonce budget.
//
// Text form, used where an envelope travels as text (ciphertext output mode,
// dumps): the prefix "colcrypt:" followed by standard base64 of the bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "colcrypt/core/crypto.hpp"
#include "colcrypt/core/value_type.hpp"

namespace colcrypt::core {

constexpr std::uint8_t kFormatVersion = 1;
constexpr std::uint8_t kAlgorithmAes256Gcm = 1;
constexpr std::uint32_t kTransitKeyringId = 0;
constexpr std::uint32_t kSearchKeyVersion = 0;
constexpr std::size_t kMaxTermSize = 32;
constexpr std::size_t kMaxVarintSize = 5;
// Smallest possible envelope: 2 header bytes, two 1-byte varints, nonce, tag.
constexpr std::size_t kMinEnvelopeSize = 2 + 1 + 1 + kNonceSize + kTagSize;
// Largest header+nonce+term prefix; associated data is this plus the type byte.
constexpr std::size_t kMaxPrefixSize = 2 + 2 * kMaxVarintSize + kNonceSize + kMaxTermSize;

constexpr char kTextPrefix[] = "colcrypt:";
constexpr std::size_t kTextPrefixSize = sizeof(kTextPrefix) - 1;

// The largest plaintext colcrypt seals, 768 MiB less 1 KiB: the text form
// of its envelope (what ciphertext output mode and dumps show, base64 of a
// third more) then still fits in one PostgreSQL allocation (1 GB less one
// byte, NUL included), so that every stored value can be dumped.
constexpr std::size_t kMaxPlaintextSize = std::size_t{768} * 1024 * 1024 - 1024;

// A parsed envelope: pointers into the caller's buffer, which must outlive it.
struct Envelope {
    std::uint8_t format_version;
    std::uint8_t algorithm;
    std::uint32_t keyring_id;
    std::uint32_t key_version;
    const std::uint8_t *start;       // first byte of the envelope
    std::size_t prefix_size;         // bytes before the ciphertext (authenticated)
    const std::uint8_t *nonce;       // kNonceSize bytes
    const std::uint8_t *term;        // term_size bytes (nullptr when 0)
    std::size_t term_size;
    const std::uint8_t *ciphertext;  // ciphertext_size bytes
    std::size_t ciphertext_size;     // equals the plaintext size
    const std::uint8_t *tag;         // kTagSize bytes
    std::size_t total_size;
};

// Parse without decrypting.  Throws Error(malformed_value) for any size that
// does not add up (truncation, trailing bytes, over-long or non-minimal
// varints, reserved bits set, term longer than kMaxTermSize) and
// Error(unsupported_format) for an unknown format version or algorithm.
Envelope parse_envelope(const std::uint8_t *data, std::size_t size);

// The keyring id and blind-index term of an envelope of the common shape,
// read from its first bytes: format 1 with AES-256-GCM, a term, keyring id
// from 1 to 127 (one varint byte) and any key version (version 0 is a search
// value, whose term compares like a stored one), and room for nonce,
// term and tag.  An envelope it accepts is one parse_envelope accepts with
// the same id and term.  False for anything else, well-formed or not: call
// parse_envelope then.  For comparisons, which mostly need only the term.
struct TermView {
    std::uint32_t keyring_id;
    std::uint32_t key_version;  // which says under which index key the term was made
    const std::uint8_t *term;
    std::size_t term_size;
};
bool peek_term(const std::uint8_t *data, std::size_t size, TermView *out) noexcept;

// The keyring id and key version from an envelope's first bytes (format and
// term-size bytes and both varints; kMaxHeaderSize bytes are always enough):
// for finding values by header without fetching them whole.  False when
// those bytes are not the start of a format 1 envelope.
constexpr std::size_t kMaxHeaderSize = 2 + 2 * kMaxVarintSize;
bool read_envelope_header(const std::uint8_t *data, std::size_t size, std::uint32_t *keyring_id,
                          std::uint32_t *key_version) noexcept;

// Whether the first bytes are those of a transit value (format 1 with
// AES-256-GCM, keyring id kTransitKeyringId).  Only a routing hint: the rest
// is not checked, so parse_envelope decides whether it is well formed.
bool looks_transit(const std::uint8_t *data, std::size_t size) noexcept;

// Whether a parsed envelope is a search value (see above).
inline bool is_search_value(const Envelope &envelope) noexcept {
    return envelope.keyring_id != kTransitKeyringId && envelope.key_version == kSearchKeyVersion;
}

// Size of, and building, a search value of keyring_id (not transit) with
// term (term_size bytes, may be 0) around a transit envelope.
std::size_t search_value_size(std::uint32_t keyring_id, std::size_t term_size, std::size_t transit_size);
void make_search_value(std::uint32_t keyring_id, const std::uint8_t *term, std::size_t term_size,
                       const std::uint8_t *transit, std::size_t transit_size, std::uint8_t *out);

// The transit envelope a search value carries, parsed.  Throws
// Error(malformed_value) when the payload is not a transit envelope.
Envelope search_value_payload(const Envelope &search);

// Exact size of the envelope seal() writes.
std::size_t sealed_size(std::uint32_t keyring_id, std::uint32_t key_version,
                        std::size_t term_size, std::size_t plaintext_size);

// Encrypt plaintext into out (sealed_size(...) bytes) with a fresh nonce.
// term may be nullptr when term_size is 0; term_size <= kMaxTermSize.
void seal(AesGcm &aead, NonceSource &nonces, ValueType type, std::uint32_t keyring_id,
          std::uint32_t key_version, const std::uint8_t *term, std::size_t term_size,
          const std::uint8_t *plaintext, std::size_t size, std::uint8_t *out);

// Decrypt and verify into plaintext_out (envelope.ciphertext_size bytes).
// Throws Error(authentication_failed) if the tag, type or any header byte does
// not match; the output is wiped in that case.
void open(AesGcm &aead, ValueType type, const Envelope &envelope, std::uint8_t *plaintext_out);

// Text form.  envelope_text_size is the exact size of the text (no terminator).
std::size_t envelope_text_size(std::size_t envelope_size);
void envelope_to_text(const std::uint8_t *envelope, std::size_t size, char *out);

// True when text starts with kTextPrefix: the input must then be a valid
// envelope, never plaintext.
bool has_envelope_prefix(const char *text, std::size_t size) noexcept;

// Decode text form into out (room for envelope_max_decoded_size(size) bytes);
// returns the envelope size.  Throws Error(malformed_value) for a missing
// prefix or bad base64.  Does not parse the envelope itself.
std::size_t envelope_max_decoded_size(std::size_t text_size) noexcept;
std::size_t envelope_from_text(const char *text, std::size_t size, std::uint8_t *out);

}  // namespace colcrypt::core
