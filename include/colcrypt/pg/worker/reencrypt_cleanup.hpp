// The cleanup after a finished re-encryption task (docs/design/reencryption.md,
// section 4): VACUUM (ANALYZE) of its table, REINDEX INDEX CONCURRENTLY of
// the indexes that still hold envelopes under an old version, and retire_key's
// physical scan of the table to decide that the task is done.
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

enum class CleanupResult {
    worked,   // a task was cleaned up (done, sent back to running, or to be tried again)
    waiting,  // tasks wait for a later attempt: *wait_ms until the first is due
    nothing,  // no task waits for a cleanup
};

// Clean up the next task whose attempt is due.  In a worker connected to
// its database, outside any transaction: VACUUM and REINDEX CONCURRENTLY
// run their own transactions.
CleanupResult clean_up_next_task(long *wait_ms);

}  // namespace colcrypt::pg
