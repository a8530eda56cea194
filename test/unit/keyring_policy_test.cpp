// A keyring's term policy and sealing under it (core/keyring_policy.hpp).
#include <gtest/gtest.h>

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/core/keyring_policy.hpp"
#include "unit/test_util.hpp"

namespace colcrypt::test {
namespace {

using core::TermPolicy;
using core::ValueType;

TEST(TermPolicy, FromKeyringSettings) {
    const TermPolicy standard = TermPolicy::for_keyring(64, false, 2);
    EXPECT_EQ(standard.stored_term_size(), 8u);
    EXPECT_TRUE(standard.stores_terms());
    EXPECT_EQ(standard.compared_term_size(), 8u);
    EXPECT_FALSE(standard.stored_terms_conclusive());
    EXPECT_EQ(standard.normalization(), core::Normalization::none);

    const TermPolicy wide = TermPolicy::for_keyring(128, true, 2);
    EXPECT_TRUE(wide.stored_terms_conclusive());
    EXPECT_EQ(wide.normalization(), core::Normalization::ascii_case_fold);
}

// Keyrings without stored terms still compare by a full keyed term, never
// by plaintext.
TEST(TermPolicy, NoStoredTermsComparesFullTerms) {
    const TermPolicy none = TermPolicy::for_keyring(0, false, 2);
    EXPECT_FALSE(none.stores_terms());
    EXPECT_EQ(none.compared_term_size(), core::kMaxTermSize);
}

// Ties of short terms: by full keyed term from index order 2 on; 0.1.0's
// order 1 (by plaintext) stays readable for keyrings not yet switched.
TEST(TermPolicy, IndexOrder) {
    EXPECT_TRUE(TermPolicy::for_keyring(64, false, 2).ties_by_full_term());
    EXPECT_FALSE(TermPolicy::for_keyring(64, false, 1).ties_by_full_term());
    EXPECT_EQ(TermPolicy::for_keyring(8, false, 1).index_order(), core::IndexOrder::plaintext_ties);
    EXPECT_CORE_ERROR(TermPolicy::for_keyring(64, false, 0), invalid_argument);
    EXPECT_CORE_ERROR(TermPolicy::for_keyring(64, false, 3), invalid_argument);
}

TEST(TermPolicy, RefusesBadBitCounts) {
    EXPECT_CORE_ERROR(TermPolicy::for_keyring(7, false, 2), invalid_argument);
    EXPECT_CORE_ERROR(TermPolicy::for_keyring(-8, false, 2), invalid_argument);
    EXPECT_CORE_ERROR(TermPolicy::for_keyring(264, false, 2), invalid_argument);
}

struct Keys {
    core::SecretKey data = core::SecretKey::random();
    core::SecretKey index = core::SecretKey::random();
    core::AesGcm aead{data};
    core::BlindIndex blind{index};
    core::NonceSource nonces;
};

Bytes seal(Keys &keys, const TermPolicy &policy, const std::string &plaintext) {
    core::SealingKey key{7, 3, &keys.aead, &keys.blind, policy};
    Bytes out(core::sealed_value_size(key, plaintext.size()));
    core::seal_value(key, keys.nonces, ValueType::text, reinterpret_cast<const std::uint8_t *>(plaintext.data()),
                     plaintext.size(), out.data());
    return out;
}

// The stored term is the comparison term, truncated, after normalisation;
// the envelope names the keyring and version and opens to the plaintext.
TEST(SealValue, StoresThePolicysTerm) {
    Keys keys;
    const TermPolicy policy = TermPolicy::for_keyring(64, true, 2);
    const Bytes sealed = seal(keys, policy, "Alice@Example.com");
    const core::Envelope env = core::parse_envelope(sealed.data(), sealed.size());
    EXPECT_EQ(env.keyring_id, 7u);
    EXPECT_EQ(env.key_version, 3u);
    ASSERT_EQ(env.term_size, 8u);

    const std::string folded = "alice@example.com";
    Bytes full(policy.compared_term_size());
    core::comparison_term(keys.blind, policy, ValueType::text, reinterpret_cast<const std::uint8_t *>(folded.data()),
                          folded.size(), full.data());
    EXPECT_EQ(to_hex(env.term, env.term_size), to_hex(full));

    Bytes plaintext(env.ciphertext_size);
    core::open(keys.aead, ValueType::text, env, plaintext.data());
    EXPECT_EQ(std::string(plaintext.begin(), plaintext.end()), "Alice@Example.com");
}

TEST(SealValue, NoTermWhenThePolicyStoresNone) {
    Keys keys;
    const Bytes sealed = seal(keys, TermPolicy::for_keyring(0, false, 2), "x");
    const core::Envelope env = core::parse_envelope(sealed.data(), sealed.size());
    EXPECT_EQ(env.term_size, 0u);
    EXPECT_EQ(sealed.size(), 2u + 1 + 1 + core::kNonceSize + 1 + core::kTagSize);
}

TEST(SealValue, RefusesATermPolicyWithoutIndexKey) {
    Keys keys;
    core::SealingKey key{7, 3, &keys.aead, nullptr, TermPolicy::for_keyring(64, false, 2)};
    Bytes out(core::sealed_value_size(key, 1));
    const std::uint8_t byte = 'x';
    EXPECT_CORE_ERROR(core::seal_value(key, keys.nonces, ValueType::text, &byte, 1, out.data()), invalid_argument);
}

}  // namespace
}  // namespace colcrypt::test
