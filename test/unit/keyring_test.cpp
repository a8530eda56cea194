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

TEST(KeyringKeys, IndexKeyIsNullUntilSetAndComputesTerms) {
    core::KeyringKeys keys(1);
    EXPECT_EQ(keys.index_key(), nullptr);
    const SecretKey index_key = SecretKey::random();
    keys.set_index_key(index_key);
    ASSERT_NE(keys.index_key(), nullptr);

    core::BlindIndex reference(index_key);
    const Bytes value = from_string("alice@example.com");
    std::uint8_t a[8], b[8];
    keys.index_key()->term(core::ValueType::text, value.data(), value.size(), 8, a);
    reference.term(core::ValueType::text, value.data(), value.size(), 8, b);
    EXPECT_EQ(to_hex(a, 8), to_hex(b, 8));
}

}  // namespace
}  // namespace colcrypt::test
