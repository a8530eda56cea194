// Asking the launcher for a re-encryption worker in this database.
//
// A job queued in a transaction is invisible to a worker until that
// transaction commits, so the request is posted at commit (nothing is
// posted when the transaction aborts).  docs/design/reencryption.md.
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"

namespace colcrypt::pg {

// Post a re-encryption request for MyDatabaseId when the current
// transaction commits.
void request_reencrypt_worker_at_commit();

// Post it now (a worker that found more work after freeing its request).
void request_reencrypt_worker(Oid database);

}  // namespace colcrypt::pg
