// Per-keyring key cache.
#include <gtest/gtest.h>

#include "colcrypt/core/error.hpp"
#include "colcrypt/core/keyring.hpp"
#include "unit/test_util.hpp"

namespace colcrypt::test {
namespace {

using core::SecretKey;

// Encrypt a marker with aead and report whether other decrypts it, i.e.
// whether both hold the same key.
bool same_key(core::AesGcm &aead, core::AesGcm &other) {
    const std::uint8_t nonce[core::kNonceSize] = {};
    std::uint8_t data[4] = {1, 2, 3, 4}, tag[core::kTagSize];
    aead.encrypt(nonce, nullptr, 0, data, sizeof data, data, tag);
    return other.decrypt(nonce, nullptr, 0, data, sizeof data, tag, data);
}

TEST(KeyringKeys, LooksUpAddedVersionsAndReturnsNullForMissingOnes) {
    core::KeyringKeys keys(42);
    EXPECT_EQ(keys.keyring_id(), 42u);
    EXPECT_EQ(keys.data_key(1), nullptr);

    const SecretKey k1 = SecretKey::random(), k2 = SecretKey::random();
    keys.add_data_key(1, k1);
    keys.add_data_key(2, k2);
    core::AesGcm ref1(k1), ref2(k2);
    ASSERT_NE(keys.data_key(1), nullptr);
    ASSERT_NE(keys.data_key(2), nullptr);
    EXPECT_TRUE(same_key(*keys.data_key(1), ref1));
    EXPECT_TRUE(same_key(*keys.data_key(2), ref2));
    EXPECT_FALSE(same_key(*keys.data_key(1), ref2));
    EXPECT_EQ(keys.data_key(3), nullptr);
    EXPECT_EQ(keys.data_key(0), nullptr);
}

TEST(KeyringKeys, RefusesDataKeyVersionZero) {
    core::KeyringKeys keys(1);
    EXPECT_CORE_ERROR(keys.add_data_key(0, SecretKey::random()), invalid_argument);
}

TEST(KeyringKeys, IndexKeyIsNullUntilAddedAndComputesTerms) {
    core::KeyringKeys keys(1);
    EXPECT_EQ(keys.index_key(1), nullptr);
    const SecretKey index_key = SecretKey::random();
    keys.add_index_key(1, index_key);
    ASSERT_NE(keys.index_key(1), nullptr);

    core::BlindIndex reference(index_key);
    const Bytes value = from_string("alice@example.com");
    std::uint8_t a[8], b[8];
    keys.index_key(1)->term(core::ValueType::text, value.data(), value.size(), 8, a);
    reference.term(core::ValueType::text, value.data(), value.size(), 8, b);
    EXPECT_EQ(to_hex(a, 8), to_hex(b, 8));
}

// A blind-index key rotation holds two index keys at once: each version's
// terms are its own key's.
TEST(KeyringKeys, KeepsIndexKeysApartByVersion) {
    core::KeyringKeys keys(1);
    const SecretKey k1 = SecretKey::random(), k2 = SecretKey::random();
    keys.add_index_key(1, k1);
    keys.add_index_key(2, k2);
    EXPECT_EQ(keys.index_key(3), nullptr);
    core::BlindIndex ref2(k2);
    const Bytes value = from_string("alice@example.com");
    std::uint8_t a[16], b[16], c[16];
    keys.index_key(1)->term(core::ValueType::text, value.data(), value.size(), 16, a);
    keys.index_key(2)->term(core::ValueType::text, value.data(), value.size(), 16, b);
    ref2.term(core::ValueType::text, value.data(), value.size(), 16, c);
    EXPECT_NE(to_hex(a, 16), to_hex(b, 16));
    EXPECT_EQ(to_hex(b, 16), to_hex(c, 16));
}

TEST(KeyringKeys, RefusesIndexKeyVersionZero) {
    core::KeyringKeys keys(1);
    EXPECT_CORE_ERROR(keys.add_index_key(0, SecretKey::random()), invalid_argument);
}

}  // namespace
}  // namespace colcrypt::test
