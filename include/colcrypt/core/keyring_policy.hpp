// A keyring's policy for its values: how long the blind-index term each
// value stores is, how plaintext is normalised before it is indexed and
// compared, and sealing a value under that policy.
//
// The policy is fixed when a keyring is created (colcrypt.keyrings'
// index_term_bits and case_insensitive) and never changes afterwards:
// stored terms, and indexes ordered by them, depend on it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "colcrypt/core/blind_index.hpp"
#include "colcrypt/core/crypto.hpp"
#include "colcrypt/core/value_type.hpp"

namespace colcrypt::core {

// How values whose stored terms are equal but too short to prove equality
// are ordered (docs/design/index-order.md).  A stored format: an index is
// built in one order and must be searched in it.
enum class IndexOrder : std::uint8_t {
    plaintext_ties = 1,  // 0.1.0's: by plaintext, which reveals plaintext order
    keyed_ties = 2,      // by the full keyed term, which reveals nothing more
};

class TermPolicy {
public:
    // From a keyring's settings: term_bits a multiple of 8 from 0 to 256,
    // and its index order.  Throws Error(invalid_argument) for anything else.
    static TermPolicy for_keyring(int term_bits, bool case_insensitive, int index_order);

    TermPolicy() = default;

    // Bytes of term stored in each value (0: none).
    std::size_t stored_term_size() const noexcept { return stored_term_size_; }
    bool stores_terms() const noexcept { return stored_term_size_ > 0; }
    Normalization normalization() const noexcept { return normalization_; }

    // Bytes of term that comparisons use.  Keyrings that store terms compare
    // the stored ones; keyrings that store none compare a full term computed
    // when needed, so that values are never ordered by their plaintext (an
    // index would reveal that order).
    std::size_t compared_term_size() const noexcept {
        return stores_terms() ? stored_term_size_ : kMaxTermSize;
    }

    // Whether equal stored terms prove equal values (kConclusiveTermSize).
    bool stored_terms_conclusive() const noexcept { return term_is_conclusive(stored_term_size_); }

    IndexOrder index_order() const noexcept { return index_order_; }

    // Whether values whose compared terms are equal but inconclusive are
    // ordered by their full terms (kMaxTermSize bytes, computed from the
    // plaintexts) rather than by their plaintexts.  Keyrings that store no
    // terms compare full terms to begin with, so they never tie.
    bool ties_by_full_term() const noexcept { return index_order_ == IndexOrder::keyed_ties; }

private:
    std::size_t stored_term_size_ = 0;
    Normalization normalization_ = Normalization::none;
    IndexOrder index_order_ = IndexOrder::keyed_ties;
};

// What sealing under one data-key version of a keyring needs.  The keys
// are owned elsewhere (KeyringKeys, a per-process cache).
struct SealingKey {
    std::uint32_t keyring_id;
    std::uint32_t key_version;
    AesGcm *data_key;
    BlindIndex *index_key;  // must be set when the policy stores terms
    TermPolicy policy;
};

// Exact size of the envelope seal_value writes for size bytes of plaintext.
std::size_t sealed_value_size(const SealingKey &key, std::size_t plaintext_size);

// Seal plaintext into out (sealed_value_size bytes): the term the policy
// asks for, under the keyring's index key, and the envelope under its data
// key.  The term is wiped from the stack afterwards.
void seal_value(const SealingKey &key, NonceSource &nonces, ValueType type, const std::uint8_t *plaintext,
                std::size_t size, std::uint8_t *out);

// The term that comparisons under the policy use for a plaintext
// (policy.compared_term_size() bytes into out).
void comparison_term(BlindIndex &index_key, const TermPolicy &policy, ValueType type,
                     const std::uint8_t *plaintext, std::size_t size, std::uint8_t *out);

// The full keyed term (kMaxTermSize bytes into out), which breaks ties of
// short terms under index order 2; every stored or compared term is a
// prefix of it.
void full_term(BlindIndex &index_key, const TermPolicy &policy, ValueType type, const std::uint8_t *plaintext,
               std::size_t size, std::uint8_t *out);

}  // namespace colcrypt::core
