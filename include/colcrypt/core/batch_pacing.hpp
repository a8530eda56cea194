// How long the re-encryption worker pauses after a batch
// (docs/design/reencryption.md, section 6): long enough that its own CPU
// time stays within a share of one CPU, whatever else the machine runs, and
// never shorter than a fixed pause.
//
// A fixed pause alone gives a rate that falls with the foreground's load
// (each batch takes longer on a busy machine, and the pause is added to
// it) and a CPU share that depends on the batch's length.  Pacing by the
// batch's CPU time holds the share: on an idle machine the worker does
// `cpu_percent` of its unthrottled work, and on a busy one it takes no more
// CPU than that from the applications.
#pragma once

#include <cstdint>

namespace colcrypt::core {

// Microseconds to pause after a batch that used cpu_us of CPU time (the
// worker process's user and system time) over wall_us of wall-clock time.
// cpu_percent in [1, 100]; 100 paces by min_pause_us alone.
std::int64_t pause_after_batch_us(std::int64_t cpu_us, std::int64_t wall_us, int cpu_percent,
                                  std::int64_t min_pause_us);

}  // namespace colcrypt::core
