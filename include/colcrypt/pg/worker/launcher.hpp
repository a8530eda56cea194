// The launcher: colcrypt's one background worker registered from _PG_init.
//
// It waits on its latch for requests that backends post to shared memory
// (state/worker_requests.hpp) and starts a dynamic worker in the request's
// database for each (worker/database_worker.cpp).  Backends never start
// workers themselves.  It starts when recovery has finished, so it never
// runs on a standby, and starts after a promotion.
#pragma once

namespace colcrypt::pg {

// Register the launcher; only while shared_preload_libraries is processed.
void register_launcher();

}  // namespace colcrypt::pg
