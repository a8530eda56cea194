// How encrypted values of one keyring compare: equality and the order the
// btree operator class sorts them in.
//
// Within a keyring, values are ordered by their terms after the keyring's
// normalisation (TermPolicy): the stored terms first, without decrypting.
// Equal stored terms shorter than kConclusiveTermSize bytes do not decide:
// the keyring's index order breaks the tie (docs/design/index-order.md),
// by the full keyed terms (order 2: reveals nothing about the plaintexts
// beyond equality) or, in keyrings still at 0.1.0's order 1, by the
// plaintexts.  Equality is confirmed on the plaintexts whenever the terms
// do not decide it, so a truncated term's false positive never decides a
// result.  Values of no keyring (transit values) are ordered by plaintext.
//
// The PostgreSQL layer finds the terms (stored, cached or computed) and,
// when a verdict below is undecided, the plaintexts; the decisions are
// made here, so that they can be tested without a server.
#pragma once

#include <cstddef>
#include <cstdint>

#include "colcrypt/core/blind_index.hpp"

namespace colcrypt::core {

// What two terms say about the order of their values.
enum class TermOrder { less, equal, greater, undecided };

// By memcmp of size bytes: different terms decide; equal terms decide only
// when conclusive (term_is_conclusive(size)).
TermOrder order_by_terms(const std::uint8_t *a, const std::uint8_t *b, std::size_t size) noexcept;

// What two terms say about equality: compared in constant time, so timing
// does not reveal how much of a term matched.
enum class TermMatch { different, same, undecided };
TermMatch match_by_terms(const std::uint8_t *a, const std::uint8_t *b, std::size_t size) noexcept;

// The order of two values whose terms left it undecided: their plaintexts
// after normalisation (compare_normalized).  -1, 0 or 1.
int order_by_plaintexts(Normalization normalization, const std::uint8_t *a, std::size_t a_size,
                        const std::uint8_t *b, std::size_t b_size) noexcept;

// -1, 0 or 1 for a decided TermOrder (undecided is not a valid argument).
int order_sign(TermOrder order) noexcept;

}  // namespace colcrypt::core
