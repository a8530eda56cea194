// The re-encryption worker's pacing.  See include/colcrypt/core/batch_pacing.hpp.
#include "colcrypt/core/batch_pacing.hpp"

#include <algorithm>

namespace colcrypt::core {

std::int64_t pause_after_batch_us(std::int64_t cpu_us, std::int64_t wall_us, int cpu_percent,
                                  std::int64_t min_pause_us) {
    cpu_percent = std::clamp(cpu_percent, 1, 100);
    cpu_us = std::max<std::int64_t>(cpu_us, 0);
    wall_us = std::max<std::int64_t>(wall_us, 0);
    min_pause_us = std::max<std::int64_t>(min_pause_us, 0);
    // The batch and its pause together last cpu_us * 100 / cpu_percent.
    const std::int64_t period = cpu_us * 100 / cpu_percent;
    return std::max(min_pause_us, period - wall_us);
}

}  // namespace colcrypt::core
