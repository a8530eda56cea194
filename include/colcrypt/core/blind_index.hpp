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
#include "colcrypt/core/envelope.hpp"

namespace colcrypt::core {

class BlindIndex {
public:
    explicit BlindIndex(const SecretKey &index_key) : hmac_(index_key) {}

    // First term_size bytes (<= kMaxTermSize) of HMAC(key, type byte || plaintext).
    void term(ValueType type, const std::uint8_t *plaintext, std::size_t size,
              std::size_t term_size, std::uint8_t *out);

private:
    HmacSha256 hmac_;
};

}  // namespace colcrypt::core
