// Encryption counters per data-key version: the nonce budget, enforced.
//
// colcrypt counts encryptions per (database, keyring, version) in shared
// memory, one atomic add per value.  The count is made durable ahead of
// use: a backend reserves a block of encryptions in the counter file
// (state/counter_file.hpp) before it uses any of them, and a restart
// resumes every counter at the end of its last reservation.  A crash may
// therefore over-count by up to one block per version, never under-count.
// The arithmetic (blocks, limits, when to ask again) is core::NonceBudget.
//
// When a version reaches colcrypt.nonce_budget, the encrypting backend asks
// the launcher for a rotation of the keyring (it cannot write the key tables
// in the middle of the caller's transaction, and it starts no worker
// itself: state/worker_requests.hpp) and keeps encrypting; at the hard limit
// encryption refuses.
#pragma once

#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "storage/lwlock.h"
}

namespace colcrypt::pg {

// Shared memory (state/shared_memory.cpp), for colcrypt.max_key_versions
// counters.  Init loads the counter file (in the postmaster, at startup).
std::size_t nonce_counters_shmem_size();
void nonce_counters_shmem_init(void *memory, bool found, LWLock *lock);

// Count one encryption under (this database, keyring, version) before it
// happens: reserves durably, asks for a rotation at the budget and refuses
// at the hard limit (ERROR).  keyring_name is for messages.  Nothing is
// counted when colcrypt was not preloaded (then no master key is loaded
// either, and nothing encrypts).
void count_encryption(std::uint32_t keyring_id, std::uint32_t version, const char *keyring_name);

// Forget the counter of a retired version when the transaction commits
// (not when the savepoint it was called in rolls back; PREPARE TRANSACTION
// is refused).
void release_nonce_counter_at_commit(std::uint32_t keyring_id, std::uint32_t version);

// Rewrite the counter file without the counters freed since it was last
// written, so a restart does not take their slots again.  Run by the
// launcher, which released backends wake; nothing to do most of the time.
void persist_released_counters();

// This database's counters, for colcrypt._nonce_counters(): palloc'd, *count.
struct NonceCount {
    std::uint32_t keyring_id;
    std::uint32_t version;
    std::uint64_t encryptions;
};
NonceCount *nonce_counts(int *count);

}  // namespace colcrypt::pg
