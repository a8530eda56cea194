// colcrypt's shared memory: the nonce counters, the table of worker
// requests and the usage statistics, each in a named struct of its own with a lock of its own (one
// LWLock tranche, "colcrypt").  Requested and initialised through the
// shmem hooks, chained with those of other extensions.
#pragma once

namespace colcrypt::pg {

// Install the hooks; only while shared_preload_libraries is processed.
void install_shared_memory_hooks();

}  // namespace colcrypt::pg
