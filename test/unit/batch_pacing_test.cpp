// The re-encryption worker's pacing (core/batch_pacing.hpp).
#include <gtest/gtest.h>

#include "colcrypt/core/batch_pacing.hpp"

namespace colcrypt::test {
namespace {

using core::pause_after_batch_us;

TEST(BatchPacing, HoldsTheCpuShareOnAnIdleMachine) {
    // 20 ms of CPU in 20 ms: at 20 % the batch and its pause last 100 ms.
    EXPECT_EQ(pause_after_batch_us(20000, 20000, 20, 0), 80000);
    EXPECT_EQ(pause_after_batch_us(20000, 20000, 50, 0), 20000);
}

TEST(BatchPacing, ABusyMachineDoesNotSlowTheWorkerTwice) {
    // The same 20 ms of CPU took 60 ms of wall time, shared with the
    // applications: the pause shrinks so that the share stays 20 %, where a
    // fixed pause would have come on top of the longer batch.
    EXPECT_EQ(pause_after_batch_us(20000, 60000, 20, 0), 40000);
    // Slower than the period itself: only the minimum pause.
    EXPECT_EQ(pause_after_batch_us(20000, 150000, 20, 5000), 5000);
}

TEST(BatchPacing, TheMinimumPauseIsAFloor) {
    EXPECT_EQ(pause_after_batch_us(20000, 20000, 20, 100000), 100000);
    EXPECT_EQ(pause_after_batch_us(20000, 20000, 100, 0), 0);      // no CPU limit
    EXPECT_EQ(pause_after_batch_us(20000, 20000, 100, 7000), 7000);
}

TEST(BatchPacing, OutOfRangeInputsAreClamped) {
    EXPECT_EQ(pause_after_batch_us(20000, 20000, 0, 0), pause_after_batch_us(20000, 20000, 1, 0));
    EXPECT_EQ(pause_after_batch_us(20000, 20000, 250, 0), 0);
    EXPECT_EQ(pause_after_batch_us(-5, -5, 20, -1), 0);
}

}  // namespace
}  // namespace colcrypt::test
