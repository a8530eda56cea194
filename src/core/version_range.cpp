// Version ranges of keyrings shared between clusters.  See
// include/colcrypt/core/version_range.hpp.
#include "colcrypt/core/version_range.hpp"

#include "colcrypt/core/cpp_only.hpp"

namespace colcrypt::core {

std::optional<VersionRange> reserve_transfer_range(VersionRange range, std::int32_t latest_in_range) {
    if (range.start < 1 || range.end <= range.start) {
        return std::nullopt;
    }
    const std::int32_t share = (range.end - range.start) / kTransferRangeShare;
    if (share < kMinTransferRange) {
        return std::nullopt;
    }
    const VersionRange block{range.end - share, range.end};
    if (latest_in_range >= block.start) {
        return std::nullopt;
    }
    return block;
}

std::optional<std::int32_t> next_local_version(VersionRange range, std::int32_t latest_in_range) {
    const std::int32_t next = latest_in_range < range.start ? range.start : latest_in_range + 1;
    if (next < range.start || next >= range.end) {
        return std::nullopt;
    }
    return next;
}

}  // namespace colcrypt::core
