// Rotating every keyring after a promotion or a point-in-time recovery.
//
// The nonce counters are not WAL-logged (state/timeline_record.hpp): a
// promoted standby's counts are those of its base backup, lower than what
// the old primary encrypted since under the same versions.  So when the
// launcher starts on a newer timeline than the one recorded, a worker per
// database rotates every keyring that has an active data key (audited as
// auto_rotate, "after the promotion to timeline N"); new values go under
// versions that only this server has used, counted from zero.  Values
// already written stay readable, and need no re-encryption.
#pragma once

#include "colcrypt/pg/state/worker_requests.hpp"

namespace colcrypt::pg {

// The launcher's start: compare the timelines; post the rotations (or
// record the timeline when there is no record yet).
void post_promotion_rotations();

// The launcher's loop: post what did not fit in the request table, and
// once every rotation has finished, record the timeline (a restart before
// that rotates again, which is harmless).
void finish_promotion_rotations();

// A database worker's task rotate_after_promotion; request.version is the
// new timeline.
void rotate_keyrings_after_promotion(const WorkerRequest &request);

}  // namespace colcrypt::pg
