// The order and equality of encrypted values (core/comparison.hpp).
#include <gtest/gtest.h>

#include "colcrypt/core/comparison.hpp"
#include "unit/test_util.hpp"

namespace colcrypt::test {
namespace {

using core::TermMatch;
using core::TermOrder;

TEST(Comparison, DifferentTermsDecideTheOrderAtAnySize) {
    const Bytes a = from_hex("0102"), b = from_hex("0103");
    EXPECT_EQ(core::order_by_terms(a.data(), b.data(), 2), TermOrder::less);
    EXPECT_EQ(core::order_by_terms(b.data(), a.data(), 2), TermOrder::greater);
    EXPECT_EQ(core::match_by_terms(a.data(), b.data(), 2), TermMatch::different);
}

// A truncated term can collide, so equal short terms never decide.
TEST(Comparison, EqualShortTermsAreUndecided) {
    for (std::size_t size : {1u, 8u, 15u}) {
        const Bytes t = pattern(size);
        EXPECT_EQ(core::order_by_terms(t.data(), t.data(), size), TermOrder::undecided) << size;
        EXPECT_EQ(core::match_by_terms(t.data(), t.data(), size), TermMatch::undecided) << size;
    }
}

TEST(Comparison, EqualTermsOf128BitsOrMoreAreConclusive) {
    for (std::size_t size : {core::kConclusiveTermSize, std::size_t{24}, core::kMaxTermSize}) {
        const Bytes t = pattern(size);
        EXPECT_EQ(core::order_by_terms(t.data(), t.data(), size), TermOrder::equal) << size;
        EXPECT_EQ(core::match_by_terms(t.data(), t.data(), size), TermMatch::same) << size;
    }
}

TEST(Comparison, TermsAreComparedAsUnsignedBytes) {
    const Bytes low = from_hex("7f"), high = from_hex("80");
    EXPECT_EQ(core::order_by_terms(low.data(), high.data(), 1), TermOrder::less);
}

TEST(Comparison, PlaintextTieBreakFollowsTheNormalisation) {
    const Bytes upper = from_string("Alice"), lower = from_string("alice"), longer = from_string("alice2");
    EXPECT_NE(core::order_by_plaintexts(core::Normalization::none, upper.data(), upper.size(), lower.data(),
                                        lower.size()),
              0);
    EXPECT_EQ(core::order_by_plaintexts(core::Normalization::ascii_case_fold, upper.data(), upper.size(),
                                        lower.data(), lower.size()),
              0);
    EXPECT_EQ(core::order_by_plaintexts(core::Normalization::none, lower.data(), lower.size(), longer.data(),
                                        longer.size()),
              -1);
}

TEST(Comparison, OrderSign) {
    EXPECT_EQ(core::order_sign(TermOrder::less), -1);
    EXPECT_EQ(core::order_sign(TermOrder::equal), 0);
    EXPECT_EQ(core::order_sign(TermOrder::greater), 1);
}

}  // namespace
}  // namespace colcrypt::test
