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

std::string folded_term(core::BlindIndex &index, const std::string &value, std::size_t size) {
    Bytes out(size);
    index.term(ValueType::text, reinterpret_cast<const std::uint8_t *>(value.data()), value.size(), size,
               out.data(), core::Normalization::ascii_case_fold);
    return to_hex(out);
}

// Case folding: the term of the ASCII-lower-cased plaintext, so case
// variants share a term; other bytes (UTF-8 included) are left alone.
TEST(BlindIndex, AsciiCaseFoldingTermsIgnoreAsciiCaseOnly) {
    core::BlindIndex index{core::SecretKey::random()};
    EXPECT_EQ(folded_term(index, "Alice@Example.COM", 16), folded_term(index, "alice@example.com", 16));
    EXPECT_EQ(folded_term(index, "alice@example.com", 16), term(index, ValueType::text, "alice@example.com", 16));
    EXPECT_NE(folded_term(index, "Alice", 16), term(index, ValueType::text, "Alice", 16));
    EXPECT_NE(folded_term(index, "\xc3\x89t\xc3\xa9", 16), folded_term(index, "\xc3\xa9t\xc3\xa9", 16));
    // Longer than the 256-byte folding chunk: every chunk is folded.
    const std::string upper(1000, 'Q'), lower(1000, 'q');
    EXPECT_EQ(folded_term(index, upper, 32), folded_term(index, lower, 32));
    EXPECT_EQ(folded_term(index, upper, 32), term(index, ValueType::text, lower, 32));
}

int compare(core::Normalization n, const std::string &a, const std::string &b) {
    return core::compare_normalized(n, reinterpret_cast<const std::uint8_t *>(a.data()), a.size(),
                                    reinterpret_cast<const std::uint8_t *>(b.data()), b.size());
}

TEST(BlindIndex, CompareNormalizedOrdersLikeMemcmpAfterFolding) {
    using core::Normalization;
    EXPECT_EQ(compare(Normalization::none, "abc", "abc"), 0);
    EXPECT_LT(compare(Normalization::none, "ABC", "abc"), 0);
    EXPECT_LT(compare(Normalization::none, "ab", "abc"), 0);
    EXPECT_GT(compare(Normalization::none, "abd", "abc"), 0);
    EXPECT_EQ(compare(Normalization::none, "", ""), 0);
    EXPECT_EQ(compare(Normalization::ascii_case_fold, "ABC", "abc"), 0);
    EXPECT_LT(compare(Normalization::ascii_case_fold, "AB", "abc"), 0);
    EXPECT_GT(compare(Normalization::ascii_case_fold, "abD", "ABC"), 0);
    EXPECT_NE(compare(Normalization::ascii_case_fold, "\xc3\x89", "\xc3\xa9"), 0);
}

TEST(BlindIndex, RejectsTermsLongerThan32Bytes) {
    core::BlindIndex index{core::SecretKey::random()};
    std::uint8_t out[33];
    EXPECT_CORE_ERROR(index.term(ValueType::text, out, 1, 33, out), invalid_argument);
}

TEST(BlindIndex, TermIndexKeyReadsTheFirstEightBytesBigEndian) {
    const std::uint8_t one[] = {0x2a};
    EXPECT_EQ(core::term_index_key(one, 1), 0x2a);
    const std::uint8_t eight[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    EXPECT_EQ(core::term_index_key(eight, 8), 0x0102030405060708);
    // A high first bit gives a negative number (the int8 an index holds).
    const std::uint8_t high[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    EXPECT_EQ(core::term_index_key(high, 8), -2);
    // A longer term keeps its first 64 bits.
    const std::uint8_t sixteen[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
    EXPECT_EQ(core::term_index_key(sixteen, 16), core::term_index_key(eight, 8));
    // Terms of a keyring differ in their first bytes as often as anywhere.
    core::BlindIndex index{core::SecretKey::random()};
    std::uint8_t a[8], b[8];
    index.term(ValueType::text, reinterpret_cast<const std::uint8_t *>("alice"), 5, 8, a);
    index.term(ValueType::text, reinterpret_cast<const std::uint8_t *>("bob"), 3, 8, b);
    EXPECT_NE(core::term_index_key(a, 8), core::term_index_key(b, 8));
    index.term(ValueType::text, reinterpret_cast<const std::uint8_t *>("alice"), 5, 8, b);
    EXPECT_EQ(core::term_index_key(a, 8), core::term_index_key(b, 8));
}

}  // namespace
}  // namespace colcrypt::test
