// The dynamic background worker that does one request's work in its
// database, started by the launcher.  Its tasks: rotate a keyring whose
// active data-key version reached its nonce budget; run the database's
// re-encryption jobs (worker/reencrypt_loop.hpp).
#pragma once

#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"
#include "colcrypt/pg/state/worker_requests.hpp"

extern "C" {
#include "postmaster/bgworker.h"
}

namespace colcrypt::pg {

// Register a worker for the request in slot (generation); it reports its
// start and exit to the calling process's latch.  nullptr when no
// background worker slot is free.
BackgroundWorkerHandle *start_database_worker(const WorkerRequest &request, int slot, std::uint32_t generation);

}  // namespace colcrypt::pg
