// The nonce budget's arithmetic: how many values one data-key version may
// encrypt, how counts are reserved durably, and when to ask for a rotation.
//
// With random 96-bit nonces one AES-GCM key may encrypt at most 2^32 values
// (NIST SP 800-38D).  colcrypt.nonce_budget sets where a keyring rotates
// itself; encryption is refused at twice that, and never past
// kAbsoluteLimit, whatever the budget says.  Counts are made durable ahead
// of use in blocks, so a crash over-counts by at most one block, never
// under-counts.  The PostgreSQL layer (pg/state/nonce_counters) keeps the
// counts in shared memory and the reservations in a file.
#pragma once

#include <cstdint>

namespace colcrypt::core {

class NonceBudget {
public:
    // Refused past this whatever the budget: 2^32 minus a margin of 2^24.
    static constexpr std::uint64_t kAbsoluteLimit = (std::uint64_t{1} << 32) - (std::uint64_t{1} << 24);
    // Largest reservation block, so that a crash over-counts little.
    static constexpr std::uint64_t kMaxReservationBlock = 100000;

    // budget: colcrypt.nonce_budget, at least 1.
    explicit NonceBudget(std::uint64_t budget) noexcept : budget_(budget > 0 ? budget : 1) {}

    std::uint64_t budget() const noexcept { return budget_; }

    // The last encryption allowed: twice the budget, at most kAbsoluteLimit.
    std::uint64_t hard_limit() const noexcept;

    // Encryption number n (counted from 1) reached the budget: time to rotate.
    bool reached(std::uint64_t n) const noexcept { return n >= budget_; }
    // Encryption number n must be refused.
    bool refuses(std::uint64_t n) const noexcept { return n > hard_limit(); }

    // Encryptions reserved per write of the counter file: budget / 16, at
    // least 1 and at most kMaxReservationBlock.
    std::uint64_t reservation_block() const noexcept;
    // What to reserve when the count has reached count: it plus one block.
    std::uint64_t next_reservation(std::uint64_t count) const noexcept { return count + reservation_block(); }

    // Encryptions between two rotation requests for one version: a request
    // whose worker ended without rotating (another rotation won, say) is
    // made again only after this many more encryptions under the version.
    std::uint64_t request_interval() const noexcept;

    // Whether encryption number n (past the budget) should ask for a
    // rotation: not while an earlier request is still waiting or running,
    // and not again until request_interval() encryptions after the last
    // one (last_request: the count when it was made, 0 for none).
    bool should_request_rotation(std::uint64_t n, std::uint64_t last_request, bool request_pending) const noexcept;

private:
    std::uint64_t budget_;
};

}  // namespace colcrypt::core
