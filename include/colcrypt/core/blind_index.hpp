// Blind-index terms: a keyed HMAC-SHA256 of the plaintext, truncated.
//
// Equal plaintexts of one type under one keyring get equal terms, which is
// what makes equality lookups indexable, and is also what the term leaks.
// Truncation trades that leakage against false positives; the PostgreSQL layer
// confirms a term match by decrypting where the term alone is not proof.
#pragma once

#include <cstddef>
#include <cstdint>

#include "colcrypt/core/crypto.hpp"
#include "colcrypt/core/envelope.hpp"  // kMaxTermSize, ValueType

namespace colcrypt::core {

// How plaintext is normalised before it is indexed and compared, a property
// of the keyring.  ascii_case_fold maps A-Z to a-z and leaves every other
// byte alone (so UTF-8 stays intact); it does not depend on any locale, so a
// term stays valid wherever the value is restored.
enum class Normalization : std::uint8_t { none = 0, ascii_case_fold = 1 };

// Compare two plaintexts after normalisation, like memcmp, with a shorter
// prefix ordered first.
int compare_normalized(Normalization normalization, const std::uint8_t *a, std::size_t a_size,
                       const std::uint8_t *b, std::size_t b_size) noexcept;

// Terms of at least this many bytes (128 bits) are proof of equality by
// themselves.  Two different plaintexts share a 128-bit truncation of
// HMAC-SHA256 with probability 2^-128, so even 2^40 distinct values under
// one keyring hold a colliding pair with probability below 2^-48 (the
// birthday bound, n^2 / 2^129): far less likely than a memory error.
// Shorter terms, the 64-bit default among them, do collide in large tables
// (at 2^32 distinct values, more likely than not), so equal short terms are
// confirmed by decrypting.
constexpr std::size_t kConclusiveTermSize = 16;
constexpr bool term_is_conclusive(std::size_t term_size) { return term_size >= kConclusiveTermSize; }

// A stored term as the number an index over terms holds
// (colcrypt.term(), docs/design/lookup-index.md): its first eight bytes,
// all of a shorter term's, read big-endian and reinterpreted as a signed
// 64-bit integer.  Equal terms give equal numbers, and terms of at most
// eight bytes unequal ones; longer terms keep 64 of their bits, so two of
// them may share a number, which the comparison rechecked on every row an
// index scan returns settles.
std::int64_t term_index_key(const std::uint8_t *term, std::size_t size) noexcept;

class BlindIndex {
public:
    explicit BlindIndex(const SecretKey &index_key) : hmac_(index_key) {}

    // First term_size bytes (<= kMaxTermSize) of
    // HMAC(key, type byte || normalised canonical plaintext): the canonical
    // form of numeric and jsonb (canonical_form.hpp), normalisation for
    // text only.
    void term(ValueType type, const std::uint8_t *plaintext, std::size_t size,
              std::size_t term_size, std::uint8_t *out,
              Normalization normalization = Normalization::none);

private:
    void mac_term(ValueType type, const std::uint8_t *plaintext, std::size_t size, std::size_t term_size,
                  std::uint8_t *out, Normalization normalization);

    HmacSha256 hmac_;
};

}  // namespace colcrypt::core
