// The nonce budget's arithmetic (core/nonce_budget.hpp).
#include <gtest/gtest.h>

#include "colcrypt/core/nonce_budget.hpp"

namespace colcrypt::test {
namespace {

using core::NonceBudget;

TEST(NonceBudget, HardLimitIsTwiceTheBudgetAtMostTheAbsoluteLimit) {
    EXPECT_EQ(NonceBudget(100).hard_limit(), 200u);
    EXPECT_EQ(NonceBudget(2147483647).hard_limit(), NonceBudget::kAbsoluteLimit);
    EXPECT_EQ(NonceBudget::kAbsoluteLimit, 4278190080u);  // 2^32 - 2^24
}

TEST(NonceBudget, ReachedAndRefused) {
    const NonceBudget b(100);
    EXPECT_FALSE(b.reached(99));
    EXPECT_TRUE(b.reached(100));
    EXPECT_FALSE(b.refuses(200));
    EXPECT_TRUE(b.refuses(201));
}

TEST(NonceBudget, ReservationBlocks) {
    EXPECT_EQ(NonceBudget(100).reservation_block(), 6u);    // 100 / 16
    EXPECT_EQ(NonceBudget(10).reservation_block(), 1u);     // never 0
    EXPECT_EQ(NonceBudget(2147483647).reservation_block(), NonceBudget::kMaxReservationBlock);
    EXPECT_EQ(NonceBudget(100).next_reservation(94), 100u);
}

TEST(NonceBudget, RotationIsRequestedOnceThenAfterAnInterval) {
    const NonceBudget b(100);
    EXPECT_FALSE(b.should_request_rotation(99, 0, false));  // not reached yet
    EXPECT_TRUE(b.should_request_rotation(100, 0, false));
    EXPECT_FALSE(b.should_request_rotation(101, 100, true));   // still pending
    EXPECT_FALSE(b.should_request_rotation(105, 100, false));  // ended, too soon
    EXPECT_TRUE(b.should_request_rotation(106, 100, false));   // 100 + 100/16
}

TEST(NonceBudget, ABudgetOfZeroActsAsOne) {
    const NonceBudget b(0);
    EXPECT_EQ(b.budget(), 1u);
    EXPECT_TRUE(b.reached(1));
}

}  // namespace
}  // namespace colcrypt::test
