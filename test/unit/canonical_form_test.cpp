// Canonical forms of sealed plaintexts: equal under the base type's `=`
// means equal canonical form and equal blind-index term.
#include <gtest/gtest.h>

#include "colcrypt/core/blind_index.hpp"
#include "colcrypt/core/canonical_form.hpp"
#include "unit/test_util.hpp"

namespace colcrypt::test {
namespace {

using core::ValueType;

std::string canonical(ValueType type, const Bytes &sealed) {
    std::vector<std::uint8_t> out;
    core::canonical_form(type, sealed.data(), sealed.size(), out);
    return std::string(out.begin(), out.end());
}

// jsonb's sealed form: version byte 1, then jsonb's text.
Bytes jsonb(const std::string &text) {
    return from_string("\x01" + text);
}

std::string term(ValueType type, const Bytes &sealed, core::Normalization normalization = core::Normalization::none) {
    static const core::SecretKey key = core::SecretKey::random();
    core::BlindIndex index(key);
    Bytes out(32);
    index.term(type, sealed.data(), sealed.size(), out.size(), out.data(), normalization);
    return to_hex(out);
}

// numeric's send format of 1.0 and 1.00: ndigits 1, weight 0, sign +,
// dscale 1 or 2, one digit 1.  Only dscale differs, and it is dropped.
TEST(CanonicalForm, NumericIgnoresDisplayScale) {
    const Bytes one_0 = from_hex("000100000000000100" "01");
    const Bytes one_00 = from_hex("000100000000000200" "01");
    const Bytes two = from_hex("000100000000000000" "02");
    EXPECT_EQ(canonical(ValueType::numeric, one_0), canonical(ValueType::numeric, one_00));
    EXPECT_EQ(to_hex(from_string(canonical(ValueType::numeric, one_0))), "00010000000000000001");
    EXPECT_NE(canonical(ValueType::numeric, one_0), canonical(ValueType::numeric, two));
    EXPECT_EQ(term(ValueType::numeric, one_0), term(ValueType::numeric, one_00));
    EXPECT_NE(term(ValueType::numeric, one_0), term(ValueType::numeric, two));
    EXPECT_EQ(core::compare_canonical(ValueType::numeric, core::Normalization::none, one_0.data(), one_0.size(),
                                      one_00.data(), one_00.size()),
              0);
}

TEST(CanonicalForm, JsonbNumbersAsNumericComparesThem) {
    EXPECT_EQ(canonical(ValueType::jsonb, jsonb("{\"a\": 1.0}")), canonical(ValueType::jsonb, jsonb("{\"a\": 1.00}")));
    EXPECT_EQ(canonical(ValueType::jsonb, jsonb("{\"a\": 1.0}")), canonical(ValueType::jsonb, jsonb("{\"a\": 1}")));
    EXPECT_EQ(canonical(ValueType::jsonb, jsonb("[10, 0.50, -2.000]")), "\x01[10, 0.5, -2]");
    EXPECT_EQ(canonical(ValueType::jsonb, jsonb("-0.0")), "\x01" "0");
    // Zeros before the point and in integers stay.
    EXPECT_EQ(canonical(ValueType::jsonb, jsonb("[100, 0.05]")), "\x01[100, 0.05]");
    EXPECT_NE(canonical(ValueType::jsonb, jsonb("[1]")), canonical(ValueType::jsonb, jsonb("[10]")));
    EXPECT_EQ(term(ValueType::jsonb, jsonb("{\"a\": 1.0}")), term(ValueType::jsonb, jsonb("{\"a\": 1.00}")));
}

TEST(CanonicalForm, JsonbStringsAreKeptByteForByte) {
    EXPECT_EQ(canonical(ValueType::jsonb, jsonb("{\"1.0\": \"2.50\"}")), "\x01{\"1.0\": \"2.50\"}");
    EXPECT_EQ(canonical(ValueType::jsonb, jsonb("[\"a\\\"1.0\", 1.0]")), "\x01[\"a\\\"1.0\", 1]");
    EXPECT_NE(canonical(ValueType::jsonb, jsonb("\"1.0\"")), canonical(ValueType::jsonb, jsonb("\"1\"")));
}

TEST(CanonicalForm, OtherTypesAreTheirBytes) {
    const Bytes v = from_hex("0000002a");
    for (ValueType type : {ValueType::text, ValueType::bytea, ValueType::int4, ValueType::int8, ValueType::date,
                           ValueType::timestamptz}) {
        EXPECT_FALSE(core::canonical_form_rewrites(type));
        EXPECT_EQ(canonical(type, v), std::string(v.begin(), v.end()));
    }
}

// Case folding is a text keyring's: a bytea or a JSON string keeps its case.
TEST(CanonicalForm, CaseFoldingIsForTextOnly) {
    const auto fold = core::Normalization::ascii_case_fold;
    EXPECT_EQ(term(ValueType::text, from_string("ABC"), fold), term(ValueType::text, from_string("abc"), fold));
    EXPECT_NE(term(ValueType::bytea, from_string("ABC"), fold), term(ValueType::bytea, from_string("abc"), fold));
    EXPECT_NE(term(ValueType::jsonb, jsonb("\"A\""), fold), term(ValueType::jsonb, jsonb("\"a\""), fold));
    EXPECT_EQ(core::normalization_for(ValueType::int4, fold), core::Normalization::none);
}

}  // namespace
}  // namespace colcrypt::test
