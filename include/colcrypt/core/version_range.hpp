// The data-key versions a cluster may make for a keyring, so that clusters
// holding one keyring never make the same (keyring id, version) with
// different keys (docs/design/keyring-transfer.md).  A range is
// [start, end); a keyring made by create_key has kFullVersionRange.
#pragma once

#include <cstdint>
#include <optional>

namespace colcrypt::core {

struct VersionRange {
    std::int32_t start;
    std::int32_t end;  // exclusive
};

constexpr VersionRange kFullVersionRange{1, 2147483647};

// An export takes the top 1/kTransferRangeShare of the exporter's range.
constexpr std::int32_t kTransferRangeShare = 1024;
constexpr std::int32_t kMinTransferRange = 2;

// The block to reserve for a recipient out of `range`, given the highest
// version this cluster made inside it (0: none); the exporter's range
// becomes [range.start, block.start).  Empty when the range is too small
// or the block would hold a version already made.
std::optional<VersionRange> reserve_transfer_range(VersionRange range, std::int32_t latest_in_range);

// The next version to make in range after latest_in_range (0: none made
// yet); empty when the range is full.
std::optional<std::int32_t> next_local_version(VersionRange range, std::int32_t latest_in_range);

}  // namespace colcrypt::core
