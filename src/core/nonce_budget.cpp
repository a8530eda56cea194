// The nonce budget's arithmetic.
#include "colcrypt/core/nonce_budget.hpp"

#include <algorithm>

#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {

std::uint64_t NonceBudget::hard_limit() const noexcept {
    // budget_ < 2^63 in practice (a GUC is an int), so doubling cannot wrap.
    return std::min(2 * budget_, kAbsoluteLimit);
}

std::uint64_t NonceBudget::reservation_block() const noexcept {
    return std::max<std::uint64_t>(1, std::min(kMaxReservationBlock, budget_ / 16));
}

std::uint64_t NonceBudget::request_interval() const noexcept {
    return std::max<std::uint64_t>(1, budget_ / 16);
}

bool NonceBudget::should_request_rotation(std::uint64_t n, std::uint64_t last_request,
                                          bool request_pending) const noexcept {
    if (!reached(n) || request_pending) {
        return false;
    }
    return last_request == 0 || n >= last_request + request_interval();
}

}  // namespace colcrypt::core
