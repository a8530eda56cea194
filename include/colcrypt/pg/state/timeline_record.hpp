// The timeline this server's nonce counters were last known to be right
// on, in pg_colcrypt/timeline.
//
// The counter file is not WAL-logged: a standby has its base backup's
// copy, so after a promotion (or a point-in-time recovery, which also
// starts a new timeline) it would count too low for every version the
// primary kept using.  The launcher compares this record with the current
// timeline at its start; a newer timeline means every keyring's active
// version is rotated before its counts are trusted again
// (worker/promotion_rotation.hpp).  Why rotation rather than WAL-logging
// each reservation: docs/keys.md, "Nonce budget".
#pragma once

#include <cstdint>

namespace colcrypt::pg {

// The recorded timeline into *timeline; false when there is no record
// (or it cannot be read: then nothing is rotated, and it is written anew).
bool read_recorded_timeline(std::uint32_t *timeline);

// Record timeline, durably (written to a temporary file, fsynced, renamed).
void record_timeline(std::uint32_t timeline);

}  // namespace colcrypt::pg
