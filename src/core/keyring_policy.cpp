// A keyring's term policy and sealing under it.
#include "colcrypt/core/keyring_policy.hpp"

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/error.hpp"
#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {

TermPolicy TermPolicy::for_keyring(int term_bits, bool case_insensitive, int index_order) {
    if (term_bits < 0 || term_bits % 8 != 0 || static_cast<std::size_t>(term_bits / 8) > kMaxTermSize) {
        throw Error(Errc::invalid_argument, "blind-index term bits must be a multiple of 8 from 0 to 256");
    }
    if (index_order != static_cast<int>(IndexOrder::plaintext_ties) &&
        index_order != static_cast<int>(IndexOrder::keyed_ties)) {
        throw Error(Errc::invalid_argument, "unknown index order");
    }
    TermPolicy policy;
    policy.index_order_ = static_cast<IndexOrder>(index_order);
    policy.stored_term_size_ = static_cast<std::size_t>(term_bits / 8);
    policy.normalization_ = case_insensitive ? Normalization::ascii_case_fold : Normalization::none;
    return policy;
}

std::size_t sealed_value_size(const SealingKey &key, std::size_t plaintext_size) {
    return sealed_size(key.keyring_id, key.key_version, key.policy.stored_term_size(), plaintext_size);
}

void seal_value(const SealingKey &key, NonceSource &nonces, ValueType type, const std::uint8_t *plaintext,
                std::size_t size, std::uint8_t *out) {
    const std::size_t term_size = key.policy.stored_term_size();
    std::uint8_t term[kMaxTermSize];
    if (term_size > 0) {
        if (key.index_key == nullptr) {
            throw Error(Errc::invalid_argument, "a keyring that stores terms needs its index key");
        }
        key.index_key->term(type, plaintext, size, term_size, term, key.policy.normalization());
    }
    seal(*key.data_key, nonces, type, key.keyring_id, key.key_version, term_size > 0 ? term : nullptr, term_size,
         plaintext, size, out);
    secure_wipe(term, sizeof term);
}

void comparison_term(BlindIndex &index_key, const TermPolicy &policy, ValueType type,
                     const std::uint8_t *plaintext, std::size_t size, std::uint8_t *out) {
    index_key.term(type, plaintext, size, policy.compared_term_size(), out, policy.normalization());
}

void full_term(BlindIndex &index_key, const TermPolicy &policy, ValueType type, const std::uint8_t *plaintext,
               std::size_t size, std::uint8_t *out) {
    index_key.term(type, plaintext, size, kMaxTermSize, out, policy.normalization());
}

}  // namespace colcrypt::core
