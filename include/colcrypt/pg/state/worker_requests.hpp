// Requests for background work, posted by backends to the launcher.
//
// A backend never starts a background worker itself: it posts a request to
// this table in shared memory and sets the launcher's latch.  The launcher
// (worker/launcher.cpp), the one worker registered from _PG_init, starts a
// dynamic worker in the request's database for each pending request; that
// worker claims the request, does the work and finishes it.  A request is
// in the table from the moment it is posted until its worker exits, so the
// same work is never asked for twice at once.
//
// A slot moves free -> pending (posted) -> starting (launcher registered a
// worker) -> running (the worker claimed it) -> free (the worker exited).
// A worker that never started puts its request back to pending (the
// launcher notices through its handle).  Requests live in shared memory
// only: a restart forgets them, and the backends that need the work post
// again.
#pragma once

#include <cstdint>

#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "storage/latch.h"
#include "storage/lwlock.h"
}

namespace colcrypt::pg {

enum class WorkerTask : std::uint32_t {
    rotate_keyring = 1,  // a data-key version reached its nonce budget
    reencrypt = 2,       // re-encryption jobs of a database (keyring and version 0)
    rotate_after_promotion = 3,  // every keyring of a database; version: the new timeline
};

struct WorkerRequest {
    WorkerTask task;
    Oid database;
    std::uint32_t keyring_id;
    std::uint32_t version;
    std::uint64_t count;  // encryptions when it was posted, for the log
};

constexpr int kMaxWorkerRequests = 64;

// Shared memory (state/shared_memory.cpp).
std::size_t worker_requests_shmem_size();
void worker_requests_shmem_init(void *memory, bool found, LWLock *lock);

// --- backends -------------------------------------------------------------

// Whether the same task for the same (database, keyring, version) is
// already in the table (pending, starting or running).
bool worker_request_in_table(const WorkerRequest &request);

enum class PostResult { posted, already_there, table_full, no_shared_memory };
// Post a request and wake the launcher.
PostResult post_worker_request(const WorkerRequest &request);

// Whether any request of this task is in the table.
bool task_in_table(WorkerTask task);

// Set the launcher's latch: it has other work than requests (the counter
// file after releases, state/nonce_counters.hpp).
void wake_launcher();

// --- the launcher ----------------------------------------------------------

// The launcher's latch, set by every post (nullptr: no launcher running).
void set_launcher_latch(Latch *latch);

// Whether the launcher has set its latch and not cleared it on exit
// (colcrypt.health()).
bool launcher_is_running();

// At the launcher's start: requests a previous launcher registered workers
// for are pending again, since the handles that would tell whether those
// workers ever started died with it.  A worker that does start still
// claims its request; a second one started for it finds it claimed.
void recover_starting_requests();

// The next pending request at or after slot `from`: its slot (or -1), with
// its request and generation.
int next_pending_request(int from, WorkerRequest *request, std::uint32_t *generation);
// The launcher registered a worker for it.
void mark_request_starting(int slot, std::uint32_t generation);
// A worker for it stopped without claiming it: pending again.  A running
// request whose worker vanished without finishing it is freed.
void request_worker_stopped(int slot, std::uint32_t generation);

// --- the worker --------------------------------------------------------------

// Take the request of (slot, generation) as this process's; false when it
// is no longer there.
bool claim_request(int slot, std::uint32_t generation, WorkerRequest *request);
// Free the slot (at the worker's exit, however it ends).
void finish_request(int slot, std::uint32_t generation);

}  // namespace colcrypt::pg
