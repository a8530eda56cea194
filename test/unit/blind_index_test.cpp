// Blind-index terms.
#include <gtest/gtest.h>

#include "colcrypt/core/blind_index.hpp"
#include "colcrypt/core/error.hpp"
#include "unit/test_util.hpp"

namespace colcrypt::test {
namespace {

using core::ValueType;

std::string term(core::BlindIndex &index, ValueType type, const std::string &value,
                 std::size_t size) {
    Bytes out(size);
    index.term(type, reinterpret_cast<const std::uint8_t *>(value.data()), value.size(), size,
               out.data());
    return to_hex(out);
}

// The term is HMAC-SHA256(key, type byte || plaintext), truncated.
TEST(BlindIndex, IsTruncatedHmacOfTypeByteAndPlaintext) {
    const core::SecretKey key = core::SecretKey::random();
    core::BlindIndex index(key);
    core::HmacSha256 hmac(key);
    const Bytes message = from_string("\x01hello");
    std::uint8_t mac[core::kSha256Size];
    hmac.compute(message.data(), message.size(), mac);
    EXPECT_EQ(term(index, ValueType::text, "hello", 32), to_hex(mac, 32));
    EXPECT_EQ(term(index, ValueType::text, "hello", 8), to_hex(mac, 8));
    EXPECT_EQ(term(index, ValueType::text, "hello", 0), "");
}

TEST(BlindIndex, IsDeterministicPerKeyAndSeparatesTypes) {
    const core::SecretKey key = core::SecretKey::random();
    core::BlindIndex a(key), b(key), other{core::SecretKey::random()};
    EXPECT_EQ(term(a, ValueType::text, "x", 16), term(b, ValueType::text, "x", 16));
    EXPECT_NE(term(a, ValueType::text, "x", 16), term(a, ValueType::text, "y", 16));
    EXPECT_NE(term(a, ValueType::text, "x", 16), term(a, ValueType::bytea, "x", 16));
    EXPECT_NE(term(a, ValueType::text, "x", 16), term(other, ValueType::text, "x", 16));
    EXPECT_EQ(term(a, ValueType::text, "", 16), term(b, ValueType::text, "", 16));
}

TEST(BlindIndex, RejectsTermsLongerThan32Bytes) {
    core::BlindIndex index{core::SecretKey::random()};
    std::uint8_t out[33];
    EXPECT_CORE_ERROR(index.term(ValueType::text, out, 1, 33, out), invalid_argument);
}

}  // namespace
}  // namespace colcrypt::test
