// The re-encryption loop of a database worker (docs/design/reencryption.md,
// section 6): one transaction per batch (colcrypt._reencrypt_step), a
// latch wait of colcrypt.reencrypt_naptime between batches, the
// configuration reloaded on SIGHUP, the cleanup of finished tables
// (worker/reencrypt_cleanup), and an end when colcrypt.reencrypt_worker is
// off or no task is queued, running or due for a cleanup.
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

// Run batches until nothing is left; in a worker connected to its database.
void run_reencrypt_loop();

// Whether a task is queued or running (a worker that freed its request
// asks again when so).  Starts and ends its own transaction.
bool reencrypt_work_left();

// The launcher's start: one re-encryption request per database that
// allows connections, so that jobs resume after a restart or a promotion.
// Databases whose request could not be posted (table full) are tried again
// at the next call.
void post_reencrypt_checks(bool first);

}  // namespace colcrypt::pg
